package asm

import (
	"fmt"
	"slices"

	"github.com/mmcloughlin/avo/build"
	"github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"

	"github.com/acgen/acgen/gen"
	"github.com/acgen/acgen/plan"
	"github.com/acgen/acgen/spec"
	"github.com/acgen/acgen/target"
)

// winogradKernel builds the kernel of a Winograd step. For each block of
// output tile rows it runs three phases over the step's scratch space:
//
//  1. input transform: every (channel block, tile) of the input becomes
//     (m+2)^2 vectors V[xi][icb][tile];
//  2. products: for each transform element xi, M[xi] = U[xi] V[xi], a
//     matrix product over input channels with the direct kernel's
//     register tile (output channel blocks x tiles, V broadcast);
//  3. output transform: M[xi][ocb][tile] back to m x m pixels, plus bias,
//     residual and activation, stored.
//
// Each phase takes a range of the block's tile rows, r0 to r1-1: a
// goroutine that runs a range of the step's rows through all three
// phases in its own V and M (the layout of whole blocks, the range's
// tiles where they would be) keeps its part of the image in its own
// cache from layer to layer.
type winogradKernel struct {
	*convKernel
	tr       transforms
	m, a     int
	t        int // tiles per block
	icb, ocb int
	// Scratch layout, bytes from the workspace base.
	vOff, mOff, tmpOff int
	vXi, mXi           int // bytes between transform elements in V and M
	// Stack slots.
	bIn, bOut, bRes, xiCnt, ocbCnt, ocbOut, ocbRes operand.Mem
	vm                                             operand.Mem // bytes past the step's V and M (see scratchPtr)
	chainCnt                                       operand.Mem // the products' middle chains left
	// The tile rows: r0 and r1-r0, and the bytes of V or M between the
	// range's end in one channel block and its start in the next.
	r0, nRows, rowSkip operand.Mem
}

func winograd(ctx *build.Context, name string, t *target.Target, s *plan.Step) {
	c := s.Conv
	k := &winogradKernel{convKernel: newConvKernel(ctx, name, t, s)}
	k.m, k.a = c.WinogradM, c.WinogradM+2
	k.tr = transformsFor(k.m)
	k.t = c.BlockRows * c.TilesX
	k.icb, k.ocb = c.InBlocks(), c.OutBlocks()
	vLen, mLen, _ := c.WinogradScratch()
	k.vOff = c.ScratchOff * f32
	k.mOff = k.vOff + vLen*f32
	k.tmpOff = k.mOff + mLen*f32
	k.vXi = k.icb * k.t * k.blk * f32
	k.mXi = k.ocb * k.t * k.blk * f32

	// Three functions, one a phase, each over tile rows of one block and
	// a range of its channel blocks (input), transform elements
	// (products) or output channel blocks (output), so that goroutines
	// sharing the step split it by rows or, for images too small for
	// that, split each phase.
	for i, ph := range []struct {
		what string
		body func()
	}{
		{"input transform, input channel blocks lo to hi-1", k.inputPhase},
		{"products, transform elements lo to hi-1 of output channel tiles t0 to t1-1", k.productPhase},
		{"output transform, output channel blocks lo to hi-1", func() { k.outputPhase(); k.clearOverhang() }},
	} {
		k.labels = 0
		k.convKernel.name = name + gen.WinogradPhases[i]
		k.phasePrologue(gen.PhaseSignatures[i], fmt.Sprintf("%s is the %s kernel of step %s, Winograd F(%dx%d, 3x3): for tile rows r0 to r1-1 of block blk of %d rows of tiles, the %s.", k.convKernel.name, t.Name, s.Name, k.m, k.m, c.BlockRows, ph.what))
		ph.body()
		ctx.VZEROUPPER()
		ctx.RET()
	}
}

