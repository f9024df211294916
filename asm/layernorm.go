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

// layerNorm builds the kernel of a LayerNorm step: for output rows lo to
// hi-1, a few pixels at a time, three passes over their channel blocks:
// the sum of each pixel's channels (padded lanes hold 0), reduced across
// lanes to the mean; the sum of the squared deviations (the last block's
// padded lanes masked off), reduced to 1/sqrt(var + eps); and
// (x - mean) * rstd * weight + bias, stored. It computes what the Go
// helper layerNorm of templates/norm.go does, with float32 sums.
func layerNorm(ctx *build.Context, name string, t *target.Target, s *plan.Step) {
	k := &normKernel{ctx: ctx, name: name, s: s, ops: &vecEmitter{ctx: ctx, zmm: t.Lanes == 16}}
	in, out := s.In[0], s.Out
	il, ol := in.Layout, out.Layout
	k.blk = il.Block
	k.inRow, k.inPlane = il.Row()*f32, il.Plane()*f32
	k.outRow, k.outPlane = ol.Row()*f32, ol.Plane()*f32
	k.cb, k.full = il.CB(), il.C%il.Block == 0
	vec := vectorRegs(t)
	// Two registers a pixel (its sums, then rstd; its mean), and four
	// temporaries below the 16th register, which the VEX reductions need.
	k.px = (len(vec) - 4) / 2
	k.r, k.tmp, k.m = vec[:k.px], vec[k.px:k.px+4], vec[k.px+4:2*k.px+4]

	ctx.Function(name)
	ctx.Attributes(0)
	ctx.SignatureExpr(gen.KernelSignature)
	ctx.Doc(fmt.Sprintf("%s is the %s kernel of LayerNorm step %s, output rows lo to hi-1 (see the Go helper layerNorm for what it computes).", name, t.Name, s.Name))
	ctx.Load(ctx.Param("ws"), wsBase)
	ctx.Load(ctx.Param("w"), wBase)
	ctx.Load(ctx.Param("lo"), rowCnt)
	ctx.Load(ctx.Param("hi"), icCnt)
	ctx.SUBQ(rowCnt, icCnt)
	done := name + "_done"
	ctx.JLE(operand.LabelRef(done))
	ctx.IMUL3Q(imm(k.inRow), rowCnt, rowIn)
	ctx.ADDQ(wsBase, rowIn)
	ctx.ADDQ(imm((in.Buf.Offset+il.Origin())*f32), rowIn)
	ctx.IMUL3Q(imm(k.outRow), rowCnt, rowOut)
	ctx.ADDQ(wsBase, rowOut)
	ctx.ADDQ(imm((out.Buf.Offset+ol.Origin())*f32), rowOut)
	ctx.MOVQ(icCnt, rowCnt)
	ctx.Label(name + "_row")
	ctx.MOVQ(rowIn, pxIn)
	ctx.MOVQ(rowOut, pxOut)
	full, rem := ol.W/k.px, ol.W%k.px
	if full > 0 {
		ctx.MOVQ(imm(full), pxCnt)
		ctx.Label(name + "_px")
		k.pixels(k.px)
		ctx.ADDQ(imm(k.px*k.blk*f32), pxIn)
		ctx.ADDQ(imm(k.px*k.blk*f32), pxOut)
		ctx.DECQ(pxCnt)
		ctx.JNZ(operand.LabelRef(name + "_px"))
	}
	if rem > 0 {
		k.pixels(rem)
	}
	ctx.ADDQ(imm(k.inRow), rowIn)
	ctx.ADDQ(imm(k.outRow), rowOut)
	ctx.DECQ(rowCnt)
	ctx.JNZ(operand.LabelRef(name + "_row"))
	ctx.Label(done)
	ctx.VZEROUPPER()
	ctx.RET()
}

// normKernel builds one LayerNorm kernel.
type normKernel struct {
	ctx  *build.Context
	name string
	s    *plan.Step
	ops  *vecEmitter

	blk              int
	inRow, inPlane   int // bytes
	outRow, outPlane int
	cb               int  // channel blocks
	full             bool // the last block is all channels

	px        int               // pixels a pass computes at most
	r, m, tmp []reg.VecPhysical // per pixel: sums then rstd; means; temporaries
	labels    int
}

func (k *normKernel) label(what string) string {
	k.labels++
	return fmt.Sprintf("%s_%s%d", k.name, what, k.labels)
}

// weight is the vector of the step's packed weights at float offset off
// plus bytes.
func (k *normKernel) weight(off, bytes int) operand.Mem { return mem(wBase, off*f32+bytes) }

