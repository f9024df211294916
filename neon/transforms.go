package neon

import "github.com/acgen/acgen/internal/a64"

// The 1-D Winograd transforms as register schedules, package asm's
// step for step (so that both give the same bits). Each takes its inputs
// in x (clobbered), temporaries in t, and broadcast constants in k, and
// returns the registers that hold the outputs, in order.
//
// Operand order is a64's (Go's): VFADD m, n, d is d = n+m; VFSUB m, n, d
// is d = n-m; VFMLA m, n, d is d += n*m; VFMLS m, n, d is d -= n*m.

type vecs = []a64.Vec

func mov(fn *a64.Func, src, dst a64.Vec) { fn.VMOV(src.V.B16(), dst.V.B16()) }

// inputF4 computes B^T x for F(4x4, 3x3) with k = {4, 5, 2}:
//
//	y0 = 4x0 - 5x2 + x4          y3 = 2(x3-x1) + (x4-x2)
//	y1 = (x3+x4) - 4(x1+x2)      y4 = 2(x1-x3) + (x4-x2)
//	y2 = 4(x1-x2) + (x4-x3)      y5 = 4x1 - 5x3 + x5
func inputF4(fn *a64.Func, x, t, k vecs) vecs {
	four, five, two := k[0], k[1], k[2]
	mov(fn, x[4], t[0])
	fn.VFMLA(four, x[0], t[0])
	fn.VFMLS(five, x[2], t[0]) // y0
	fn.VFMLA(four, x[1], x[5])
	fn.VFMLS(five, x[3], x[5]) // y5
	fn.VFADD(x[2], x[1], x[0]) // x0 = x1+x2
	fn.VFSUB(x[2], x[1], t[1]) // t1 = x1-x2
	fn.VFSUB(x[1], x[3], x[1]) // x1 = x3-x1
	fn.VFSUB(x[2], x[4], x[2]) // x2 = x4-x2
	fn.VFADD(x[4], x[3], t[2]) // t2 = x3+x4
	fn.VFSUB(x[3], x[4], x[3]) // x3 = x4-x3
	fn.VFMLS(four, x[0], t[2]) // y1 = (x3+x4) - 4(x1+x2)
	fn.VFMLA(four, t[1], x[3]) // y2 = (x4-x3) + 4(x1-x2)
	mov(fn, x[2], t[1])
	fn.VFMLA(two, x[1], t[1]) // y3 = (x4-x2) + 2(x3-x1)
	fn.VFMLS(two, x[1], x[2]) // y4 = (x4-x2) - 2(x3-x1)
	return vecs{t[0], t[2], x[3], t[1], x[2], x[5]}
}

// outputF4 computes A^T x for F(4x4, 3x3) with k = {2, 4, 8}:
//
//	y0 = x0 + (x1+x2) + (x3+x4)  y2 = (x1+x2) + 4(x3+x4)
//	y1 = (x1-x2) + 2(x3-x4)      y3 = (x1-x2) + 8(x3-x4) + x5
func outputF4(fn *a64.Func, x, t, k vecs) vecs {
	two, four, eight := k[0], k[1], k[2]
	fn.VFADD(x[2], x[1], t[0]) // p = x1+x2
	fn.VFSUB(x[2], x[1], x[2]) // q = x1-x2
	fn.VFADD(x[4], x[3], t[1]) // r = x3+x4
	fn.VFSUB(x[4], x[3], x[4]) // s = x3-x4
	fn.VFADD(t[0], x[0], x[0])
	fn.VFADD(t[1], x[0], x[0]) // y0
	mov(fn, x[2], x[1])
	fn.VFMLA(two, x[4], x[1])  // y1
	fn.VFMLA(four, t[1], t[0]) // y2
	fn.VFADD(x[2], x[5], x[5])
	fn.VFMLA(eight, x[4], x[5]) // y3
	return vecs{x[0], x[1], t[0], x[5]}
}

// inputF2 computes B^T x for F(2x2, 3x3):
// y0 = x0-x2, y1 = x1+x2, y2 = x2-x1, y3 = x1-x3.
func inputF2(fn *a64.Func, x, t, _ vecs) vecs {
	fn.VFSUB(x[2], x[0], x[0])
	fn.VFADD(x[2], x[1], t[0])
	fn.VFSUB(x[1], x[2], x[2])
	fn.VFSUB(x[3], x[1], x[3])
	return vecs{x[0], t[0], x[2], x[3]}
}

// outputF2 computes A^T x for F(2x2, 3x3): y0 = x0+x1+x2, y1 = x1-x2-x3.
func outputF2(fn *a64.Func, x, _, _ vecs) vecs {
	fn.VFADD(x[1], x[0], x[0])
	fn.VFADD(x[2], x[0], x[0])
	fn.VFSUB(x[2], x[1], x[1])
	fn.VFSUB(x[3], x[1], x[1])
	return vecs{x[0], x[1]}
}

// transforms of F(m x m, 3 x 3): the 1-D schedules and their constants.
type transforms struct {
	input, output       func(fn *a64.Func, x, t, k vecs) vecs
	inConsts, outConsts []float32
}

func transformsFor(m int) transforms {
	if m == 4 {
		return transforms{inputF4, outputF4, []float32{4, 5, 2}, []float32{2, 4, 8}}
	}
	return transforms{inputF2, outputF2, nil, nil}
}