// phasePrologue starts a phase kernel: the block's input, output and
// residual rows on the stack (bIn, bOut, bRes), the range's start in lo,
// its count hi-lo in rows, vm in bytes, and the tile rows (r0, nRows,
// rowSkip).
func (k *winogradKernel) phasePrologue(sig, doc string) {
	ctx := k.ctx
	k.begin(sig, doc)
	k.bIn, k.bOut, k.bRes = ctx.AllocLocal(8), ctx.AllocLocal(8), ctx.AllocLocal(8)
	k.xiCnt, k.ocbCnt, k.ocbOut, k.ocbRes = ctx.AllocLocal(8), ctx.AllocLocal(8), ctx.AllocLocal(8), ctx.AllocLocal(8)
	k.vm, k.chainCnt = ctx.AllocLocal(8), ctx.AllocLocal(8)
	ctx.Load(ctx.Param("vm"), icIn)
	ctx.SHLQ(operand.U8(2), icIn) // floats to bytes
	ctx.MOVQ(icIn, k.vm)
	k.r0, k.nRows, k.rowSkip = ctx.AllocLocal(8), ctx.AllocLocal(8), ctx.AllocLocal(8)
	ctx.Load(ctx.Param("r0"), rowCnt)
	ctx.MOVQ(rowCnt, k.r0)
	ctx.Load(ctx.Param("r1"), icIn)
	ctx.SUBQ(rowCnt, icIn)
	ctx.MOVQ(icIn, k.nRows)
	ctx.MOVQ(imm(k.c.BlockRows), rowCnt)
	ctx.SUBQ(icIn, rowCnt)
	ctx.IMUL3Q(imm(k.c.TilesX*k.blk*f32), rowCnt, rowCnt)
	ctx.MOVQ(rowCnt, k.rowSkip)
	rows := k.c.BlockRows * k.m
	ctx.Load(ctx.Param("blk"), rowCnt)
	for _, r := range []struct {
		slot operand.Mem
		base int
		row  int
	}{{k.bIn, k.inBase, rows * k.inRow}, {k.bOut, k.outBase, rows * k.outRow}, {k.bRes, k.resBase, rows * k.resRow}} {
		ctx.IMUL3Q(imm(r.row), rowCnt, icIn)
		ctx.LEAQ(mem(wsBase, r.base), icW)
		ctx.ADDQ(icW, icIn)
		ctx.MOVQ(icIn, r.slot)
	}
}

// advance adds lo*bytes to r (lo from phasePrologue).
func (k *winogradKernel) advance(r reg.GPPhysical, bytes int) { k.advanceBy(k.lo, r, bytes) }

// advanceRows adds r0*bytes to r: bytes a tile row.
func (k *winogradKernel) advanceRows(r reg.GPPhysical, bytes int) { k.advanceBy(k.r0, r, bytes) }

func (k *winogradKernel) advanceBy(count operand.Mem, r reg.GPPhysical, bytes int) {
	k.ctx.MOVQ(count, rowCnt)
	k.ctx.IMUL3Q(imm(bytes), rowCnt, rowCnt)
	k.ctx.ADDQ(rowCnt, r)
}

// scratchPtr sets r to V or M (at disp in the step's scratch space),
// moved on by vm: the goroutines sharing a block's phases fill and read
// one V and M; those running whole blocks each have their own.
func (k *winogradKernel) scratchPtr(disp int, r reg.GPPhysical) {
	k.ctx.LEAQ(mem(wsBase, disp), r)
	k.ctx.ADDQ(k.vm, r)
}

// tmpPtr sets r to the transform temporary of this caller: scratch bytes
// past the step's, one of its own for each goroutine sharing the step.
func (k *winogradKernel) tmpPtr(r reg.GPPhysical) {
	k.ctx.LEAQ(mem(wsBase, k.tmpOff), r)
	k.ctx.ADDQ(k.scratch, r)
}

