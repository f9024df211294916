package neon

import (
	"fmt"
	"math"

	"github.com/acgen/acgen/internal/a64"
	"github.com/acgen/acgen/spec"
)

// The vector code of the activations that are not clamps (package act
// has the table; plan.Act.Clamp the split), as package asm has it for
// amd64 and with the same arithmetic: each FMA here is the one there
// (FMLA and FMLS round once, as VFMADD does), so both give the same
// bits. A kernel's epilogue stores its accumulators first and then makes
// this second pass over the outputs it just wrote, still in L1, with
// every register free.

// actCode is one activation's vector code: the constants it keeps in
// registers, and apply, which computes v[0] = f(v[0]) with temporaries
// v[1:6] and the constants k, reading x, the value before activation,
// from memory where it needs it again; p is the activation's parameter.
type actCode struct {
	consts func(p float32) []float32
	apply  func(fn *a64.Func, v, k []a64.Vec, x a64.Mem, p float32)
}

// actCodes is keyed by the op of each row of the act table that is not a
// clamp. TestActCodes checks that every such row has one.
var actCodes = map[spec.Op]actCode{
	spec.LeakyReLU: {
		consts: func(p float32) []float32 { return []float32{p} },
		apply: func(fn *a64.Func, v, k []a64.Vec, _ a64.Mem, p float32) {
			fn.VFMUL(k[0], v[0], v[1])
			if p <= 1 { // max(x, px) is x for x >= 0 and px below; NaN stays
				fn.VFMAX(v[1], v[0], v[0])
			} else {
				fn.VFMIN(v[1], v[0], v[0])
			}
		},
	},
	spec.Hardswish: {
		consts: func(float32) []float32 { return []float32{3, 0, 6} },
		apply: func(fn *a64.Func, v, k []a64.Vec, _ a64.Mem, _ float32) {
			clamp3(fn, v[0], v[1], k) // v1 = min(max(x+3, 0), 6)
			fn.VFMUL(v[1], v[0], v[0])
			fn.VFDIV(k[2], v[0], v[0]) // x*clamp/6, PyTorch's order
		},
	},
	spec.Hardsigmoid: {
		consts: func(float32) []float32 { return []float32{3, 0, 6} },
		apply: func(fn *a64.Func, v, k []a64.Vec, _ a64.Mem, _ float32) {
			clamp3(fn, v[0], v[1], k)
			fn.VFDIV(k[2], v[1], v[0])
		},
	},
	spec.Sigmoid: {
		consts: func(float32) []float32 { return sigmoidConsts() },
		apply: func(fn *a64.Func, v, k []a64.Vec, _ a64.Mem, _ float32) {
			sigmoid(fn, v, k)
		},
	},
	spec.SiLU: {
		consts: func(float32) []float32 { return sigmoidConsts() },
		apply: func(fn *a64.Func, v, k []a64.Vec, x a64.Mem, _ float32) {
			sigmoid(fn, v, k)
			fn.FMOVQ(x, v[1].V)
			fn.VFMUL(v[1], v[0], v[0]) // x * sigmoid(x): silu(-inf) = -inf * 0 = NaN, as in PyTorch
		},
	},
	spec.Tanh: {
		consts: func(float32) []float32 { return expConsts(signBit, 87) }, // no lower clamp: k[0] holds the sign
		apply: func(fn *a64.Func, v, k []a64.Vec, x a64.Mem, _ float32) {
			sign := k[0].V.B16()
			b := func(r a64.Vec) a64.Vec { return r.V.B16() }
			// tanh|x| = -expm1(-2|x|) / (2 + expm1(-2|x|)), exact near 0
			// where 1 - 2/(e^2x + 1) would cancel; then x's sign.
			fn.VBIC(sign, b(v[0]), b(v[0]))
			fn.VFADD(v[0], v[0], v[0])
			fn.VFMIN(k[1], v[0], v[0]) // 2|x| <= 87: expm1 = -1 in float32 beyond
			expNeg(fn, v, k, true)
			fn.VEOR(sign, b(v[0]), b(v[2])) // -em
			fn.VFADD(k[10], v[0], v[0])     // em + 2
			fn.VFADD(k[10], v[0], v[0])
			fn.VFDIV(v[0], v[2], v[0])
			fn.VBIC(sign, b(v[0]), b(v[0])) // +0, not -0, at 0
			fn.FMOVQ(x, v[1].V)
			fn.VAND(sign, b(v[1]), b(v[1]))
			fn.VORR(b(v[1]), b(v[0]), b(v[0]))
		},
	},
}

// signBit is the float32 whose bits are the sign bit alone.
var signBit = math.Float32frombits(1 << 31)

// expLn2Hi etc. are exp's constants, package asm's: exp(-t) is 2^n e^-r
// with n = round(-t log2 e) and r = t + n ln2 (ln2 split in two so that
// n ln2hi is exact): e^-r - 1 = -r + r^2 g(-r), g a degree-4 fit of
// (e^s - 1 - s)/s^2 on |s| <= ln2/2 (relative error 1.6e-8), written for
// -r by negating its odd coefficients.
var (
	expLn2Hi = float32(0.693359375)
	expLn2Lo = float32(-2.12194440e-4)
	expG     = [5]float32{0.5, 0.16666540503501892, 0.04166635125875473, 0.008366760797798634, 0.0013941110810264945}
)

