package asm

import (
	"fmt"
	"math"

	"github.com/mmcloughlin/avo/build"
	"github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"

	"github.com/acgen/acgen/gen"
	"github.com/acgen/acgen/plan"
	"github.com/acgen/acgen/spec"
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
	chCnt  = reg.RDI // direct: the runs of channels left in a block (biasP is free by then)
	pfNext = reg.RDI // Winograd products: from the weights read to those to prefetch
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
	ops  *vecEmitter       // the instructions whose YMM and ZMM forms differ

	// Byte geometry.
	inRow, inPlane   int
	outRow, outPlane int
	resRow, resPlane int
	inBase           int // ws offset of the window origin of output (0,0), block 0
	outBase, resBase int // ws offset of pixel (0,0), block 0

	// Tile-level pointers, kept on the stack: they change once per tile.
	tIn, tOut, tRes, tW, tBias, tCnt operand.Mem

	// The part of the output this call computes (see gen.KernelSignature), on the
	// stack: units lo and hi (hi only for a direct, depthwise or pooling
	// kernel), the count hi-lo (Winograd: row blocks), the scratch
	// offset, and the unit of the current tile's output row 0 (non-zero
	// when the step is split by tiles, plan.ConvStep.ByTiles).
	lo, hi, rows, scratch, tileUnit operand.Mem
	// passCnt counts a tile's middle passes over its input channels;
	// kyCnt the rows of a window the innermost body loops over.
	passCnt, kyCnt operand.Mem
	// pf are the byte offsets of the weight groups whose next pass the
	// rows prefetch, pfLines the cache lines of each, pfPtr where the
	// next row's share starts (see tilePasses).
	pf      []int
	pfLines int
	pfPtr   operand.Mem

	// bandW is the pixels a row of the body's pixel tile when the tile
	// spans several output rows (plan.DirectSchedule.Rows), else 0.
	bandW int

	labels   int
	constMem *operand.Mem
}

