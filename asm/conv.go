package asm

import (
	"fmt"
	"math"
	"slices"

	"github.com/mmcloughlin/avo/build"
	"github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"

	"github.com/acgen/acgen/plan"
	"github.com/acgen/acgen/target"
)

// General-purpose registers of a convolution kernel. ABI0 assembly may
// use all of them but SP and BP (R14 and R15 included: the ABI wrapper
// restores the goroutine register after the call).
var (
	wsBase = reg.RAX // workspace base, fixed
	wBase  = reg.RBX // weight blob base, fixed
	rowIn  = reg.R8  // input window origin of the current output row
	rowOut = reg.R9  // output pixel 0 of the current row
	rowRes = reg.R10 // residual pixel 0 of the current row
	rowCnt = reg.R11
	pxIn   = reg.R12 // input window origin of the current pixel tile
	pxOut  = reg.R13
	pxRes  = reg.R14
	pxCnt  = reg.R15
	icIn   = reg.RSI // input of the current channel chunk
	icW    = reg.RDX // weights of the current channel chunk
	icCnt  = reg.RCX
	biasP  = reg.RDI
)

// convKernel builds one convolution step's kernel.
type convKernel struct {
	ctx  *build.Context
	name string
	tg   *target.Target
	s    *plan.Step
	c    *plan.ConvStep
	vec  []reg.VecPhysical // the target's registers
	blk  int               // floats of a channel block: the target's lanes

	// Byte geometry.
	inRow, inPlane   int
	outRow, outPlane int
	resRow, resPlane int
	inBase           int // ws offset of the window origin of output (0,0), block 0
	outBase, resBase int // ws offset of pixel (0,0), block 0

	// Tile-level pointers, kept on the stack: they change once per tile.
	tIn, tOut, tRes, tW, tBias, tCnt operand.Mem

	// The part of the output this call computes (see Signature): bytes
	// from row 0 to row lo of the input, output and residual, and the
	// number of rows (or Winograd row blocks), on the stack.
	loIn, loOut, loRes, rows, scratch operand.Mem

	labels   int
	constMem *operand.Mem
}

func newConvKernel(ctx *build.Context, name string, t *target.Target, s *plan.Step) *convKernel {
	c := s.Conv
	in, out := s.In[0], s.Out
	k := &convKernel{ctx: ctx, name: name, tg: t, s: s, c: c, vec: vectorRegs(t), blk: c.Block}
	il, ol := in.Layout, out.Layout
	k.inRow, k.inPlane = il.Row()*f32, il.Plane()*f32
	k.outRow, k.outPlane = ol.Row()*f32, ol.Plane()*f32
	k.inBase = (in.Buf.Offset + (il.Halo-c.PadH)*il.Row() + (il.Halo-c.PadW)*k.blk) * f32
	k.outBase = (out.Buf.Offset + ol.Origin()) * f32
	if r := s.Residual(); r != nil {
		k.resRow, k.resPlane = r.Layout.Row()*f32, r.Layout.Plane()*f32
		k.resBase = (r.Buf.Offset + r.Layout.Origin()) * f32
	}
	return k
}

func (k *convKernel) label(what string) string {
	k.labels++
	return fmt.Sprintf("%s_%s%d", k.name, what, k.labels)
}

// tileGroup is a run of consecutive tiles the same loop can walk: the
// same number of blocks and input channel pattern, the input moving by a
// whole number of channel blocks and the weights by a fixed step from one
// tile to the next, and (for a direct convolution) each tile's blocks
// finding their weights at the same distances from its first block's.
type tileGroup struct {
	first  plan.OCTile
	count  int
	inStep int // input channel blocks from one tile to the next
	wStep  int // weight floats from one tile to the next
}

func groupTiles(c *plan.ConvStep) []tileGroup {
	blk := c.Block
	pattern := func(t plan.OCTile) []int {
		if c.Algo != plan.Direct {
			return nil
		}
		var d []int
		for o := 0; o < t.Blocks; o++ {
			d = append(d, c.BlockWeights(t.Block0+o, t.ICLo)-t.WeightOff)
		}
		return d
	}
	var groups []tileGroup
	for _, t := range c.Tiles {
		if n := len(groups); n > 0 {
			g := &groups[n-1]
			f := g.first
			d := t.ICLo - f.ICLo
			if t.Blocks == f.Blocks && t.ICHi-t.ICLo == f.ICHi-f.ICLo && d%blk == 0 && slices.Equal(pattern(t), pattern(f)) {
				if g.count == 1 {
					g.inStep = d / blk
					g.wStep = t.WeightOff - f.WeightOff
				}
				if d/blk == g.inStep*g.count && t.WeightOff-f.WeightOff == g.wStep*g.count && g.wStep >= 0 {
					g.count++
					continue
				}
			}
		}
		groups = append(groups, tileGroup{first: t, count: 1})
	}
	return groups
}

