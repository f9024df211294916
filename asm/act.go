package asm

import (
	"fmt"
	"math"

	"github.com/mmcloughlin/avo/build"
	"github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"

	"github.com/acgen/acgen/spec"
)

// The vector code of the activations that are not clamps (package act
// has the table; plan.Act.Clamp the split). A kernel's epilogue stores
// its accumulators first and then makes this second pass over the
// outputs it just wrote, still in L1, with every register free: the
// sigmoid family's exp needs four temporaries and a dozen constants,
// more than the two registers an epilogue has spare.

// actCode is one activation's vector code: the constants it keeps in
// registers, and apply, which computes v[0] = f(v[0]) with temporaries
// v[1:4] and the constants k, reading x, the value before activation,
// from memory where it needs it again; p is the activation's parameter.
type actCode struct {
	consts func(p float32) []float32
	// table holds the constants apply reads from memory (see tables.go),
	// entry i at e.tab(i); nil: none.
	table []float32
	apply func(e *vecEmitter, v, k vecs, x operand.Mem, p float32)
}

// actCodes is keyed by the op of each row of the act table that is not a
// clamp. TestActCodes checks that every such row has one.
var actCodes = map[spec.Op]actCode{
	spec.LeakyReLU: {
		consts: func(p float32) []float32 { return []float32{p} },
		apply: func(e *vecEmitter, v, k vecs, _ operand.Mem, p float32) {
			e.ctx.VMULPS(k[0], v[0], v[1])
			if p <= 1 { // max(x, px) is x for x >= 0 and px below; NaN stays
				e.ctx.VMAXPS(v[0], v[1], v[0])
			} else {
				e.ctx.VMINPS(v[0], v[1], v[0])
			}
		},
	},
	spec.Hardswish: {
		consts: func(float32) []float32 { return []float32{3, 0, 6} },
		apply: func(e *vecEmitter, v, k vecs, _ operand.Mem, _ float32) {
			e.clamp3(v[0], v[1], k) // v1 = min(max(x+3, 0), 6)
			e.ctx.VMULPS(v[1], v[0], v[0])
			e.ctx.VDIVPS(k[2], v[0], v[0]) // x*clamp/6, PyTorch's order
		},
	},
	spec.Hardsigmoid: {
		consts: func(float32) []float32 { return []float32{3, 0, 6} },
		apply: func(e *vecEmitter, v, k vecs, _ operand.Mem, _ float32) {
			e.clamp3(v[0], v[1], k)
			e.ctx.VDIVPS(k[2], v[1], v[0])
		},
	},
	spec.Sigmoid: {
		consts: func(float32) []float32 { return sigmoidConsts() },
		apply: func(e *vecEmitter, v, k vecs, _ operand.Mem, _ float32) {
			e.sigmoid(v, k)
		},
	},
	spec.SiLU: {
		consts: func(float32) []float32 { return sigmoidConsts() },
		apply: func(e *vecEmitter, v, k vecs, x operand.Mem, _ float32) {
			e.sigmoid(v, k)
			e.ctx.VMULPS(x, v[0], v[0]) // x * sigmoid(x): silu(-inf) = -inf * 0 = NaN, as in PyTorch
		},
	},
	spec.Tanh: {
		consts: func(float32) []float32 { return expConsts(signBit, 87) }, // no lower clamp: k[0] holds the sign
		apply: func(e *vecEmitter, v, k vecs, x operand.Mem, _ float32) {
			sign := k[0]
			// tanh|x| = -expm1(-2|x|) / (2 + expm1(-2|x|)), exact near 0
			// where 1 - 2/(e^2x + 1) would cancel; then x's sign.
			e.andNot(v[0], sign, v[0])
			e.ctx.VADDPS(v[0], v[0], v[0])
			e.ctx.VMINPS(v[0], k[1], v[0]) // 2|x| <= 87: expm1 = -1 in float32 beyond
			e.expNeg(v, k, true)
			e.xor(v[0], sign, v[2])         // -em
			e.ctx.VADDPS(k[10], v[0], v[0]) // em + 2
			e.ctx.VADDPS(k[10], v[0], v[0])
			e.ctx.VDIVPS(v[0], v[2], v[0])
			e.andNot(v[0], sign, v[0]) // +0, not -0, at 0
			e.and(x, sign, v[1])
			e.or(v[1], v[0], v[0])
		},
	},
}

