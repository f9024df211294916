package asm

import (
	"math"

	"github.com/mmcloughlin/avo/operand"

	"github.com/acgen/acgen/act"
	"github.com/acgen/acgen/spec"
)

// GELU's vector code. Both forms are x*phi(x), and phi(x) is q or 1-q by
// x's sign, q = phi(-|x|) a tail probability computed to float32's
// relative accuracy wherever it is above 2^-100 (as the accuracy test
// demands; PyTorch's own float32 1 + erf and 1 + tanh cancel there):
//
//   - exact: q = Phi(-a) = e^(-a^2/2) S(a), S(a) = erfcx(a/sqrt 2)/2
//     (erfc through exp), a = |x|. S is a rational function P(a)/Q(a)
//     of degrees 4 and 5, a fit of ours (relative error 1e-8 on [0, 12]
//     with the float32 coefficients below, TestGELUFit; beyond 12 the
//     output is below 2^-100). e^(-a^2/2) needs a^2 exactly (its
//     rounding error times a^2/2 = 70 would be 4e-6): a^2 = h + l by an
//     FMA, and e^(-a^2/2) = e^(-h/4)^2 (1 - l/2), squared so that a up
//     to 18 stays in exp's range and larger a gives 0.
//   - tanh: q = sigmoid(-2u) = E/(1+E), E = e^(-2u(a)), 2u(a) =
//     a (c1 + c2 a^2) with c1 = 2 sqrt(2/pi), c2 = 0.044715 c1, computed
//     in double float32 (hi + lo: products by FMA, the sum by Knuth's
//     TwoSum, c1 and c2 split in two) for the same reason; E =
//     e^(-2u_hi/2)^2 (1 - 2u_lo).
//
// Measured against float64 over every binade and [-30, 30]
// (tests/act_accuracy_test.go): within 4e-7 relative for either form, by
// a float32 simulation when written.

// geluP and geluQ are S's numerator and denominator, constant term first.
var (
	geluP = []float32{0.5, 0.4324074387550354, 0.17890214920043945, 0.0391797199845314, 0.0039021822158247232}
	geluQ = []float32{1.0, 1.6626996994018555, 1.1844433546066284, 0.45803579688072205, 0.0982176885008812, 0.009781142696738243}
)

// Clamps of a = |x|: past them q is below 2^-100 and its exp's input
// halved stays in range (81 and 87).
const (
	geluClampErf  = 18
	geluClampTanh = 12.9
)

// Entries of GELU's constant table.
const (
	gAbs     = iota // 0x7fffffff: |x|
	gQuarter        // 0.25
	gMinusHalf
	gHalf
	gC1Hi
	gC1Lo
	gC2Hi
	gC2Lo
	gP // P's coefficients, then Q's
	gQ = gP + 5
)

var geluCode = actCode{
	consts: func(p float32) []float32 {
		c := []float32{0, geluClampErf} // k[0] is a temporary
		if p == act.GELUTanh {
			c[1] = geluClampTanh
		}
		return append(c, expConsts(0, 0)[2:]...) // exp's constants at k[2:], as expNeg wants
	},
	table: geluTable(),
	apply: func(e *vecEmitter, v, k vecs, x operand.Mem, p float32) {
		if p == act.GELUTanh {
			e.geluTanhTail(v, k)
		} else {
			e.geluErfTail(v, k, x)
		}
		e.geluFinish(v, k, x)
	},
}

func init() { actCodes[spec.GELU] = geluCode }

func geluTable() []float32 {
	split := func(c float64) (float32, float32) { hi := float32(c); return hi, float32(c - float64(hi)) }
	c1 := 2 * math.Sqrt(2/math.Pi)
	c1hi, c1lo := split(c1)
	c2hi, c2lo := split(0.044715 * c1)
	t := []float32{math.Float32frombits(0x7fffffff), 0.25, -0.5, 0.5, c1hi, c1lo, c2hi, c2lo}
	return append(append(t, geluP...), geluQ...)
}

// absClamped sets dst = min(|v|, k[1]), keeping NaN.
func (e *vecEmitter) absClamped(v, k vecs, dst int) {
	e.and(e.tab(gAbs), v[dst], v[dst])
	e.ctx.VMINPS(v[dst], k[1], v[dst])
}

