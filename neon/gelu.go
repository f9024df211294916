package neon

import (
	"math"

	"github.com/acgen/acgen/act"
	"github.com/acgen/acgen/internal/a64"
	"github.com/acgen/acgen/spec"
)

// GELU's vector code: package asm's (asm/gelu.go has the derivation),
// FMA for FMA, so that both give the same bits. Both forms are x*phi(x),
// phi(x) = q or 1-q by x's sign, q = phi(-|x|) computed to float32's
// relative accuracy down to 2^-100: the exact form as e^(-a^2/2) S(a),
// S a rational fit of erfcx, with a^2 in two parts; the tanh form as
// sigmoid(-2u(a)) with 2u in double float32.
//
// Where amd64 reads a dozen constants from a table in memory, NEON
// keeps them all in registers (24 for the exact form, 16 for tanh, of
// the 26 the second pass has), and holds in v5 what amd64 holds in its
// k[0] temporary across exp. x86's FMSUB (a*b - c) becomes FNEG and
// FMLA (a*b + -c) where its result is wanted, and FMLS (c - a*b) where
// only its negation is: both round the same real number once.

// geluP and geluQ are S's numerator and denominator, constant term
// first (asm's geluP and geluQ; TestGELUFit there checks the fit).
var (
	geluP = []float32{0.5, 0.4324074387550354, 0.17890214920043945, 0.0391797199845314, 0.0039021822158247232}
	geluQ = []float32{1.0, 1.6626996994018555, 1.1844433546066284, 0.45803579688072205, 0.0982176885008812, 0.009781142696738243}
)

// Clamps of a = |x| (asm's): past them q is below 2^-100, and exp's
// input stays in range.
const (
	geluClampErf  = 18
	geluClampTanh = 12.9
)

// The registers of GELU's constants. k[0] is the exact form's 1/4 and
// the tanh form's 1/2; k[1] the clamp; k[2:12] exp's (expConsts: k[10]
// is 1); then each form's own.
const (
	gClamp = 1
	gOne   = 10
	gHalf  = 12 // exact: 1/2, for 1 - l/2
	gP     = 13 // exact: P's coefficients, then Q's
	gQ     = gP + 5
	gC1Hi  = 12 // tanh: c1 and c2 in two parts each
	gC1Lo  = 13
	gC2Hi  = 14
	gC2Lo  = 15
)

var geluCode = actCode{
	consts: func(p float32) []float32 {
		exp := expConsts(0, 0)[2:]
		if p == act.GELUTanh {
			split := func(c float64) (float32, float32) { hi := float32(c); return hi, float32(c - float64(hi)) }
			c1 := 2 * math.Sqrt(2/math.Pi)
			c1hi, c1lo := split(c1)
			c2hi, c2lo := split(0.044715 * c1)
			return append(append([]float32{0.5, geluClampTanh}, exp...), c1hi, c1lo, c2hi, c2lo)
		}
		c := append(append([]float32{0.25, geluClampErf}, exp...), 0.5)
		return append(append(c, geluP...), geluQ...)
	},
	apply: func(fn *a64.Func, v, k []a64.Vec, x a64.Mem, p float32) {
		if p == act.GELUTanh {
			geluTanhTail(fn, v, k)
		} else {
			geluErfTail(fn, v, k, x)
		}
		geluFinish(fn, v, k, x)
	},
}

func init() { actCodes[spec.GELU] = geluCode }

// vmov copies a vector register.
func vmov(fn *a64.Func, src, dst a64.Vec) { fn.VMOV(src.V.B16(), dst.V.B16()) }

// absClamped sets d = min(|d|, k[1]), keeping NaN.
func absClamped(fn *a64.Func, k []a64.Vec, d a64.Vec) {
	fn.VFABS(d, d)
	fn.VFMIN(k[gClamp], d, d)
}

// horner evaluates the polynomial of coefficients c (constant term
// first) at x, alternating the registers a and b (p = p*x + c[i], one
// FMA each, as asm's VFMADD213PS), and returns the one holding it.
func horner(fn *a64.Func, c []a64.Vec, x, a, b a64.Vec) a64.Vec {
	vmov(fn, c[len(c)-1], a)
	for i := len(c) - 2; i >= 0; i-- {
		vmov(fn, c[i], b)
		fn.VFMLA(x, a, b)
		a, b = b, a
	}
	return a
}