// clearOverhang zeroes what the range's tiles wrote past the output into
// its halo, which every reader expects to be zero, in output channel
// blocks lo to hi-1: the columns right of the output in the range's
// rows, and, if it ends the last block, the rows below. Other calls
// touch other rows or planes.
func (k *winogradKernel) clearOverhang() {
	ctx := k.ctx
	c := k.c
	over, cols := c.TilesY*k.m-c.OutH, c.TilesX*k.m-c.OutW
	if over == 0 && cols == 0 {
		return
	}
	blockRows := c.BlockRows * k.m
	last := c.TilesY/c.BlockRows - 1
	// ends reports in the flags whether the range ends the image: block
	// last, tile rows up to r1 = BlockRows.
	ends := func(no string) {
		ctx.Load(ctx.Param("blk"), rowCnt)
		ctx.CMPQ(rowCnt, imm(last))
		ctx.JNE(operand.LabelRef(no))
		ctx.MOVQ(k.r0, rowCnt)
		ctx.ADDQ(k.nRows, rowCnt)
		ctx.CMPQ(rowCnt, imm(c.BlockRows))
		ctx.JNE(operand.LabelRef(no))
	}
	// k.tCnt: the range's pixel rows inside the output.
	ctx.MOVQ(k.nRows, icIn)
	ctx.IMUL3Q(imm(k.m), icIn, icIn)
	notLast := k.label("notlast")
	ends(notLast)
	ctx.SUBQ(imm(over), icIn)
	ctx.Label(notLast)
	ctx.MOVQ(icIn, k.tCnt)
	zero := k.vec[0]
	k.zero(zero)
	// clear zeroes rows pixel rows of ncols pixels from firstCol, from
	// the block's pixel row firstRow, plus the range's first if fromR0.
	clear := func(rows operand.Op, fromR0 bool, firstRow, firstCol, ncols int) {
		ctx.MOVQ(k.bOut, rowOut)
		k.advance(rowOut, k.outPlane)
		if fromR0 {
			k.advanceRows(rowOut, k.m*k.outRow)
		}
		if firstRow != 0 {
			ctx.ADDQ(imm(firstRow*k.outRow), rowOut)
		}
		ctx.MOVQ(k.rows, icCnt)
		plane := k.label("clear")
		ctx.Label(plane)
		ctx.MOVQ(rowOut, pxOut)
		ctx.MOVQ(rows, rowCnt)
		l := k.label("clearrow")
		ctx.Label(l)
		for x := firstCol; x < firstCol+ncols; x++ {
			ctx.VMOVUPS(zero, mem(pxOut, x*k.blk*f32))
		}
		ctx.ADDQ(imm(k.outRow), pxOut)
		ctx.DECQ(rowCnt)
		ctx.JNZ(operand.LabelRef(l))
		ctx.ADDQ(imm(k.outPlane), rowOut)
		ctx.DECQ(icCnt)
		ctx.JNZ(operand.LabelRef(plane))
	}
	if cols > 0 {
		clear(k.tCnt, true, 0, c.OutW, cols)
	}
	if over > 0 {
		done := k.label("cleardone")
		ends(done)
		ctx.MOVQ(imm(over), k.tCnt)
		// The rows below the output, from the block's first row.
		clear(k.tCnt, false, c.OutH-last*blockRows, 0, c.TilesX*k.m)
		ctx.Label(done)
	}
}

// consts broadcasts float constants into registers.
func (k *winogradKernel) consts(vals []float32, regs vecs) {
	for i, v := range vals {
		k.broadcastConst(v, regs[i])
	}
}

// tileLoops runs body for every tile of the range's rows, row by row.
// ptrs advance by step bytes per tile and by rowStep more at the end of
// a row of tiles.
func (k *winogradKernel) tileLoops(ptrs []reg.GPPhysical, steps, rowSteps []int, body func()) {
	ctx := k.ctx
	c := k.c
	ctx.MOVQ(k.nRows, rowCnt)
	row := k.label("trow")
	ctx.Label(row)
	ctx.MOVQ(imm(c.TilesX), pxCnt)
	col := k.label("tcol")
	ctx.Label(col)
	body()
	for i, p := range ptrs {
		if steps[i] != 0 {
			ctx.ADDQ(imm(steps[i]), p)
		}
	}
	ctx.DECQ(pxCnt)
	ctx.JNZ(operand.LabelRef(col))
	for i, p := range ptrs {
		if rowSteps[i] != 0 {
			ctx.ADDQ(imm(rowSteps[i]), p)
		}
	}
	ctx.DECQ(rowCnt)
	ctx.JNZ(operand.LabelRef(row))
}