// geluErfTail sets v0 = Phi(-|x|) for x in v0, using v1..v3 and k[0].
func (e *vecEmitter) geluErfTail(v, k vecs, x operand.Mem) {
	ctx := e.ctx
	e.absClamped(v, k, 0)                           // a
	ctx.VMULPS(v[0], v[0], v[1])                    // h = a*a rounded
	ctx.VMOVAPS(v[1], k[0])                         //
	ctx.VFMSUB231PS(v[0], v[0], k[0])               // l = a*a - h, exactly
	ctx.VFMADD132PS(e.tab(gMinusHalf), k[10], k[0]) // 1 - l/2
	ctx.VMULPS(e.tab(gQuarter), v[1], v[0])
	e.expNeg(v, k, false) // e^(-h/4)
	ctx.VMULPS(v[0], v[0], v[0])
	ctx.VMULPS(k[0], v[0], v[0]) // e^(-a^2/2)
	ctx.VMOVUPS(x, v[1])
	e.absClamped(v, k, 1) // a again
	ctx.VMOVUPS(e.tab(gP+len(geluP)-1), v[2])
	for i := len(geluP) - 2; i >= 0; i-- {
		ctx.VFMADD213PS(e.tab(gP+i), v[1], v[2])
	}
	ctx.VMOVUPS(e.tab(gQ+len(geluQ)-1), v[3])
	for i := len(geluQ) - 2; i >= 0; i-- {
		ctx.VFMADD213PS(e.tab(gQ+i), v[1], v[3])
	}
	ctx.VDIVPS(v[3], v[2], v[2]) // S(a)
	ctx.VMULPS(v[2], v[0], v[0])
}

// geluTanhTail sets v0 = sigmoid(-2u(|x|)) for x in v0, using v1..v3 and
// k[0].
func (e *vecEmitter) geluTanhTail(v, k vecs) {
	ctx := e.ctx
	e.absClamped(v, k, 0)                // a
	ctx.VMULPS(v[0], v[0], v[1])         // h
	ctx.VMOVAPS(v[1], v[2])              //
	ctx.VFMSUB231PS(v[0], v[0], v[2])    // hl: a^2 = h + hl
	ctx.VMULPS(e.tab(gC2Hi), v[1], v[3]) // p = c2hi h rounded
	ctx.VMOVAPS(v[3], k[0])
	ctx.VFMSUB231PS(e.tab(gC2Hi), v[1], k[0]) // c2hi h - p
	ctx.VFMADD231PS(e.tab(gC2Hi), v[2], k[0]) // + c2hi hl
	ctx.VFMADD231PS(e.tab(gC2Lo), v[1], k[0]) // + c2lo h: the low part of c2 a^2
	// TwoSum: s + err = c1hi + p exactly.
	ctx.VADDPS(e.tab(gC1Hi), v[3], v[1]) // s
	ctx.VSUBPS(e.tab(gC1Hi), v[1], v[2]) // bb = s - c1hi
	ctx.VSUBPS(v[2], v[3], v[3])         // p - bb
	ctx.VSUBPS(v[2], v[1], v[2])         // s - bb
	ctx.VSUBPS(e.tab(gC1Hi), v[2], v[2]) // (s - bb) - c1hi = -(c1hi - (s - bb))
	ctx.VSUBPS(v[2], v[3], v[3])         // err
	ctx.VADDPS(k[0], v[3], v[3])
	ctx.VADDPS(e.tab(gC1Lo), v[3], v[3]) // t = s + v3 = c1 + c2 a^2
	ctx.VMULPS(v[1], v[0], v[2])         // zh = a s
	ctx.VMOVAPS(v[2], k[0])
	ctx.VFMSUB231PS(v[1], v[0], k[0]) // a s - zh
	ctx.VFMADD231PS(v[3], v[0], k[0]) // zl = that + a t_lo: 2u = zh + zl
	ctx.VMULPS(e.tab(gHalf), v[2], v[0])
	e.expNeg(v, k, false) // e^(-zh/2)
	ctx.VMULPS(v[0], v[0], v[0])
	ctx.VSUBPS(k[0], k[10], v[1]) // 1 - zl
	ctx.VMULPS(v[1], v[0], v[0])  // E = e^(-2u)
	ctx.VADDPS(k[10], v[0], v[1])
	ctx.VDIVPS(v[1], v[0], v[0]) // E/(1+E)
}

// geluFinish sets v0 = x*phi(x), phi(x) = q below 0 (x's sign bit set,
// -0 included) else 1-q, for q = phi(-|x|) in v0: a select by the sign
// bit, one instruction where AVX2 has VBLENDVPS (which reads the sign
// bit itself) and AVX-512 VPTERNLOGD (of a mask made by shifting it),
// where an AND, an AND-NOT and an OR took three.
func (e *vecEmitter) geluFinish(v, k vecs, x operand.Mem) {
	ctx := e.ctx
	ctx.VMOVUPS(x, v[1])
	ctx.VSUBPS(v[0], k[10], v[2]) // 1 - q
	if e.zmm {
		ctx.VPSRAD(operand.U8(31), v[1], v[1])             // all ones where x < 0
		ctx.VPTERNLOGD(operand.U8(0xca), v[2], v[0], v[1]) // v1 ? q : 1 - q
		ctx.VMULPS(x, v[1], v[0])
		return
	}
	ctx.VBLENDVPS(v[1], v[0], v[2], v[0]) // q where x's sign bit is set, else 1 - q
	ctx.VMULPS(x, v[0], v[0])
}
