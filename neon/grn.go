package neon

import (
	"fmt"

	"github.com/acgen/acgen/gen"
	"github.com/acgen/acgen/internal/a64"
	"github.com/acgen/acgen/plan"
	"github.com/acgen/acgen/target"
)

// grnUnroll is how many pixels a GRN pass loads at a time, each into its
// own register (and, summing squares, its own accumulator).
const grnUnroll = 4

// grn builds the kernel of a GRN step, the contract of package asm's:
// the whole step (lo and hi are ignored). Pass one sums each channel
// block's squares over the image in grnUnroll accumulators, stores their
// square roots (the channels' L2 norms) in the step's scratch space and
// adds them to a running total, reduced across lanes by two FADDP and
// turned into the divisor total/C + eps. Pass two turns each block's
// norms into scales, gamma*norm/divisor + 1, and stores x*scale + beta
// (beta loaded as the FMA's addend). Padded lanes read 0 and have gamma
// and beta 0, so they add nothing and stay 0. It computes what the Go
// helper grn of templates/grn.go does, with float32 sums.
func grn(f *a64.File, name string, t *target.Target, s *plan.Step) {
	st, in, out := s.GRN, s.In[0], s.Out
	il, ol := in.Layout, out.Layout
	doc := fmt.Sprintf("%s is the %s kernel of GRN step %s, the whole step (see the Go helper grn for what it computes).", name, t.Name, s.Name)
	fn := f.Func(name, gen.KernelSignature, doc)
	acc := func(i int) a64.Vec { return vreg(i) }
	x := func(i int) a64.Vec { return vreg(grnUnroll + i) }
	y := func(i int) a64.Vec { return vreg(2*grnUnroll + i) }
	tot, sc, g, one, c := vreg(3*grnUnroll), vreg(3*grnUnroll+1), vreg(3*grnUnroll+2), vreg(3*grnUnroll+3), vreg(3*grnUnroll+4)
	constant := func(off int, d a64.Vec) { fn.FMOVQ(qmem(fn, wBase, off*f32, tmp), d.V) }
	loop := func(cnt a64.Reg, count int, body func()) {
		if count == 0 {
			return
		}
		fn.MOVD(a64.Imm(count), cnt)
		fn.Loop(cnt, 1, body)
	}
	// pixels runs px(p) over a row's pixels from pxIn (and pxOut), in
	// runs of grnUnroll and a remainder.
	pixels := func(outToo bool, px func(p int)) {
		step := func(n int) {
			for p := 0; p < n; p++ {
				px(p)
			}
			addImm(fn, n*vb, pxIn, pxIn)
			if outToo {
				addImm(fn, n*vb, pxOut, pxOut)
			}
		}
		loop(pxCnt, il.W/grnUnroll, func() { step(grnUnroll) })
		if r := il.W % grnUnroll; r > 0 {
			step(r)
		}
	}
	fn.Load("ws", wsBase)
	fn.Load("w", wBase)

	// Pass one: the norms and their total.
	addImm(fn, (in.Buf.Offset+il.Origin())*f32, wsBase, icIn)
	addImm(fn, st.ScratchOff*f32, wsBase, rowRes)
	fn.VEOR(tot.V.B16(), tot.V.B16(), tot.V.B16())
	loop(icCnt, il.CB(), func() {
		for i := 0; i < grnUnroll; i++ {
			r := acc(i).V.B16()
			fn.VEOR(r, r, r)
		}
		fn.MOVD(icIn, rowIn)
		loop(rowCnt, il.H, func() {
			fn.MOVD(rowIn, pxIn)
			pixels(false, func(p int) {
				fn.FMOVQ(a64.M(pxIn, p*vb), x(p%grnUnroll).V)
				fn.VFMLA(x(p%grnUnroll), x(p%grnUnroll), acc(p%grnUnroll))
			})
			addImm(fn, il.Row()*f32, rowIn, rowIn)
		})
		fn.VFADD(acc(1), acc(0), acc(0))
		fn.VFADD(acc(3), acc(2), acc(2))
		fn.VFADD(acc(2), acc(0), acc(0))
		fn.VFSQRT(acc(0), acc(0))
		fn.FMOVQ(acc(0).V, a64.M(rowRes, 0))
		fn.VFADD(acc(0), tot, tot)
		addImm(fn, il.Plane()*f32, icIn, icIn)
		addImm(fn, vb, rowRes, rowRes)
	})
	fn.VFADDP(tot, tot, c)
	fn.VFADDP(c, c, tot)
	constant(st.ConstOff, c)
	fn.VFMUL(c, tot, tot)
	constant(st.ConstOff+plan.Group, c)
	fn.VFADD(c, tot, tot)
	constant(st.ConstOff+2*plan.Group, one)

	// Pass two: the scales, and x*scale + beta.
	addImm(fn, (in.Buf.Offset+il.Origin())*f32, wsBase, icIn)
	addImm(fn, (out.Buf.Offset+ol.Origin())*f32, wsBase, tOut)
	addImm(fn, st.ScratchOff*f32, wsBase, rowRes)
	addImm(fn, st.GammaOff*f32, wBase, icW)
	addImm(fn, st.BetaOff*f32, wBase, tBias)
	loop(icCnt, ol.CB(), func() {
		fn.FMOVQ(a64.M(rowRes, 0), sc.V)
		fn.VFDIV(tot, sc, sc)
		fn.FMOVQ(a64.M(icW, 0), g.V)
		fn.VFMUL(g, sc, sc)
		fn.VFADD(one, sc, sc)
		fn.MOVD(icIn, rowIn)
		fn.MOVD(tOut, rowOut)
		loop(rowCnt, ol.H, func() {
			fn.MOVD(rowIn, pxIn)
			fn.MOVD(rowOut, pxOut)
			pixels(true, func(p int) {
				xi, yi := x(p%grnUnroll), y(p%grnUnroll)
				fn.FMOVQ(a64.M(pxIn, p*vb), xi.V)
				fn.FMOVQ(a64.M(tBias, 0), yi.V)
				fn.VFMLA(sc, xi, yi)
				fn.FMOVQ(yi.V, a64.M(pxOut, p*vb))
			})
			addImm(fn, il.Row()*f32, rowIn, rowIn)
			addImm(fn, ol.Row()*f32, rowOut, rowOut)
		})
		addImm(fn, il.Plane()*f32, icIn, icIn)
		addImm(fn, ol.Plane()*f32, tOut, tOut)
		addImm(fn, vb, rowRes, rowRes)
		addImm(fn, vb, icW, icW)
		addImm(fn, vb, tBias, tBias)
	})
	fn.RET()
}
