package asm

import (
	"github.com/mmcloughlin/avo/build"
	"github.com/mmcloughlin/avo/reg"
)

// The 1-D Winograd transforms as register schedules. Each takes its
// inputs in x (clobbered), temporaries in t, and broadcast constants in
// k, and returns the registers that hold the outputs, in order. They
// compute the rows of plan.WinogradTransforms' matrices with common
// subexpressions shared, so a 2-D transform is 2*(m+2) calls.
//
// Operand order is Go assembler's: VADDPS b, a, d is d = a+b; VSUBPS b,
// a, d is d = a-b; VFMADD231PS a, b, d is d += a*b; VFNMADD231PS a, b, d
// is d -= a*b.

type vecs = []reg.VecPhysical

// inputF4 computes B^T x for F(4x4, 3x3) with k = {4, 5, 2}:
//
//	y0 = 4x0 - 5x2 + x4          y3 = 2(x3-x1) + (x4-x2)
//	y1 = (x3+x4) - 4(x1+x2)      y4 = 2(x1-x3) + (x4-x2)
//	y2 = 4(x1-x2) + (x4-x3)      y5 = 4x1 - 5x3 + x5
func inputF4(ctx *build.Context, x, t, k vecs) vecs {
	four, five, two := k[0], k[1], k[2]
	ctx.VMOVAPS(x[4], t[0])
	ctx.VFMADD231PS(four, x[0], t[0])
	ctx.VFNMADD231PS(five, x[2], t[0]) // y0
	ctx.VFMADD231PS(four, x[1], x[5])
	ctx.VFNMADD231PS(five, x[3], x[5]) // y5
	ctx.VADDPS(x[2], x[1], x[0])       // x0 = x1+x2
	ctx.VSUBPS(x[2], x[1], t[1])       // t1 = x1-x2
	ctx.VSUBPS(x[1], x[3], x[1])       // x1 = x3-x1
	ctx.VSUBPS(x[2], x[4], x[2])       // x2 = x4-x2
	ctx.VADDPS(x[4], x[3], t[2])       // t2 = x3+x4
	ctx.VSUBPS(x[3], x[4], x[3])       // x3 = x4-x3
	ctx.VFNMADD231PS(four, x[0], t[2]) // y1 = (x3+x4) - 4(x1+x2)
	ctx.VFMADD231PS(four, t[1], x[3])  // y2 = (x4-x3) + 4(x1-x2)
	ctx.VMOVAPS(x[2], t[1])
	ctx.VFMADD231PS(two, x[1], t[1])  // y3 = (x4-x2) + 2(x3-x1)
	ctx.VFNMADD231PS(two, x[1], x[2]) // y4 = (x4-x2) - 2(x3-x1)
	return vecs{t[0], t[2], x[3], t[1], x[2], x[5]}
}

// outputF4 computes A^T x for F(4x4, 3x3) with k = {2, 4, 8}:
//
//	y0 = x0 + (x1+x2) + (x3+x4)  y2 = (x1+x2) + 4(x3+x4)
//	y1 = (x1-x2) + 2(x3-x4)      y3 = (x1-x2) + 8(x3-x4) + x5
func outputF4(ctx *build.Context, x, t, k vecs) vecs {
	two, four, eight := k[0], k[1], k[2]
	ctx.VADDPS(x[2], x[1], t[0]) // p = x1+x2
	ctx.VSUBPS(x[2], x[1], x[2]) // q = x1-x2
	ctx.VADDPS(x[4], x[3], t[1]) // r = x3+x4
	ctx.VSUBPS(x[4], x[3], x[4]) // s = x3-x4
	ctx.VADDPS(t[0], x[0], x[0])
	ctx.VADDPS(t[1], x[0], x[0]) // y0
	ctx.VMOVAPS(x[2], x[1])
	ctx.VFMADD231PS(two, x[4], x[1])  // y1
	ctx.VFMADD231PS(four, t[1], t[0]) // y2
	ctx.VADDPS(x[2], x[5], x[5])
	ctx.VFMADD231PS(eight, x[4], x[5]) // y3
	return vecs{x[0], x[1], t[0], x[5]}
}

// inputF2 computes B^T x for F(2x2, 3x3):
// y0 = x0-x2, y1 = x1+x2, y2 = x2-x1, y3 = x1-x3.
func inputF2(ctx *build.Context, x, t, _ vecs) vecs {
	ctx.VSUBPS(x[2], x[0], x[0])
	ctx.VADDPS(x[2], x[1], t[0])
	ctx.VSUBPS(x[1], x[2], x[2])
	ctx.VSUBPS(x[3], x[1], x[3])
	return vecs{x[0], t[0], x[2], x[3]}
}

// outputF2 computes A^T x for F(2x2, 3x3): y0 = x0+x1+x2, y1 = x1-x2-x3.
func outputF2(ctx *build.Context, x, _, _ vecs) vecs {
	ctx.VADDPS(x[1], x[0], x[0])
	ctx.VADDPS(x[2], x[0], x[0])
	ctx.VSUBPS(x[2], x[1], x[1])
	ctx.VSUBPS(x[3], x[1], x[1])
	return vecs{x[0], x[1]}
}

// transforms of F(m x m, 3 x 3): the 1-D schedules and their constants.
type transforms struct {
	input, output       func(ctx *build.Context, x, t, k vecs) vecs
	inConsts, outConsts []float32
}

func transformsFor(m int) transforms {
	if m == 4 {
		return transforms{inputF4, outputF4, []float32{4, 5, 2}, []float32{2, 4, 8}}
	}
	return transforms{inputF2, outputF2, nil, nil}
}