// Signature is every kernel's: ws and w are the workspace and the
// weights; the kernel computes output rows lo to hi-1 (for Winograd,
// blocks of tile rows), so that several goroutines can share a step;
// scratch is the byte offset of the caller's own scratch space from the
// step's (Winograd only).
const Signature = "func(ws, w *float32, lo, hi, scratch int)"

// prologue starts a kernel: the fixed registers, and the part of the
// output it computes. Rows are rowBytes{In,Out,Res} apart.
func (k *convKernel) prologue(doc string, rowIn, rowOut, rowRes int) {
	ctx := k.ctx
	ctx.Function(k.name)
	ctx.Attributes(0)
	ctx.SignatureExpr(Signature)
	ctx.Doc(doc)
	k.tIn, k.tOut, k.tRes = ctx.AllocLocal(8), ctx.AllocLocal(8), ctx.AllocLocal(8)
	k.tW, k.tBias, k.tCnt = ctx.AllocLocal(8), ctx.AllocLocal(8), ctx.AllocLocal(8)
	k.loIn, k.loOut, k.loRes, k.rows, k.scratch = ctx.AllocLocal(8), ctx.AllocLocal(8), ctx.AllocLocal(8), ctx.AllocLocal(8), ctx.AllocLocal(8)
	ctx.Load(ctx.Param("ws"), wsBase)
	ctx.Load(ctx.Param("w"), wBase)
	ctx.Load(ctx.Param("lo"), rowCnt)
	ctx.Load(ctx.Param("hi"), icIn)
	ctx.SUBQ(rowCnt, icIn)
	ctx.MOVQ(icIn, k.rows)
	for _, r := range []struct {
		slot  operand.Mem
		bytes int
	}{{k.loIn, rowIn}, {k.loOut, rowOut}, {k.loRes, rowRes}} {
		ctx.IMUL3Q(imm(r.bytes), rowCnt, icIn)
		ctx.MOVQ(icIn, r.slot)
	}
	ctx.Load(ctx.Param("scratch"), icIn)
	ctx.SHLQ(operand.U8(2), icIn) // floats to bytes
	ctx.MOVQ(icIn, k.scratch)
}

// storeFrom puts base+disp, moved on by the bytes in the stack slot
// from, in a stack slot.
func (k *convKernel) storeFrom(slot operand.Mem, base reg.Register, disp int, from operand.Mem) {
	k.ctx.LEAQ(mem(base, disp), icIn) // icIn is free between bodies
	k.ctx.ADDQ(from, icIn)
	k.ctx.MOVQ(icIn, slot)
}

// build writes the kernel: for each tile group, for each tile, for each
// output row from lo to hi, for each pixel tile, body computes the tile's
// blocks for npx pixels.
func (k *convKernel) build(body func(t plan.OCTile, npx int)) {
	ctx := k.ctx
	c := k.c
	k.prologue(fmt.Sprintf("%s is the %s kernel of step %s, output rows lo to hi-1 (see the portable Go kernel of the same step for the loop it computes).", k.name, k.tg.Name, k.s.Name),
		c.StrideH*k.inRow, k.outRow, k.resRow)
	full, rem := c.OutW/c.Pixels, c.OutW%c.Pixels
	for _, g := range groupTiles(c) {
		t := g.first
		k.storeFrom(k.tIn, wsBase, k.inBase+(t.ICLo/k.blk)*k.inPlane, k.loIn)
		k.storeFrom(k.tOut, wsBase, k.outBase+t.Block0*k.outPlane, k.loOut)
		k.storeFrom(k.tRes, wsBase, k.resBase+t.Block0*k.resPlane, k.loRes)
		k.store(k.tW, wBase, t.WeightOff*f32)
		k.store(k.tBias, wBase, (c.BiasOff+t.Block0*k.blk)*f32)
		ctx.MOVQ(imm(g.count), k.tCnt)
		tileLoop := k.label("tile")
		ctx.Label(tileLoop)
		ctx.MOVQ(k.tIn, rowIn)
		ctx.MOVQ(k.tOut, rowOut)
		ctx.MOVQ(k.tRes, rowRes)
		ctx.MOVQ(k.rows, rowCnt)
		rowLoop := k.label("row")
		ctx.Label(rowLoop)
		ctx.MOVQ(rowIn, pxIn)
		ctx.MOVQ(rowOut, pxOut)
		ctx.MOVQ(rowRes, pxRes)
		if full > 0 {
			ctx.MOVQ(imm(full), pxCnt)
			pxLoop := k.label("px")
			ctx.Label(pxLoop)
			body(t, c.Pixels)
			ctx.ADDQ(imm(c.Pixels*c.StrideW*k.blk*f32), pxIn)
			ctx.ADDQ(imm(c.Pixels*k.blk*f32), pxOut)
			ctx.ADDQ(imm(c.Pixels*k.blk*f32), pxRes)
			ctx.DECQ(pxCnt)
			ctx.JNZ(operand.LabelRef(pxLoop))
		}
		if rem > 0 {
			body(t, rem)
		}
		ctx.ADDQ(imm(c.StrideH*k.inRow), rowIn)
		ctx.ADDQ(imm(k.outRow), rowOut)
		ctx.ADDQ(imm(k.resRow), rowRes)
		ctx.DECQ(rowCnt)
		ctx.JNZ(operand.LabelRef(rowLoop))
		if g.count > 1 {
			ctx.ADDQ(imm(g.inStep*k.inPlane), k.tIn)
			ctx.ADDQ(imm(t.Blocks*k.outPlane), k.tOut)
			ctx.ADDQ(imm(t.Blocks*k.resPlane), k.tRes)
			ctx.ADDQ(imm(g.wStep*f32), k.tW)
			ctx.ADDQ(imm(t.Blocks*k.blk*f32), k.tBias)
			ctx.DECQ(k.tCnt)
			ctx.JNZ(operand.LabelRef(tileLoop))
		}
	}
	ctx.VZEROUPPER()
	ctx.RET()
}