// pixels normalises n pixels from pxIn to pxOut.
func (k *normKernel) pixels(n int) {
	ctx, st := k.ctx, k.s.Norm
	// The sums, reduced to means.
	k.zero(n)
	k.blocks(k.cb, func() {
		for p := 0; p < n; p++ {
			ctx.VADDPS(mem(icIn, p*k.blk*f32), k.r[p], k.r[p])
		}
	})
	for p := 0; p < n; p++ {
		k.reduce(k.r[p], k.m[p])
		ctx.VMULPS(k.weight(st.ConstOff, 0), k.m[p], k.m[p])
	}
	// The squared deviations, reduced to 1/sqrt(var + eps).
	k.zero(n)
	dev := func(p int, masked bool) {
		t := k.tmp[0]
		ctx.VMOVUPS(mem(icIn, p*k.blk*f32), t)
		ctx.VSUBPS(k.m[p], t, t)
		if masked {
			ctx.VMULPS(k.weight(st.MaskOff, 0), t, t)
		}
		ctx.VFMADD231PS(t, t, k.r[p])
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
		for p := 0; p < n; p++ {
			dev(p, true) // icIn is at the last block
		}
	}
	// In lane 0 alone: the scalar square root and division take a
	// fraction of the divider's time a whole vector's do (on Ice Lake,
	// 3 cycles each against 12 and 10 for 16 lanes), once a pixel.
	for p := 0; p < n; p++ {
		r := k.r[p]
		x := r.AsX()
		sumLanes(ctx, k.ops.zmm, r, k.tmp[0])
		ctx.VMULSS(k.weight(st.ConstOff, 0), x, x)
		ctx.VADDSS(k.weight(st.ConstOff, plan.Group*f32), x, x)
		ctx.VSQRTSS(x, x, x)
		ctx.VMOVSS(k.weight(st.ConstOff, 2*plan.Group*f32), k.tmp[0].AsX())
		ctx.VDIVSS(x, k.tmp[0].AsX(), x)
		ctx.VBROADCASTSS(x, r)
	}
	// (x - mean) * rstd * weight + bias.
	w, b, t := k.tmp[1], k.tmp[2], k.tmp[3]
	ctx.MOVQ(pxOut, rowRes) // the output block
	ctx.LEAQ(k.weight(st.WeightOff, 0), icW)
	k.blocks(k.cb, func() {
		ctx.VMOVUPS(mem(icW, 0), w)
		ctx.VMOVUPS(mem(icW, (st.BiasOff-st.WeightOff)*f32), b)
		for p := 0; p < n; p++ {
			ctx.VMOVUPS(mem(icIn, p*k.blk*f32), t)
			ctx.VSUBPS(k.m[p], t, t)
			ctx.VMULPS(k.r[p], t, t)
			ctx.VFMADD213PS(b, w, t)
			ctx.VMOVUPS(t, mem(rowRes, p*k.blk*f32))
		}
		ctx.ADDQ(imm(k.outPlane), rowRes)
		ctx.ADDQ(imm(k.blk*f32), icW)
	})
}

// blocks runs body over count channel blocks from pxIn, with icIn at the
// current block's pixels; after it icIn is at the block after the last.
func (k *normKernel) blocks(count int, body func()) {
	ctx := k.ctx
	ctx.MOVQ(pxIn, icIn)
	if count == 0 {
		return
	}
	ctx.MOVQ(imm(count), icCnt)
	loop := k.label("cb")
	ctx.Label(loop)
	body()
	ctx.ADDQ(imm(k.inPlane), icIn)
	ctx.DECQ(icCnt)
	ctx.JNZ(operand.LabelRef(loop))
}

func (k *normKernel) zero(n int) {
	for p := 0; p < n; p++ {
		k.ops.xor(k.r[p], k.r[p], k.r[p])
	}
}

// reduce sets every lane of dst to the sum of a's lanes; a, below the
// 16th register as a temporary is, is clobbered.
func (k *normKernel) reduce(a, dst reg.VecPhysical) { reduceLanes(k.ctx, k.ops.zmm, a, k.tmp[0], dst) }

// reduceLanes sets every lane of dst to the sum of a's lanes, with t a
// temporary; a and t must be below the 16th register (the VEX
// instructions' reach), and a is clobbered.
func reduceLanes(ctx *build.Context, zmm bool, a, t, dst reg.VecPhysical) {
	sumLanes(ctx, zmm, a, t)
	ctx.VBROADCASTSS(a.AsX(), dst)
}

// sumLanes leaves the sum of a's lanes in its lane 0, with t a
// temporary; a and t must be below the 16th register.
func sumLanes(ctx *build.Context, zmm bool, a, t reg.VecPhysical) {
	x, tx := a.AsX(), t.AsX()
	if zmm {
		ctx.VEXTRACTF64X4(operand.U8(1), a, t.AsY())
		ctx.VADDPS(t.AsY(), a.AsY(), a.AsY())
	}
	ctx.VEXTRACTF128(operand.U8(1), a.AsY(), tx)
	ctx.VADDPS(tx, x, x)
	ctx.VMOVSHDUP(x, tx)
	ctx.VADDPS(tx, x, x)
	ctx.VMOVHLPS(x, tx, tx)
	ctx.VADDSS(tx, x, x)
}