func newConvKernel(ctx *build.Context, name string, t *target.Target, s *plan.Step) *convKernel {
	c := s.Conv
	in, out := s.In[0], s.Out
	k := &convKernel{ctx: ctx, name: name, tg: t, s: s, c: c, vec: vectorRegs(t), blk: c.Block, ops: &vecEmitter{ctx: ctx, zmm: t.Lanes == 16}}
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

// begin starts kernel function k.name of signature sig: its stack
// slots, the fixed registers, the scratch offset in bytes, lo in k.lo
// and the count hi-lo in k.rows; lo is left in rowCnt.
func (k *convKernel) begin(sig, doc string) {
	ctx := k.ctx
	ctx.Function(k.name)
	ctx.Attributes(0)
	ctx.SignatureExpr(sig)
	ctx.Doc(doc)
	k.tIn, k.tOut, k.tRes = ctx.AllocLocal(8), ctx.AllocLocal(8), ctx.AllocLocal(8)
	k.tW, k.tBias, k.tCnt = ctx.AllocLocal(8), ctx.AllocLocal(8), ctx.AllocLocal(8)
	k.lo, k.rows, k.scratch = ctx.AllocLocal(8), ctx.AllocLocal(8), ctx.AllocLocal(8)
	k.constMem = nil
	ctx.Load(ctx.Param("ws"), wsBase)
	ctx.Load(ctx.Param("w"), wBase)
	ctx.Load(ctx.Param("scratch"), icIn)
	ctx.SHLQ(operand.U8(2), icIn) // floats to bytes
	ctx.MOVQ(icIn, k.scratch)
	ctx.Load(ctx.Param("hi"), icIn)
	ctx.Load(ctx.Param("lo"), rowCnt)
	ctx.MOVQ(rowCnt, k.lo)
	ctx.SUBQ(rowCnt, icIn)
	ctx.MOVQ(icIn, k.rows)
}

// prologue starts a kernel of units lo to hi-1: output rows, or (tile,
// row) pairs when the step is split by tiles.
func (k *convKernel) prologue(doc string) {
	k.begin(gen.KernelSignature, doc)
	k.hi, k.tileUnit = k.ctx.AllocLocal(8), k.ctx.AllocLocal(8)
	k.passCnt, k.kyCnt, k.pfPtr = k.ctx.AllocLocal(8), k.ctx.AllocLocal(8), k.ctx.AllocLocal(8)
	k.ctx.Load(k.ctx.Param("hi"), icIn)
	k.ctx.MOVQ(icIn, k.hi)
	k.ctx.MOVQ(imm(0), k.tileUnit)
}

// icPass says which of a tile's passes over its input channels a body
// computes (see plan.DirectSchedule): the first starts from the bias,
// the others from the partial sums the previous one stored; the last
// stores through the epilogue, the others store the partial sums.
type icPass struct{ first, last bool }

// onlyPass is the one pass of a kernel that does not split its input
// channels.
var onlyPass = icPass{first: true, last: true}

// build writes the kernel: for each tile group, for each tile, for each
// pass over its input channels, for each output row from lo to hi, for
// each pixel tile, body computes the tile's blocks for npx pixels.
func (k *convKernel) build(body func(t plan.OCTile, npx int, ps icPass)) {
	ctx := k.ctx
	c := k.c
	units := "output rows"
	if c.ByTiles {
		units = "(tile, output row) pairs, tile-major"
	}
	k.prologue(fmt.Sprintf("%s is the %s kernel of step %s, %s lo to hi-1 (see the portable Go kernel of the same step for the loop it computes).", k.name, k.tg.Name, k.s.Name, units))
	for _, g := range c.TileGroups() {
		t := g.First()
		k.store(k.tIn, wsBase, k.inBase+(t.ICLo/k.blk)*k.inPlane)
		k.store(k.tOut, wsBase, k.outBase+t.Block0*k.outPlane)
		k.store(k.tRes, wsBase, k.resBase+t.Block0*k.resPlane)
		k.store(k.tW, wBase, t.WeightOff*f32)
		k.store(k.tBias, wBase, (c.BiasOff+t.Block0*k.blk)*f32)
		ctx.MOVQ(imm(g.Count), k.tCnt)
		tileLoop := k.label("tile")
		ctx.Label(tileLoop)
		for j, t := range g.Tiles {
			if j > 0 {
				k.moveTile(g.Tiles[j-1], t)
			}
			k.tilePasses(t, body)
		}
		if g.Count > 1 {
			// From the period's last tile to the next period's first.
			next := t
			next.ICLo += g.InStep * k.blk
			next.WeightOff += g.WStep
			for _, u := range g.Tiles {
				next.Block0 += u.Blocks
			}
			k.moveTile(g.Tiles[len(g.Tiles)-1], next)
			ctx.DECQ(k.tCnt)
			ctx.JNZ(operand.LabelRef(tileLoop))
		}
	}
	ctx.VZEROUPPER()
	ctx.RET()
}

// tilePasses runs tile t's passes over its input channels (see
// plan.DirectSchedule): the first, a loop over the middle ones (which
// read the same channels of the blocks they reach, so one body serves
// them all), and the last; then it moves the input and weight slots back
// to the tile's start.
func (k *convKernel) tilePasses(t plan.OCTile, body func(t plan.OCTile, npx int, ps icPass)) {
	ctx := k.ctx
	c := k.c
	kb := c.Direct.KBlock
	n := 1
	if kb > 0 {
		n = ceilDiv(t.ICHi-t.ICLo, kb)
	}
	if n <= 1 {
		k.tileRows(t, body, onlyPass)
		return
	}
	if kb%k.blk != 0 || t.ICLo%k.blk != 0 {
		panic("asm: a pass must read whole channel blocks") // plan.kBlocks gives passes only to dense convolutions
	}
	part := func(i int) plan.OCTile {
		p := t
		p.ICLo = t.ICLo + i*kb
		p.ICHi = min(t.ICHi, p.ICLo+kb)
		p.WeightOff = c.BlockWeights(p.Block0, p.ICLo) // where tW points during the pass
		return p
	}
	inStep := kb / k.blk * k.inPlane
	wStep := kb * c.KH * c.KW * plan.Group * f32
	advance := func() {
		ctx.ADDQ(imm(inStep), k.tIn)
		ctx.ADDQ(imm(wStep), k.tW)
	}
	// Each pass but the last prefetches into L2, a share of it a row,
	// the weights the next one reads: a pass's panel spans a page of
	// each weight group, where the hardware's prefetchers start over.
	prefetch := func(p plan.OCTile) {
		ctx.MOVQ(k.tW, icIn)
		ctx.ADDQ(imm(wStep), icIn)
		ctx.MOVQ(icIn, k.pfPtr)
		k.pf = k.panelLines(p)
	}
	prefetch(part(0))
	k.tileRows(part(0), body, icPass{first: true})
	advance()
	if n > 2 {
		ctx.MOVQ(imm(n-2), k.passCnt)
		loop := k.label("pass")
		ctx.Label(loop)
		prefetch(part(1))
		k.tileRows(part(1), body, icPass{})
		advance()
		ctx.DECQ(k.passCnt)
		ctx.JNZ(operand.LabelRef(loop))
	}
	k.pf = nil
	k.tileRows(part(n-1), body, icPass{last: true})
	ctx.SUBQ(imm((n-1)*inStep), k.tIn)
	ctx.SUBQ(imm((n-1)*wStep), k.tW)
}

// pixelRuns are the pixel tiles of an output row: the step's schedule,
// or whole tiles of Pixels and a remainder.
func (k *convKernel) pixelRuns() []plan.PixelRun {
	c := k.c
	if len(c.Direct.Runs) > 0 {
		return c.Direct.Runs
	}
	runs := []plan.PixelRun{}
	if full := c.OutW / c.Pixels; full > 0 {
		runs = append(runs, plan.PixelRun{Width: c.Pixels, Count: full})
	}
	if rem := c.OutW % c.Pixels; rem > 0 {
		runs = append(runs, plan.PixelRun{Width: rem, Count: 1})
	}
	return runs
}

// tileRows runs body over every pixel tile of tile t in the output rows
// of units lo to hi, from the tile slots: rows lo-u to hi-u where u is
// the unit of the tile's row 0, within the image.
func (k *convKernel) tileRows(t plan.OCTile, body func(t plan.OCTile, npx int, ps icPass), ps icPass) {
	ctx := k.ctx
	c := k.c
	skip, first, last := k.label("skip"), k.label("first"), k.label("last")
	ctx.MOVQ(k.lo, icIn) // the first row, max(lo-u, 0)
	ctx.SUBQ(k.tileUnit, icIn)
	ctx.JGE(operand.LabelRef(first))
	ctx.XORL(icIn.As32(), icIn.As32())
	ctx.Label(first)
	ctx.MOVQ(k.hi, icW) // the row after the last, min(hi-u, OutH)
	ctx.SUBQ(k.tileUnit, icW)
	ctx.CMPQ(icW, imm(c.OutH))
	ctx.JLE(operand.LabelRef(last))
	ctx.MOVQ(imm(c.OutH), icW)
	ctx.Label(last)
	ctx.SUBQ(icIn, icW)
	ctx.JLE(operand.LabelRef(skip))
	ctx.MOVQ(icW, rowCnt)
	for _, r := range []struct {
		row   reg.Register
		slot  operand.Mem
		bytes int
	}{{rowIn, k.tIn, c.StrideH * k.inRow}, {rowOut, k.tOut, k.outRow}, {rowRes, k.tRes, k.resRow}} {
		ctx.IMUL3Q(imm(r.bytes), icIn, r.row)
		ctx.ADDQ(r.slot, r.row)
	}
	// prefetch issues rows rows' share of the next pass's weights (see
	// tilePasses).
	prefetch := func(rows int) {
		if len(k.pf) == 0 {
			return
		}
		per := rows * ceilDiv(k.pfLines, c.OutH)
		ctx.MOVQ(k.pfPtr, icW)
		for _, g := range k.pf {
			for l := 0; l < per; l++ {
				ctx.PREFETCHT1(mem(icW, g+l*64))
			}
		}
		ctx.ADDQ(imm(per*64), k.pfPtr)
	}
	if band := c.Direct.TileRows(); band > 1 {
		// Bands of rows, one pixel tile each, while the part has them;
		// then the rows left, one at a time.
		bandLoop, rest := k.label("band"), k.label("rest")
		ctx.Label(bandLoop)
		ctx.CMPQ(rowCnt, imm(band))
		ctx.JLT(operand.LabelRef(rest))
		prefetch(band)
		ctx.MOVQ(rowIn, pxIn)
		ctx.MOVQ(rowOut, pxOut)
		ctx.MOVQ(rowRes, pxRes)
		k.bandW = c.OutW
		body(t, band*c.OutW, ps)
		k.bandW = 0
		ctx.ADDQ(imm(band*c.StrideH*k.inRow), rowIn)
		ctx.ADDQ(imm(band*k.outRow), rowOut)
		ctx.ADDQ(imm(band*k.resRow), rowRes)
		ctx.SUBQ(imm(band), rowCnt)
		ctx.JMP(operand.LabelRef(bandLoop))
		ctx.Label(rest)
		ctx.TESTQ(rowCnt, rowCnt)
		ctx.JZ(operand.LabelRef(skip))
	}
	rowLoop := k.label("row")
	ctx.Label(rowLoop)
	prefetch(1)
	ctx.MOVQ(rowIn, pxIn)
	ctx.MOVQ(rowOut, pxOut)
	ctx.MOVQ(rowRes, pxRes)
	for _, run := range k.pixelRuns() {
		step := func() {
			ctx.ADDQ(imm(run.Width*c.StrideW*k.blk*f32), pxIn)
			ctx.ADDQ(imm(run.Width*k.blk*f32), pxOut)
			ctx.ADDQ(imm(run.Width*k.blk*f32), pxRes)
		}
		if run.Count == 1 {
			body(t, run.Width, ps)
			step()
			continue
		}
		ctx.MOVQ(imm(run.Count), pxCnt)
		pxLoop := k.label("px")
		ctx.Label(pxLoop)
		body(t, run.Width, ps)
		step()
		ctx.DECQ(pxCnt)
		ctx.JNZ(operand.LabelRef(pxLoop))
	}
	ctx.ADDQ(imm(c.StrideH*k.inRow), rowIn)
	ctx.ADDQ(imm(k.outRow), rowOut)
	ctx.ADDQ(imm(k.resRow), rowRes)
	ctx.DECQ(rowCnt)
	ctx.JNZ(operand.LabelRef(rowLoop))
	ctx.Label(skip)
	if c.ByTiles && ps.last {
		ctx.ADDQ(imm(c.OutH), k.tileUnit)
	}
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// inPx, outPx and resPx are the byte offsets of the body's pixel p from
// pxIn (its window origin), pxOut and pxRes.
func (k *convKernel) inPx(p int) int {
	return plan.PixelBytes(p, k.bandW, k.c.StrideH*k.inRow, k.c.StrideW*k.blk*f32)
}

func (k *convKernel) outPx(p int) int { return plan.PixelBytes(p, k.bandW, k.outRow, k.blk*f32) }

func (k *convKernel) resPx(p int) int { return plan.PixelBytes(p, k.bandW, k.resRow, k.blk*f32) }

// panelLines sets k.pfLines to the cache lines of each weight group a
// pass p of a tile reads, and returns where each group's lines start,
// in bytes from the tile's weights at p's first channel.
func (k *convKernel) panelLines(p plan.OCTile) []int {
	c := k.c
	var starts []int
	seen := map[int]bool{}
	for o := 0; o < p.Blocks; o++ {
		g := (p.Block0 + o) * k.blk / plan.Group
		if seen[g] {
			continue
		}
		seen[g] = true
		r := c.WeightGroups[g]
		starts = append(starts, (r.Off+(p.ICLo-r.ICLo)*c.KH*c.KW*plan.Group-p.WeightOff)*f32)
	}
	k.pfLines = ceilDiv((p.ICHi-p.ICLo)*c.KH*c.KW*plan.Group*f32, 64)
	return starts
}

// moveTile moves the tile slots from tile a's to tile b's.
func (k *convKernel) moveTile(a, b plan.OCTile) {
	k.addSigned(k.tIn, (b.ICLo/k.blk-a.ICLo/k.blk)*k.inPlane)
	k.addSigned(k.tOut, (b.Block0-a.Block0)*k.outPlane)
	k.addSigned(k.tRes, (b.Block0-a.Block0)*k.resPlane)
	k.addSigned(k.tW, (b.WeightOff-a.WeightOff)*f32)
	k.addSigned(k.tBias, (b.Block0-a.Block0)*k.blk*f32)
}

// addSigned adds d to a stack slot.
func (k *convKernel) addSigned(slot operand.Mem, d int) {
	switch {
	case d > 0:
		k.ctx.ADDQ(imm(d), slot)
	case d < 0:
		k.ctx.SUBQ(imm(-d), slot)
	}
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
	switch {
	case k.s.Act.Is(spec.ReLU):
		k.zero(zero)
	case k.s.Act.Is(spec.ReLU6):
		k.zero(zero)
		k.broadcastConst(6, six)
	}
	for o := 0; o < blocks; o++ {
		for p := 0; p < npx; p++ {
			a := acc(o, p)
			if k.s.Residual() != nil {
				ctx.VADDPS(mem(pxRes, o*k.resPlane+k.resPx(p)), a, a)
			}
			k.activate(a, zero, six)
			ctx.VMOVUPS(a, mem(pxOut, o*k.outPlane+k.outPx(p)))
		}
	}
	if !k.s.Act.Clamp() {
		k.actPass(blocks, npx)
	}
}

// activate applies the step's activation to a, propagating NaN as Go's
// max and min (and PyTorch) do: VMAXPS returns its first Go operand when
// either input is NaN, so a goes first.
func (k *convKernel) activate(a, zero, six reg.VecPhysical) {
	switch {
	case k.s.Act.Is(spec.ReLU):
		k.ctx.VMAXPS(a, zero, a)
	case k.s.Act.Is(spec.ReLU6):
		k.ctx.VMAXPS(a, zero, a)
		k.ctx.VMINPS(a, six, a)
	}
}

// or sets a |= b bitwise.
func (k *convKernel) or(b, a reg.VecPhysical) { k.ops.or(b, a, a) }

// zero clears r (VPXORD for ZMM: a VEX VXORPS cannot name Z16-Z31, and
// an EVEX one needs AVX512DQ).
func (k *convKernel) zero(r reg.VecPhysical) { k.ops.xor(r, r, r) }

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
