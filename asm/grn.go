package asm

import (
	"fmt"

	"github.com/mmcloughlin/avo/build"
	"github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"

	"github.com/acgen/acgen/gen"
	"github.com/acgen/acgen/plan"
	"github.com/acgen/acgen/target"
)

// grnUnroll is how many pixels a GRN pass loads at a time, each into its
// own register (and, summing squares, its own accumulator): a few
// independent chains keep the FMA latency hidden on a memory-bound pass.
const grnUnroll = 4

// grnOut is the output's current channel block in a GRN kernel.
var grnOut = reg.RDI

// grn builds the kernel of a GRN step, which runs whole (lo and hi are
// ignored: the norms of every channel come before any output). Pass one
// sums each channel block's squares over the image in grnUnroll
// accumulators, stores their square roots (the channels' L2 norms) in
// the step's scratch space and adds them to a running total; the total,
// reduced across lanes, times 1/C plus eps is the divisor. Pass two
// turns each block's norms into scales, gamma*norm/divisor + 1, and
// stores x*scale + beta. Padded lanes read 0 and have gamma and beta 0,
// so they add nothing to the total and stay 0. It computes what the Go
// helper grn of templates/grn.go does, with float32 sums.
func grn(ctx *build.Context, name string, t *target.Target, s *plan.Step) {
	st, in, out := s.GRN, s.In[0], s.Out
	il, ol := in.Layout, out.Layout
	blk := il.Block
	ops := &vecEmitter{ctx: ctx, zmm: t.Lanes == 16}
	vec := vectorRegs(t)
	acc, tmp := vec[0:grnUnroll], vec[grnUnroll:2*grnUnroll]
	tot, sc, bt, red := vec[2*grnUnroll], vec[2*grnUnroll+1], vec[2*grnUnroll+2], vec[2*grnUnroll+3]
	weight := func(off, bytes int) operand.Mem { return mem(wBase, off*f32+bytes) }
	labels := 0
	label := func(what string) string {
		labels++
		return fmt.Sprintf("%s_%s%d", name, what, labels)
	}
	// loop runs body count times (none when count is 0), with cnt counting.
	loop := func(cnt reg.Register, count int, what string, body func()) {
		if count == 0 {
			return
		}
		ctx.MOVQ(imm(count), cnt)
		l := label(what)
		ctx.Label(l)
		body()
		ctx.DECQ(cnt)
		ctx.JNZ(operand.LabelRef(l))
	}
	// pixels runs px(p) over a row's pixels from pxIn (and pxOut), in
	// runs of grnUnroll and a remainder.
	pixels := func(outToo bool, px func(p int)) {
		step := func(n int) {
			for p := 0; p < n; p++ {
				px(p)
			}
			ctx.ADDQ(imm(n*blk*f32), pxIn)
			if outToo {
				ctx.ADDQ(imm(n*blk*f32), pxOut)
			}
		}
		loop(pxCnt, il.W/grnUnroll, "px", func() { step(grnUnroll) })
		if r := il.W % grnUnroll; r > 0 {
			step(r)
		}
	}

	ctx.Function(name)
	ctx.Attributes(0)
	ctx.SignatureExpr(gen.KernelSignature)
	ctx.Doc(fmt.Sprintf("%s is the %s kernel of GRN step %s, the whole step (see the Go helper grn for what it computes).", name, t.Name, s.Name))
	ctx.Load(ctx.Param("ws"), wsBase)
	ctx.Load(ctx.Param("w"), wBase)

	// Pass one: the norms and their total.
	ctx.LEAQ(mem(wsBase, (in.Buf.Offset+il.Origin())*f32), icIn)
	ctx.LEAQ(mem(wsBase, st.ScratchOff*f32), rowRes)
	ops.xor(tot, tot, tot)
	loop(icCnt, il.CB(), "norm", func() {
		for _, a := range acc {
			ops.xor(a, a, a)
		}
		ctx.MOVQ(icIn, rowIn)
		loop(rowCnt, il.H, "normrow", func() {
			ctx.MOVQ(rowIn, pxIn)
			pixels(false, func(p int) {
				x := tmp[p%grnUnroll]
				ctx.VMOVUPS(mem(pxIn, p*blk*f32), x)
				ctx.VFMADD231PS(x, x, acc[p%grnUnroll])
			})
			ctx.ADDQ(imm(il.Row()*f32), rowIn)
		})
		ctx.VADDPS(acc[1], acc[0], acc[0])
		ctx.VADDPS(acc[3], acc[2], acc[2])
		ctx.VADDPS(acc[2], acc[0], acc[0])
		ctx.VSQRTPS(acc[0], acc[0])
		ctx.VMOVUPS(acc[0], mem(rowRes, 0))
		ctx.VADDPS(acc[0], tot, tot)
		ctx.ADDQ(imm(il.Plane()*f32), icIn)
		ctx.ADDQ(imm(blk*f32), rowRes)
	})
	reduceLanes(ctx, ops.zmm, tot, red, tot)
	ctx.VMULPS(weight(st.ConstOff, 0), tot, tot)
	ctx.VADDPS(weight(st.ConstOff, plan.Group*f32), tot, tot)

	// Pass two: the scales, and x*scale + beta.
	ctx.LEAQ(mem(wsBase, (in.Buf.Offset+il.Origin())*f32), icIn)
	ctx.LEAQ(mem(wsBase, (out.Buf.Offset+ol.Origin())*f32), grnOut)
	ctx.LEAQ(mem(wsBase, st.ScratchOff*f32), rowRes)
	ctx.LEAQ(weight(st.GammaOff, 0), icW)
	loop(icCnt, ol.CB(), "scale", func() {
		ctx.VMOVUPS(mem(rowRes, 0), sc)
		ctx.VDIVPS(tot, sc, sc)
		ctx.VMOVUPS(mem(icW, 0), bt)
		ctx.VFMADD213PS(weight(st.ConstOff, 2*plan.Group*f32), bt, sc)
		ctx.VMOVUPS(mem(icW, (st.BetaOff-st.GammaOff)*f32), bt)
		ctx.MOVQ(icIn, rowIn)
		ctx.MOVQ(grnOut, rowOut)
		loop(rowCnt, ol.H, "scalerow", func() {
			ctx.MOVQ(rowIn, pxIn)
			ctx.MOVQ(rowOut, pxOut)
			pixels(true, func(p int) {
				x := tmp[p%grnUnroll]
				ctx.VMOVUPS(mem(pxIn, p*blk*f32), x)
				ctx.VFMADD213PS(bt, sc, x)
				ctx.VMOVUPS(x, mem(pxOut, p*blk*f32))
			})
			ctx.ADDQ(imm(il.Row()*f32), rowIn)
			ctx.ADDQ(imm(ol.Row()*f32), rowOut)
		})
		ctx.ADDQ(imm(il.Plane()*f32), icIn)
		ctx.ADDQ(imm(ol.Plane()*f32), grnOut)
		ctx.ADDQ(imm(blk*f32), rowRes)
		ctx.ADDQ(imm(blk*f32), icW)
	})
	ctx.VZEROUPPER()
	ctx.RET()
}