// signBit is the float32 whose bits are the sign bit alone.
var signBit = math.Float32frombits(1 << 31)

// expLog2e etc. are exp's constants. exp(-t) is 2^n e^-r with
// n = round(-t log2 e) and r = t + n ln2 (ln2 split in two so that n ln2hi
// is exact): e^-r - 1 = -r + r^2 g(-r), g a degree-4 fit of
// (e^s - 1 - s)/s^2 on |s| <= ln2/2 (relative error 1.6e-8), written
// for -r by negating its odd coefficients.
var (
	expLn2Hi = float32(0.693359375)
	expLn2Lo = float32(-2.12194440e-4)
	expG     = [5]float32{0.5, 0.16666540503501892, 0.04166635125875473, 0.008366760797798634, 0.0013941110810264945}
)

// expConsts are the constants of the sigmoid family, in the registers
// k[0..11]: the clamp of t (lo, hi), -log2 e, ln2 in two parts, g's coefficients
// for -r, 1 and the exponent bias as an integer.
func expConsts(lo, hi float32) []float32 {
	return []float32{lo, hi, -math.Log2E, expLn2Hi, expLn2Lo,
		expG[0], -expG[1], expG[2], -expG[3], expG[4], 1, math.Float32frombits(127)}
}

// sigmoidConsts are expConsts for the sigmoid's e^-x, x clamped to
// [-88.8, 86], with the exponent bias one less (126): expNeg then builds
// 2^(n-1), and sigmoid doubles its result. For x in [-88.72, -88.38],
// where e^-x is finite but n = 128, 2^n itself is not (its exponent field
// would be 255, +inf, and +inf times a negative q plus +inf is NaN); below
// -88.72 the doubled result is +inf, so sigmoid is 0 and silu -0, as in
// PyTorch. The other end of the clamp keeps n - 1 >= -126 (1 + e^-86 is 1
// in float32, as is 1 + e^-x for any x above 17).
func sigmoidConsts() []float32 {
	c := expConsts(-88.8, 86)
	c[11] = math.Float32frombits(126)
	return c
}

// vecEmitter emits vector operations on YMM or ZMM registers, choosing
// the AVX-512F form of the bitwise and rounding instructions for ZMM
// (AVX's VXORPS and VROUNDPS have no ZMM form in AVX512F).
type vecEmitter struct {
	ctx *build.Context
	zmm bool
	tab func(i int) operand.Mem // the applied activation's constant table
}

func (e *vecEmitter) xor(a, b, dst reg.VecPhysical) {
	if e.zmm {
		e.ctx.VPXORD(a, b, dst)
		return
	}
	e.ctx.VXORPS(a, b, dst)
}

// andNot sets dst = a &^ b.
func (e *vecEmitter) andNot(a, b, dst reg.VecPhysical) {
	if e.zmm {
		e.ctx.VPANDND(a, b, dst)
		return
	}
	e.ctx.VANDNPS(a, b, dst)
}

// and sets dst = a & b, a possibly in memory.
func (e *vecEmitter) and(a operand.Op, b, dst reg.VecPhysical) {
	if e.zmm {
		e.ctx.VPANDD(a, b, dst)
		return
	}
	e.ctx.VANDPS(a, b, dst)
}

func (e *vecEmitter) or(a, b, dst reg.VecPhysical) {
	if e.zmm {
		e.ctx.VPORD(a, b, dst)
		return
	}
	e.ctx.VORPS(a, b, dst)
}