// inputPhase: V[xi][icb][t] = (B^T d B)[xi] for each channel block and
// tile of the block.
func (k *winogradKernel) inputPhase() {
	ctx := k.ctx
	a, m := k.a, k.m
	x, t, kc := k.vec[0:a], k.vec[a:a+3], k.vec[13:16]
	k.consts(k.tr.inConsts, kc)
	ctx.MOVQ(k.bIn, rowIn) // channel block lo's window origin, row r0
	k.advance(rowIn, k.inPlane)
	k.advanceRows(rowIn, k.m*k.inRow)
	k.scratchPtr(k.vOff, icW) // V of (icb, t)
	k.advance(icW, k.t*k.blk*f32)
	k.advanceRows(icW, k.c.TilesX*k.blk*f32)
	k.tmpPtr(biasP) // transform temporary
	ctx.MOVQ(k.rows, icCnt)
	icLoop := k.label("vic")
	ctx.Label(icLoop)
	ctx.MOVQ(rowIn, pxIn)
	tileStep := m * k.blk * f32
	k.tileLoops([]reg.GPPhysical{pxIn, icW}, []int{tileStep, k.blk * f32},
		[]int{m*k.inRow - k.c.TilesX*tileStep, 0}, func() {
			// Rows: tmp[i][j] = (d B)[i][j].
			for i := 0; i < a; i++ {
				for j := 0; j < a; j++ {
					ctx.VMOVUPS(mem(pxIn, i*k.inRow+j*k.blk*f32), x[j])
				}
				y := k.tr.input(ctx, x, t, kc)
				for j := 0; j < a; j++ {
					ctx.VMOVUPS(y[j], mem(biasP, (i*a+j)*k.blk*f32))
				}
			}
			// Columns: V[i*a+j] = (B^T tmp)[i][j].
			for j := 0; j < a; j++ {
				for i := 0; i < a; i++ {
					ctx.VMOVUPS(mem(biasP, (i*a+j)*k.blk*f32), x[i])
				}
				y := k.tr.input(ctx, x, t, kc)
				for i := 0; i < a; i++ {
					ctx.VMOVUPS(y[i], mem(icW, (i*a+j)*k.vXi))
				}
			}
		})
	ctx.ADDQ(imm(k.inPlane), rowIn)
	ctx.ADDQ(k.rowSkip, icW)
	ctx.DECQ(icCnt)
	ctx.JNZ(operand.LabelRef(icLoop))
}

