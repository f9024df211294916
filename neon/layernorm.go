package neon

import (
	"fmt"

	"github.com/acgen/acgen/gen"
	"github.com/acgen/acgen/internal/a64"
	"github.com/acgen/acgen/plan"
	"github.com/acgen/acgen/target"
)

// layerNorm builds the kernel of a LayerNorm step, the contract of
// package asm's: for output rows lo to hi-1, normPixels pixels at a
// time, three passes over their channel blocks: the sum of each pixel's
// channels (padded lanes hold 0), reduced across lanes and times 1/C to
// the mean; the sum of the squared deviations (the last block's padded
// lanes masked off), reduced, times 1/C, to 1/sqrt(var + eps); and
// (x - mean) * rstd * weight + bias, stored (padded lanes get 0, their
// weight and bias being 0). It computes what the Go helper layerNorm
// of templates/norm.go does, with float32 sums; the constants are the
// step's packed ones (plan.NormStep: weight, bias, mask, then 1/C, eps
// and 1).
func layerNorm(f *a64.File, name string, t *target.Target, s *plan.Step) {
	in, out := s.In[0], s.Out
	il, ol := in.Layout, out.Layout
	k := &normKernel{s: s, st: s.Norm}
	k.inRow, k.inPlane = il.Row()*f32, il.Plane()*f32
	k.outRow, k.outPlane = ol.Row()*f32, ol.Plane()*f32
	k.cb, k.full = il.CB(), il.C%lanes == 0
	doc := fmt.Sprintf("%s is the %s kernel of LayerNorm step %s, output rows lo to hi-1 (see the Go helper layerNorm for what it computes).", name, t.Name, s.Name)
	k.fn = f.Func(name, gen.KernelSignature, doc)
	fn := k.fn
	fn.Load("ws", wsBase)
	fn.Load("w", wBase)
	fn.Load("lo", loR)
	fn.Load("hi", hiR)
	done := fn.NewLabel("done")
	fn.SUBS(loR, hiR, rowCnt)
	fn.BLE(done)
	addImm(fn, (in.Buf.Offset+il.Origin())*f32, wsBase, tIn)
	addImm(fn, (out.Buf.Offset+ol.Origin())*f32, wsBase, tOut)
	mulAdd(fn, loR, k.inRow, tIn, rowIn)
	mulAdd(fn, loR, k.outRow, tOut, rowOut)
	rowLoop := fn.NewLabel("row")
	fn.Label(rowLoop)
	fn.MOVD(rowIn, pxIn)
	fn.MOVD(rowOut, pxOut)
	full, rem := ol.W/normPixels, ol.W%normPixels
	if full > 0 {
		fn.MOVD(a64.Imm(full), pxCnt)
		pxLoop := fn.NewLabel("px")
		fn.Label(pxLoop)
		k.pixels(normPixels)
		addImm(fn, normPixels*vb, pxIn, pxIn)
		addImm(fn, normPixels*vb, pxOut, pxOut)
		fn.SUBS(a64.Imm(1), pxCnt, pxCnt)
		fn.BNE(pxLoop)
	}
	if rem > 0 {
		k.pixels(rem)
	}
	addImm(fn, k.inRow, rowIn, rowIn)
	addImm(fn, k.outRow, rowOut, rowOut)
	fn.SUBS(a64.Imm(1), rowCnt, rowCnt)
	fn.BNE(rowLoop)
	fn.Label(done)
	fn.RET()
}

// normPixels is the pixels a LayerNorm kernel normalises together: two
// registers each (the sum, then 1/sqrt(var + eps); the mean), with four
// temporaries.
const normPixels = (32 - 4) / 2

// normKernel builds one LayerNorm kernel.
type normKernel struct {
	fn *a64.Func
	s  *plan.Step
	st *plan.NormStep

	inRow, inPlane   int // bytes
	outRow, outPlane int
	cb               int  // channel blocks
	full             bool // the last block is all channels
}

// Vector registers: pixel p's sum (then rstd) in V(p), its mean in
// V(normPixels+p), the temporaries V28 to V31.
func normSum(p int) a64.Vec  { return vreg(p) }
func normMean(p int) a64.Vec { return vreg(normPixels + p) }
func normTmp(i int) a64.Vec  { return vreg(2*normPixels + i) }