// round rounds to the nearest integer, ties to even.
func (e *vecEmitter) round(a, dst reg.VecPhysical) {
	if e.zmm {
		e.ctx.VRNDSCALEPS(operand.U8(0), a, dst)
		return
	}
	e.ctx.VROUNDPS(operand.U8(0), a, dst)
}

// clamp3 sets dst = min(max(x+k0, k1), k2), keeping NaN.
func (e *vecEmitter) clamp3(x, dst reg.VecPhysical, k vecs) {
	e.ctx.VADDPS(k[0], x, dst)
	e.ctx.VMAXPS(dst, k[1], dst)
	e.ctx.VMINPS(dst, k[2], dst)
}

// sigmoid sets v0 = 1/(1 + e^-x) for x in v0, with sigmoidConsts in k.
func (e *vecEmitter) sigmoid(v, k vecs) {
	e.ctx.VMAXPS(v[0], k[0], v[0]) // clamp, keeping NaN: e^-x stays finite or +inf
	e.ctx.VMINPS(v[0], k[1], v[0])
	e.expNeg(v, k, false)          // e^-x / 2, by the bias of 126
	e.ctx.VADDPS(v[0], v[0], v[0]) // e^-x, exactly, or +inf
	e.ctx.VADDPS(k[10], v[0], v[0])
	e.ctx.VDIVPS(v[0], k[10], v[0])
}

// expNeg sets v0 = e^-t (expm1: e^-t - 1) for t in v0, within the
// clamp of expConsts, using v1..v3.
func (e *vecEmitter) expNeg(v, k vecs, expm1 bool) {
	ctx := e.ctx
	ctx.VMULPS(k[2], v[0], v[1]) // -t log2 e
	e.round(v[1], v[1])          // n
	ctx.VFMADD231PS(v[1], k[3], v[0])
	ctx.VFMADD231PS(v[1], k[4], v[0]) // u = t + n ln2 = -r
	ctx.VMOVAPS(k[9], v[2])
	for i := 8; i >= 5; i-- {
		ctx.VFMADD213PS(k[i], v[0], v[2]) // g(-u), Horner
	}
	ctx.VMULPS(v[0], v[0], v[3])
	ctx.VFMSUB231PS(v[2], v[3], v[0]) // q = u^2 g(-u) - u = e^-u... - 1
	ctx.VCVTTPS2DQ(v[1], v[1])
	ctx.VPADDD(k[11], v[1], v[1])
	ctx.VPSLLD(operand.U8(23), v[1], v[1]) // 2^n
	if expm1 {
		ctx.VSUBPS(k[10], v[1], v[3])     // 2^n - 1
		ctx.VFMADD213PS(v[3], v[1], v[0]) // 2^n q + 2^n - 1
		return
	}
	ctx.VFMADD213PS(v[1], v[1], v[0]) // 2^n q + 2^n
}

// actPass applies the step's activation to the blocks x npx outputs
// the epilogue stored.
func (k *convKernel) actPass(blocks, npx int) {
	a := k.s.Act
	code, ok := actCodes[a.F.Op]
	if !ok {
		panic(fmt.Sprintf("asm: no vector code for activation %s", a)) // TestActCodes
	}
	consts := code.consts(a.Param)
	v, kr := k.vec[:4], k.vec[4:]
	if len(consts) > len(kr) {
		panic(fmt.Sprintf("asm: activation %s needs %d constants, %d registers are left", a, len(consts), len(kr)))
	}
	for i, c := range consts {
		k.broadcastConst(c, kr[i])
	}
	k.ops.tab = func(i int) operand.Mem { return tableEntryMem(a.F.Op, i) }
	for o := 0; o < blocks; o++ {
		for p := 0; p < npx; p++ {
			out := mem(pxOut, o*k.outPlane+k.outPx(p))
			k.ctx.VMOVUPS(out, v[0])
			code.apply(k.ops, v, kr, out, a.Param)
			k.ctx.VMOVUPS(v[0], out)
		}
	}
}