// productPhase: M[xi][ocb][t] = sum over ic of U[xi][ic][oc] V[xi][ic][t].
func (k *winogradKernel) productPhase() {
	ctx := k.ctx
	c := k.c
	// Per transform element: rowIn = V[xi], rowOut = M[xi] (each at the
	// range's first tile), rowRes = U[xi].
	k.scratchPtr(k.vOff, rowIn)
	k.advance(rowIn, k.vXi)
	k.advanceRows(rowIn, c.TilesX*k.blk*f32)
	k.scratchPtr(k.mOff, rowOut)
	k.advance(rowOut, k.mXi)
	k.advanceRows(rowOut, c.TilesX*k.blk*f32)
	// The range's tiles make nFull register tiles of Pixels tiles and
	// one of nRem: one case for each number of rows it may have.
	nFull, nRem := ctx.AllocLocal(8), ctx.AllocLocal(8)
	var rems []int
	done := k.label("rowsknown")
	for r := 1; r <= c.BlockRows; r++ {
		tiles := r * c.TilesX
		if rem := tiles % c.Pixels; rem > 0 && !slices.Contains(rems, rem) {
			rems = append(rems, rem)
		}
		next := k.label("rows")
		ctx.CMPQ(k.nRows, imm(r))
		ctx.JNE(operand.LabelRef(next))
		ctx.MOVQ(imm(tiles/c.Pixels), nFull)
		ctx.MOVQ(imm(tiles%c.Pixels), nRem)
		ctx.JMP(operand.LabelRef(done))
		ctx.Label(next)
	}
	ctx.Label(done)
	ctx.LEAQ(mem(wBase, c.Tiles[0].WeightOff*f32), rowRes)
	k.advance(rowRes, c.XiStride*f32)
	t0, t1 := ctx.AllocLocal(8), ctx.AllocLocal(8)
	ctx.Load(ctx.Param("t0"), icIn)
	ctx.MOVQ(icIn, t0)
	ctx.Load(ctx.Param("t1"), icIn)
	ctx.MOVQ(icIn, t1)
	ctx.MOVQ(k.rows, icIn)
	ctx.MOVQ(icIn, k.xiCnt)
	rangeStart := ctx.AllocLocal(8)
	xiLoop := k.label("xi")
	ctx.Label(xiLoop)
	ctx.MOVQ(imm(0), rangeStart)
	uOff, first := 0, 0
	for _, g := range c.TileGroups() {
		t := g.First()
		tileU := c.In * t.Blocks * k.blk * f32
		tileM := t.Blocks * k.t * k.blk * f32
		// The group's tiles in t0 to t1-1: from icIn = max(t0, first)
		// to rowCnt = min(t1, first+count), if any.
		skip := k.label("pskip")
		from, to := k.label("pfrom"), k.label("pto")
		ctx.MOVQ(t0, icIn)
		ctx.CMPQ(icIn, imm(first))
		ctx.JGE(operand.LabelRef(from))
		ctx.MOVQ(imm(first), icIn)
		ctx.Label(from)
		ctx.MOVQ(t1, rowCnt)
		ctx.CMPQ(rowCnt, imm(first+g.Count))
		ctx.JLE(operand.LabelRef(to))
		ctx.MOVQ(imm(first+g.Count), rowCnt)
		ctx.Label(to)
		ctx.SUBQ(icIn, rowCnt)
		ctx.JLE(operand.LabelRef(skip))
		ctx.MOVQ(rowCnt, k.tCnt)
		ctx.SUBQ(imm(first), icIn)
		// pxIn = U of the first tile, pxOut = M of its first block.
		ctx.IMUL3Q(imm(tileU), icIn, pxIn)
		ctx.LEAQ(mem(rowRes, uOff), pxOut)
		ctx.ADDQ(pxOut, pxIn)
		ctx.IMUL3Q(imm(tileM), icIn, pxOut)
		ctx.LEAQ(mem(rowOut, t.Block0*k.t*k.blk*f32), icIn)
		ctx.ADDQ(icIn, pxOut)
		// Each pass of register tiles over a panel of U (one tile's
		// weights for one transform element) prefetches into L2 the
		// panel this call reads next, so that the only pass that waits
		// for the last-level cache or memory is the call's first: the
		// next tile's, or after the range's last tile the next element's
		// first, rangeStart+XiStride. (Waiting for each panel in its first
		// pass had cost ResNet-18's Winograd layers 8-15% on AMD Zen 1.)
		known := k.label("pstart")
		ctx.CMPQ(rangeStart, imm(0))
		ctx.JNE(operand.LabelRef(known))
		ctx.MOVQ(pxIn, rangeStart)
		ctx.Label(known)
		tileLoop := k.label("ptile")
		ctx.Label(tileLoop)
		pfSet := k.label("pfset")
		ctx.MOVQ(imm(tileU), pfNext)
		ctx.CMPQ(k.tCnt, imm(1))
		ctx.JNE(operand.LabelRef(pfSet))
		ctx.CMPQ(t1, imm(first+g.Count))
		ctx.JG(operand.LabelRef(pfSet))
		ctx.MOVQ(rangeStart, pfNext)
		ctx.ADDQ(imm(c.XiStride*f32), pfNext)
		ctx.SUBQ(pxIn, pfNext)
		ctx.Label(pfSet)
		ctx.MOVQ(rowIn, pxRes)  // V of the current tiles
		ctx.MOVQ(pxOut, rowCnt) // M of the current tiles
		ctx.MOVQ(nFull, pxCnt)
		noFull := k.label("nofull")
		ctx.TESTQ(pxCnt, pxCnt)
		ctx.JZ(operand.LabelRef(noFull))
		loop := k.label("pcol")
		ctx.Label(loop)
		k.product(t, c.Pixels)
		ctx.ADDQ(imm(c.Pixels*k.blk*f32), pxRes)
		ctx.ADDQ(imm(c.Pixels*k.blk*f32), rowCnt)
		ctx.DECQ(pxCnt)
		ctx.JNZ(operand.LabelRef(loop))
		ctx.Label(noFull)
		remDone := k.label("remdone")
		for _, rem := range rems {
			next := k.label("rem")
			ctx.CMPQ(nRem, imm(rem))
			ctx.JNE(operand.LabelRef(next))
			k.product(t, rem)
			ctx.JMP(operand.LabelRef(remDone))
			ctx.Label(next)
		}
		ctx.Label(remDone)
		ctx.ADDQ(imm(tileU), pxIn)
		ctx.ADDQ(imm(tileM), pxOut)
		ctx.DECQ(k.tCnt)
		ctx.JNZ(operand.LabelRef(tileLoop))
		ctx.Label(skip)
		uOff += g.Count * tileU
		first += g.Count
	}
	ctx.ADDQ(imm(k.vXi), rowIn)
	ctx.ADDQ(imm(k.mXi), rowOut)
	ctx.ADDQ(imm(c.XiStride*f32), rowRes)
	ctx.DECQ(k.xiCnt)
	ctx.JNZ(operand.LabelRef(xiLoop))
}