// constant loads the vector of the step's packed constants at float
// offset off into d.
func (k *normKernel) constant(off int, d a64.Vec) {
	k.fn.FMOVQ(qmem(k.fn, wBase, off*f32, tmp), d.V)
}

// pixels normalises n pixels from pxIn to pxOut.
func (k *normKernel) pixels(n int) {
	fn, st := k.fn, k.st
	at := func(base a64.Reg, p int) a64.Mem { return a64.M(base, p*vb) }
	invC, eps, one := normTmp(1), normTmp(2), normTmp(3)
	// The sums, reduced to means.
	k.zero(n)
	k.blocks(k.cb, func() {
		for p := 0; p < n; p++ {
			fn.FMOVQ(at(icIn, p), normTmp(0).V)
			fn.VFADD(normTmp(0), normSum(p), normSum(p))
		}
	})
	k.constant(st.ConstOff, invC)
	for p := 0; p < n; p++ {
		k.reduce(normSum(p), normMean(p))
		fn.VFMUL(invC, normMean(p), normMean(p))
	}
	// The squared deviations, reduced to 1/sqrt(var + eps).
	k.zero(n)
	mask := normTmp(1)
	dev := func(p int, masked bool) {
		d := normTmp(0)
		fn.FMOVQ(at(icIn, p), d.V)
		fn.VFSUB(normMean(p), d, d)
		if masked {
			fn.VFMUL(mask, d, d)
		}
		fn.VFMLA(d, d, normSum(p))
	}
	whole := k.cb
	if !k.full {
		whole--
	}
	k.blocks(whole, func() {
		for p := 0; p < n; p++ {
			dev(p, false)
		}
	})
	if !k.full {
		k.constant(st.MaskOff, mask)
		for p := 0; p < n; p++ {
			dev(p, true) // icIn is at the last block
		}
	}
	k.constant(st.ConstOff, invC)
	k.constant(st.ConstOff+plan.Group, eps)
	k.constant(st.ConstOff+2*plan.Group, one)
	for p := 0; p < n; p++ {
		r := normSum(p)
		k.reduce(r, r)
		fn.VFMUL(invC, r, r)
		fn.VFADD(eps, r, r)
		fn.VFSQRT(r, r)
		fn.VFDIV(r, one, r)
	}
	// (x - mean) * rstd * weight + bias, the bias loaded as the FMA's
	// addend (a load, where a register copy would take a vector pipe).
	w, x, y := normTmp(1), normTmp(2), normTmp(3)
	fn.MOVD(pxOut, rowRes) // the output block
	addImm(fn, st.WeightOff*f32, wBase, icW)
	addImm(fn, st.BiasOff*f32, wBase, tBias)
	k.blocks(k.cb, func() {
		fn.FMOVQ(a64.M(icW, 0), w.V)
		for p := 0; p < n; p++ {
			fn.FMOVQ(at(icIn, p), x.V)
			fn.VFSUB(normMean(p), x, x)
			fn.VFMUL(normSum(p), x, x)
			fn.FMOVQ(a64.M(tBias, 0), y.V)
			fn.VFMLA(w, x, y)
			fn.FMOVQ(y.V, at(rowRes, p))
		}
		addImm(fn, k.outPlane, rowRes, rowRes)
		addImm(fn, vb, icW, icW)
		addImm(fn, vb, tBias, tBias)
	})
}

// blocks runs body over count channel blocks from pxIn, with icIn at the
// current block's pixels; after it icIn is at the block after the last.
func (k *normKernel) blocks(count int, body func()) {
	fn := k.fn
	fn.MOVD(pxIn, icIn)
	if count == 0 {
		return
	}
	fn.MOVD(a64.Imm(count), icCnt)
	fn.Loop(icCnt, 1, func() {
		body()
		addImm(fn, k.inPlane, icIn, icIn)
	})
}

func (k *normKernel) zero(n int) {
	for p := 0; p < n; p++ {
		r := normSum(p).V.B16()
		k.fn.VEOR(r, r, r)
	}
}

// reduce sets every lane of d to the sum of a's lanes,
// (a0 + a1) + (a2 + a3), with two pairwise adds.
func (k *normKernel) reduce(a, d a64.Vec) {
	k.fn.VFADDP(a, a, d)
	k.fn.VFADDP(d, d, d)
}