// expConsts are the constants of the sigmoid family, in the registers
// k[0..11]: the clamp of t (lo, hi), -log2 e, ln2 in two parts, g's
// coefficients for -r, 1 and the exponent bias as an integer.
func expConsts(lo, hi float32) []float32 {
	return []float32{lo, hi, -math.Log2E, expLn2Hi, expLn2Lo,
		expG[0], -expG[1], expG[2], -expG[3], expG[4], 1, math.Float32frombits(127)}
}

// sigmoidConsts are expConsts for the sigmoid's e^-x, as package asm's:
// x clamped to [-88.8, 86] and the exponent bias one less (126), so that
// expNeg builds 2^(n-1) and sigmoid doubles its result. For x in
// [-88.72, -88.38], e^-x is finite but 2^n (n = 128) is not, and +inf
// times a negative q plus +inf would be NaN.
func sigmoidConsts() []float32 {
	c := expConsts(-88.8, 86)
	c[11] = math.Float32frombits(126)
	return c
}

// clamp3 sets d = min(max(x+k0, k1), k2), keeping NaN.
func clamp3(fn *a64.Func, x, d a64.Vec, k []a64.Vec) {
	fn.VFADD(k[0], x, d)
	fn.VFMAX(k[1], d, d)
	fn.VFMIN(k[2], d, d)
}

// sigmoid sets v0 = 1/(1 + e^-x) for x in v0, with sigmoidConsts in k.
func sigmoid(fn *a64.Func, v, k []a64.Vec) {
	fn.VFMAX(k[0], v[0], v[0]) // clamp, keeping NaN: e^-x stays finite or +inf
	fn.VFMIN(k[1], v[0], v[0])
	expNeg(fn, v, k, false)    // e^-x / 2, by the bias of 126
	fn.VFADD(v[0], v[0], v[0]) // e^-x, exactly, or +inf
	fn.VFADD(k[10], v[0], v[0])
	fn.VFDIV(v[0], k[10], v[0])
}

// expNeg sets v0 = e^-t (expm1: e^-t - 1) for t in v0, within the clamp
// of expConsts, using v1 to v5: package asm's expNeg step for step.
func expNeg(fn *a64.Func, v, k []a64.Vec, expm1 bool) {
	mov := func(src, dst a64.Vec) { fn.VMOV(src.V.B16(), dst.V.B16()) }
	fn.VFMUL(k[2], v[0], v[1]) // -t log2 e
	fn.VFRINTN(v[1], v[1])     // n, ties to even as VROUNDPS
	fn.VFMLA(k[3], v[1], v[0])
	fn.VFMLA(k[4], v[1], v[0]) // u = t + n ln2 = -r
	// g(-u) by Horner, p = p*u + k[i], alternating v2 and v4.
	p, q := v[2], v[4]
	mov(k[9], p)
	for i := 8; i >= 5; i-- {
		mov(k[i], q)
		fn.VFMLA(v[0], p, q)
		p, q = q, p
	}
	fn.VFMUL(v[0], v[0], v[3])
	fn.VFNEG(v[0], v[0])
	fn.VFMLA(v[3], p, v[0]) // q = u^2 g(-u) - u, rounded once
	fn.VFCVTZS(v[1], v[1])
	fn.VADD(k[11], v[1], v[1])
	fn.VSHL(23, v[1], v[1]) // 2^n
	if expm1 {
		fn.VFSUB(k[10], v[1], v[3]) // 2^n - 1
		fn.VFMLA(v[1], v[0], v[3])  // 2^n q + 2^n - 1
		mov(v[3], v[0])
		return
	}
	fn.VFMLA(v[1], v[0], v[1]) // 2^n q + 2^n
	mov(v[1], v[0])
}

// actPass applies the step's activation to the blocks x npx outputs the
// epilogue stored at pxOut.
func (k *convKernel) actPass(blocks, npx int) {
	fn := k.fn
	a := k.s.Act
	code, ok := actCodes[a.F.Op]
	if !ok {
		panic(fmt.Sprintf("neon: no vector code for activation %s", a)) // TestActCodes
	}
	consts := code.consts(a.Param)
	var v, kr []a64.Vec
	for r := 0; r < 32; r++ {
		if r < 6 {
			v = append(v, vreg(r))
		} else {
			kr = append(kr, vreg(r))
		}
	}
	if len(consts) > len(kr) {
		panic(fmt.Sprintf("neon: activation %s needs %d constants, %d registers are left", a, len(consts), len(kr)))
	}
	for i, c := range consts {
		fn.DupConst(c, tmp2, kr[i])
	}
	for o := 0; o < blocks; o++ {
		out := qmem(fn, pxOut, o*k.outPlane, tmp)
		for p := 0; p < npx; p++ {
			at := a64.M(out.Base, out.Off+k.outPx(p))
			fn.FMOVQ(at, v[0].V)
			code.apply(fn, v, kr, at, a.Param)
			fn.FMOVQ(v[0].V, at)
		}
	}
}