// product computes one register tile: blocks output channel blocks of
// tile t by nt block tiles, V at pxRes, U at pxIn, M written at rowCnt.
func (k *winogradKernel) product(t plan.OCTile, nt int) {
	ctx := k.ctx
	blocks := t.Blocks
	vectors := blocks
	acc := func(o, p int) reg.VecPhysical { return k.vec[o*nt+p] }
	wv := k.vec[vectors*nt : vectors*nt+vectors]
	bc := k.vec[vectors*nt+vectors]
	for o := 0; o < vectors; o++ {
		for p := 0; p < nt; p++ {
			k.zero(acc(o, p))
		}
	}
	ctx.MOVQ(pxRes, icIn)
	ctx.MOVQ(pxIn, icW)
	vBlock := k.t * k.blk * f32 // V: next channel block
	chunk := func(cs []int) {
		woff := 0
		for _, ch := range cs {
			for o := 0; o < vectors; o++ {
				ctx.VMOVUPS(mem(icW, woff+o*k.blk*f32), wv[o])
				if (woff+o*k.blk*f32)%64 == 0 { // a line of the next panel
					ctx.PREFETCHT1(operand.Mem{Base: icW, Index: pfNext, Scale: 1, Disp: woff + o*k.blk*f32})
				}
			}
			woff += blocks * k.blk * f32
			for p := 0; p < nt; p++ {
				ctx.VBROADCASTSS(mem(icIn, p*k.blk*f32+ch*f32), bc)
				for o := 0; o < vectors; o++ {
					ctx.VFMADD231PS(wv[o], bc, acc(o, p))
				}
			}
		}
	}
	// channels sums the products of input channels lo to hi-1.
	channels := func(lo, hi int) {
		for _, run := range plan.ChunkRuns(plan.OCTile{ICLo: lo, ICHi: hi}, k.blk) {
			step := len(run.Channels) * blocks * k.blk * f32
			if run.Count > 1 {
				ctx.MOVQ(imm(run.Count), icCnt)
				loop := k.label("pic")
				ctx.Label(loop)
				chunk(run.Channels)
				ctx.ADDQ(imm(vBlock), icIn)
				ctx.ADDQ(imm(step), icW)
				ctx.DECQ(icCnt)
				ctx.JNZ(operand.LabelRef(loop))
				continue
			}
			chunk(run.Channels)
			ctx.ADDQ(imm(vBlock), icIn)
			ctx.ADDQ(imm(step), icW)
		}
	}
	// store stores the accumulators in M, after adding the sums of the
	// chains before (first: none).
	store := func(first bool) {
		for o := 0; o < vectors; o++ {
			for p := 0; p < nt; p++ {
				m := mem(rowCnt, (o*k.t+p)*k.blk*f32)
				if !first {
					ctx.VADDPS(m, acc(o, p), acc(o, p))
				}
				ctx.VMOVUPS(acc(o, p), m)
			}
		}
	}
	zero := func() {
		for o := 0; o < vectors; o++ {
			for p := 0; p < nt; p++ {
				k.zero(acc(o, p))
			}
		}
	}
	// The channels in chains of WinogradChain (see plan.WinogradChain):
	// the first, the middle ones in a loop, the last.
	in, chain := k.c.In, plan.WinogradChain
	if in <= chain {
		channels(0, in)
		store(true)
		return
	}
	n := (in + chain - 1) / chain
	channels(0, chain)
	store(true)
	if n > 2 {
		ctx.MOVQ(imm(n-2), k.chainCnt)
		loop := k.label("chain")
		ctx.Label(loop)
		zero()
		channels(chain, 2*chain)
		store(false)
		ctx.DECQ(k.chainCnt)
		ctx.JNZ(operand.LabelRef(loop))
	}
	zero()
	channels((n-1)*chain, in)
	store(false)
}