// geluErfTail sets v0 = Phi(-|x|) for x in v0, using v1 to v5.
func geluErfTail(fn *a64.Func, v, k []a64.Vec, x a64.Mem) {
	absClamped(fn, k, v[0])        // a
	fn.VFMUL(v[0], v[0], v[1])     // h = a*a rounded
	vmov(fn, k[gOne], v[5])        //
	vmov(fn, v[1], v[2])           //
	fn.VFMLS(v[0], v[0], v[2])     // h - a*a = -l, exactly
	fn.VFMLA(k[gHalf], v[2], v[5]) // 1 + (-l)/2
	fn.VFMUL(k[0], v[1], v[0])     // h/4
	expNeg(fn, v, k, false)        // e^(-h/4)
	fn.VFMUL(v[0], v[0], v[0])
	fn.VFMUL(v[5], v[0], v[0]) // e^(-a^2/2)
	fn.FMOVQ(x, v[1].V)
	absClamped(fn, k, v[1]) // a again
	num := horner(fn, k[gP:gP+len(geluP)], v[1], v[2], v[4])
	den := horner(fn, k[gQ:gQ+len(geluQ)], v[1], v[3], v[5])
	fn.VFDIV(den, num, num) // S(a)
	fn.VFMUL(num, v[0], v[0])
}

// geluTanhTail sets v0 = sigmoid(-2u(|x|)) for x in v0, using v1 to v5.
func geluTanhTail(fn *a64.Func, v, k []a64.Vec) {
	absClamped(fn, k, v[0])        // a
	fn.VFMUL(v[0], v[0], v[1])     // h
	fn.VFNEG(v[1], v[2])           //
	fn.VFMLA(v[0], v[0], v[2])     // hl: a^2 = h + hl
	fn.VFMUL(k[gC2Hi], v[1], v[3]) // p = c2hi h rounded
	fn.VFNEG(v[3], v[5])           //
	fn.VFMLA(k[gC2Hi], v[1], v[5]) // c2hi h - p
	fn.VFMLA(k[gC2Hi], v[2], v[5]) // + c2hi hl
	fn.VFMLA(k[gC2Lo], v[1], v[5]) // + c2lo h: the low part of c2 a^2
	// TwoSum: s + err = c1hi + p exactly.
	fn.VFADD(k[gC1Hi], v[3], v[1]) // s
	fn.VFSUB(k[gC1Hi], v[1], v[2]) // bb = s - c1hi
	fn.VFSUB(v[2], v[3], v[3])     // p - bb
	fn.VFSUB(v[2], v[1], v[2])     // s - bb
	fn.VFSUB(k[gC1Hi], v[2], v[2]) // (s - bb) - c1hi
	fn.VFSUB(v[2], v[3], v[3])     // err
	fn.VFADD(v[5], v[3], v[3])
	fn.VFADD(k[gC1Lo], v[3], v[3]) // t = s + v3 = c1 + c2 a^2
	fn.VFMUL(v[1], v[0], v[2])     // zh = a s
	fn.VFNEG(v[2], v[5])           //
	fn.VFMLA(v[1], v[0], v[5])     // a s - zh
	fn.VFMLA(v[3], v[0], v[5])     // zl = that + a t_lo: 2u = zh + zl
	fn.VFMUL(k[0], v[2], v[0])     // zh/2
	expNeg(fn, v, k, false)        // e^(-zh/2)
	fn.VFMUL(v[0], v[0], v[0])
	fn.VFSUB(v[5], k[gOne], v[1]) // 1 - zl
	fn.VFMUL(v[1], v[0], v[0])    // E = e^(-2u)
	fn.VFADD(k[gOne], v[0], v[1])
	fn.VFDIV(v[1], v[0], v[0]) // E/(1+E)
}

// geluFinish sets v0 = x*phi(x), phi(x) = q where x's sign bit is set
// (-0 included) else 1-q, for q = phi(-|x|) in v0.
func geluFinish(fn *a64.Func, v, k []a64.Vec, x a64.Mem) {
	fn.FMOVQ(x, v[3].V)
	fn.VSSHR(31, v[3], v[1])                          // all ones where x < 0
	fn.VFSUB(v[0], k[gOne], v[2])                     // 1 - q
	fn.VBSL(v[2].V.B16(), v[0].V.B16(), v[1].V.B16()) // q where the mask is set, else 1 - q
	fn.VFMUL(v[3], v[1], v[0])
}