// store puts base+disp in a stack slot.
func (k *convKernel) store(slot operand.Mem, base reg.Register, disp int) {
	k.ctx.LEAQ(mem(base, disp), icIn) // icIn is free between bodies
	k.ctx.MOVQ(icIn, slot)
}

// epilogue adds the residual, applies the activation and stores the
// accumulators acc(o, p) for blocks o and pixels p. spare are two YMM
// registers free at this point.
func (k *convKernel) epilogue(blocks, npx int, acc func(o, p int) reg.VecPhysical, spare [2]reg.VecPhysical) {
	ctx := k.ctx
	zero, six := spare[0], spare[1]
	switch k.s.Act {
	case plan.ActReLU:
		k.zero(zero)
	case plan.ActReLU6:
		k.zero(zero)
		k.broadcastConst(6, six)
	}
	for o := 0; o < blocks; o++ {
		for p := 0; p < npx; p++ {
			a := acc(o, p)
			if k.s.Residual() != nil {
				ctx.VADDPS(mem(pxRes, o*k.resPlane+p*k.blk*f32), a, a)
			}
			k.activate(a, zero, six)
			ctx.VMOVUPS(a, mem(pxOut, o*k.outPlane+p*k.blk*f32))
		}
	}
}

// activate applies the step's activation to a, propagating NaN as Go's
// max and min (and PyTorch) do: VMAXPS returns its first Go operand when
// either input is NaN, so a goes first.
func (k *convKernel) activate(a, zero, six reg.VecPhysical) {
	switch k.s.Act {
	case plan.ActReLU:
		k.ctx.VMAXPS(a, zero, a)
	case plan.ActReLU6:
		k.ctx.VMAXPS(a, zero, a)
		k.ctx.VMINPS(a, six, a)
	}
}

// or sets a |= b bitwise.
func (k *convKernel) or(b, a reg.VecPhysical) {
	if a.Size() == 64 {
		k.ctx.VPORD(b, a, a)
		return
	}
	k.ctx.VORPS(b, a, a)
}

// zero clears r (VPXORD for ZMM: a VEX VXORPS cannot name Z16-Z31, and
// an EVEX one needs AVX512DQ).
func (k *convKernel) zero(r reg.VecPhysical) {
	if r.Size() == 64 {
		k.ctx.VPXORD(r, r, r)
		return
	}
	k.ctx.VXORPS(r, r, r)
}

// broadcastConst sets every lane of r to x, through the stack (the
// register may be one only EVEX encodings reach).
func (k *convKernel) broadcastConst(x float32, r reg.VecPhysical) {
	slot := k.constSlot()
	k.ctx.MOVL(operand.U32(math.Float32bits(x)), icCnt.As32())
	k.ctx.MOVL(icCnt.As32(), slot)
	k.ctx.VBROADCASTSS(slot, r)
}

// constSlot is a 4-byte stack slot for broadcasting constants.
func (k *convKernel) constSlot() operand.Mem {
	if k.constMem == nil {
		m := k.ctx.AllocLocal(8)
		k.constMem = &m
	}
	return *k.constMem
}