// outputPhase: for each output channel block and tile, A^T M A plus bias,
// residual and activation, stored as m x m pixels.
func (k *winogradKernel) outputPhase() {
	ctx := k.ctx
	a, m := k.a, k.m
	x, t, kc := k.vec[0:a], k.vec[a:a+2], k.vec[8:11]
	bias, zero, six := k.vec[11], k.vec[12], k.vec[13]
	k.consts(k.tr.outConsts, kc)
	switch {
	case k.s.Act.Is(spec.ReLU6):
		k.consts([]float32{6}, vecs{six})
		fallthrough
	case k.s.Act.Is(spec.ReLU):
		k.zero(zero)
	}
	k.scratchPtr(k.mOff, rowIn) // M of (ocb, t)
	k.advance(rowIn, k.t*k.blk*f32)
	k.advanceRows(rowIn, k.c.TilesX*k.blk*f32)
	ctx.LEAQ(mem(wBase, k.c.BiasOff*f32), icW) // bias of ocb
	k.advance(icW, k.blk*f32)
	ctx.MOVQ(icW, k.tW)
	k.tmpPtr(biasP) // transform temporary
	ctx.MOVQ(k.bOut, icIn)
	k.advance(icIn, k.outPlane)
	k.advanceRows(icIn, m*k.outRow)
	ctx.MOVQ(icIn, k.ocbOut)
	ctx.MOVQ(k.bRes, icIn)
	k.advance(icIn, k.resPlane)
	k.advanceRows(icIn, m*k.resRow)
	ctx.MOVQ(icIn, k.ocbRes)
	ctx.MOVQ(k.rows, icIn)
	ctx.MOVQ(icIn, k.ocbCnt)
	ocbLoop := k.label("ocb")
	ctx.Label(ocbLoop)
	ctx.MOVQ(k.tW, icW)
	ctx.VMOVUPS(mem(icW, 0), bias)
	ctx.MOVQ(k.ocbOut, pxOut)
	ctx.MOVQ(k.ocbRes, pxRes)
	tileStep := m * k.blk * f32
	ptrs := []reg.GPPhysical{rowIn, pxOut}
	steps := []int{k.blk * f32, tileStep}
	rowSteps := []int{0, m*k.outRow - k.c.TilesX*tileStep}
	if k.s.Residual() != nil {
		ptrs = append(ptrs, pxRes)
		steps = append(steps, tileStep)
		rowSteps = append(rowSteps, m*k.resRow-k.c.TilesX*tileStep)
	}
	k.tileLoops(ptrs, steps, rowSteps, func() {
		// Columns: tmp[r][j] = (A^T M)[r][j].
		for j := 0; j < a; j++ {
			for i := 0; i < a; i++ {
				ctx.VMOVUPS(mem(rowIn, (i*a+j)*k.mXi), x[i])
			}
			y := k.tr.output(ctx, x, t, kc)
			for r := 0; r < m; r++ {
				ctx.VMOVUPS(y[r], mem(biasP, (r*a+j)*k.blk*f32))
			}
		}
		// Rows: pixel (r, col) = (tmp A)[r][col] + bias (+ residual), activated.
		for r := 0; r < m; r++ {
			for j := 0; j < a; j++ {
				ctx.VMOVUPS(mem(biasP, (r*a+j)*k.blk*f32), x[j])
			}
			y := k.tr.output(ctx, x, t, kc)
			for col := 0; col < m; col++ {
				v := y[col]
				ctx.VADDPS(bias, v, v)
				if k.s.Residual() != nil {
					ctx.VADDPS(mem(pxRes, r*k.resRow+col*k.blk*f32), v, v)
				}
				k.activate(v, zero, six)
				ctx.VMOVUPS(v, mem(pxOut, r*k.outRow+col*k.blk*f32))
			}
		}
	})
	ctx.ADDQ(k.rowSkip, rowIn)
	ctx.ADDQ(imm(k.blk*f32), k.tW)
	ctx.ADDQ(imm(k.outPlane), k.ocbOut)
	ctx.ADDQ(imm(k.resPlane), k.ocbRes)
	ctx.DECQ(k.ocbCnt)
	ctx.JNZ(operand.LabelRef(ocbLoop))
}
