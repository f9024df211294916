package neon

import (
	"fmt"

	"github.com/acgen/acgen/gen"
	"github.com/acgen/acgen/internal/a64"
	"github.com/acgen/acgen/plan"
	"github.com/acgen/acgen/target"
)

// winogradKernel builds the three kernels of a Winograd step, over the
// contract package asm's follow (gen.PhaseSignatures, the plan's tiles,
// blocks of tile rows and scratch sizes): for tile rows r0 to r1-1 of
// block blk,
//
//  1. input transform: every (input channel block, tile) becomes
//     (m+2)^2 vectors of V;
//  2. products: for each transform element xi, M[xi] = U[xi] V[xi], a
//     matrix product over input channels with the direct kernel's
//     register tile (output channel blocks x tiles, V's lanes taken by
//     FMLA by element);
//  3. output transform: M back to m x m pixels, plus bias, residual and
//     activation, stored.
//
// The scratch space holds V, M and a transform temporary in the sizes
// plan.ConvStep.WinogradScratch gives, but NEON orders V and M tile by
// tile, [block][tile][xi][4], where the x86 kernels keep [xi][block][tile]:
// a tile's (m+2)^2 vectors then lie within the reach of one load's
// immediate offset (arm64 has no 32-bit displacements), and the products
// step from tile to tile by (m+2)^2 vectors. Only these kernels read
// their scratch space, so the layout is theirs to choose.
type winogradKernel struct {
	*convKernel
	tr       transforms
	m, a     int
	t        int // tiles per block
	icb, ocb int
	// Scratch layout, bytes from the workspace base.
	vOff, mOff, tmpOff int
	tileB              int // bytes from one tile's vectors to the next's in V and M
	vBlk, mBlk         int // bytes from one channel block to the next in V and M
}

// Registers of every phase kernel, set by phasePrologue.
const (
	wBlk     = a64.R2 // blk
	wLo      = a64.R3 // lo
	wRows    = a64.R4 // hi - lo
	wR0      = a64.R5 // r0
	wNRows   = a64.R6 // r1 - r0
	wScratch = a64.R7 // scratch, bytes
	wVM      = a64.R8 // vm, bytes
)

func winograd(f *a64.File, name string, t *target.Target, s *plan.Step) {
	c := s.Conv
	k := &winogradKernel{convKernel: newConvKernel(t, s)}
	k.m, k.a = c.WinogradM, c.WinogradM+2
	k.tr = transformsFor(k.m)
	k.t = c.BlockRows * c.TilesX
	k.icb, k.ocb = c.InBlocks(), c.OutBlocks()
	vLen, mLen, _ := c.WinogradScratch()
	k.vOff = c.ScratchOff * f32
	k.mOff = k.vOff + vLen*f32
	k.tmpOff = k.mOff + mLen*f32
	k.tileB = k.a * k.a * vb
	k.vBlk, k.mBlk = k.t*k.tileB, k.t*k.tileB
	for i, ph := range []struct {
		what string
		body func()
	}{
		{"input transform, input channel blocks lo to hi-1", k.inputPhase},
		{"products, transform elements lo to hi-1 of output channel tiles t0 to t1-1", k.productPhase},
		{"output transform, output channel blocks lo to hi-1", func() { k.outputPhase(); k.clearOverhang() }},
	} {
		fname := name + gen.WinogradPhases[i]
		k.fn = f.Func(fname, gen.PhaseSignatures[i], fmt.Sprintf("%s is the %s kernel of step %s, Winograd F(%dx%d, 3x3): for tile rows r0 to r1-1 of block blk of %d rows of tiles, the %s.", fname, t.Name, s.Name, k.m, k.m, c.BlockRows, ph.what))
		done := k.fn.NewLabel("done")
		k.phasePrologue(done)
		ph.body()
		k.fn.Label(done)
		k.fn.RET()
	}
}

// phasePrologue loads the arguments every phase takes into the w*
// registers (scratch and vm in bytes), and leaves for done when the
// call's range is empty.
func (k *winogradKernel) phasePrologue(done string) {
	fn := k.fn
	fn.Load("ws", wsBase)
	fn.Load("w", wBase)
	fn.Load("blk", wBlk)
	fn.Load("lo", wLo)
	fn.Load("hi", wRows)
	fn.SUB(wLo, wRows, wRows)
	fn.Load("r0", wR0)
	fn.Load("r1", wNRows)
	fn.SUB(wR0, wNRows, wNRows)
	fn.Load("scratch", wScratch)
	fn.LSL(2, wScratch, wScratch) // floats to bytes
	fn.Load("vm", wVM)
	fn.LSL(2, wVM, wVM)
	fn.CMP(a64.Imm(0), wRows)
	fn.BLE(done)
	fn.CMP(a64.Imm(0), wNRows)
	fn.BLE(done)
}

// blockBase sets d to the workspace address of block blk's first pixel
// row (base is the offset of the image's; row the bytes of a pixel row).
func (k *winogradKernel) blockBase(base, row int, d a64.Reg) {
	addImm(k.fn, base, wsBase, d)
	mulAdd(k.fn, wBlk, k.c.BlockRows*k.m*row, d, d)
}

// scratchPtr sets d to V or M (at off in the step's scratch space),
// moved on by vm: the goroutines sharing a block's phases fill and read
// one V and M; those running whole blocks each have their own.
func (k *winogradKernel) scratchPtr(off int, d a64.Reg) {
	addImm(k.fn, off, wsBase, d)
	k.fn.ADD(wVM, d, d)
}

// consts broadcasts float constants into registers.
func (k *winogradKernel) consts(vals []float32, regs vecs) {
	for i, v := range vals {
		k.fn.DupConst(v, tmp2, regs[i])
	}
}

// tileLoops runs body for every tile of the range's rows, row by row,
// with rowCnt and pxCnt as counters. ptrs advance by steps bytes per
// tile and by rowSteps more at the end of a row of tiles.
func (k *winogradKernel) tileLoops(rowCnt, pxCnt a64.Reg, ptrs []a64.Reg, steps, rowSteps []int, body func()) {
	fn := k.fn
	fn.MOVD(wNRows, rowCnt)
	row := fn.NewLabel("trow")
	fn.Label(row)
	fn.MOVD(a64.Imm(k.c.TilesX), pxCnt)
	col := fn.NewLabel("tcol")
	fn.Label(col)
	body()
	for i, p := range ptrs {
		addImm(fn, steps[i], p, p)
	}
	fn.SUBS(a64.Imm(1), pxCnt, pxCnt)
	fn.BNE(col)
	for i, p := range ptrs {
		if rowSteps[i] != 0 {
			addImm(fn, rowSteps[i], p, p)
		}
	}
	fn.SUBS(a64.Imm(1), rowCnt, rowCnt)
	fn.BNE(row)
}

// inputPhase: V[icb][t][xi] = (B^T d B)[xi] for each channel block lo to
// hi-1 and tile of the range's rows.
func (k *winogradKernel) inputPhase() {
	fn := k.fn
	c := k.c
	a, m := k.a, k.m
	const (
		rowIn  = a64.R9  // channel block's window origin, tile row r0
		vPtr   = a64.R10 // V of (channel block, the range's first tile)
		tmpP   = a64.R11 // transform temporary
		icCnt  = a64.R12
		pxIn   = a64.R13
		vp     = a64.R14
		rowCnt = a64.R15
		pxCnt  = a64.R16
	)
	x, t, kc := vecsFrom(0, a), vecsFrom(a, 3), vecsFrom(a+3, 3)
	k.consts(k.tr.inConsts, kc)
	k.blockBase(k.inBase, k.inRow, rowIn)
	mulAdd(fn, wLo, k.inPlane, rowIn, rowIn)
	mulAdd(fn, wR0, m*k.inRow, rowIn, rowIn)
	k.scratchPtr(k.vOff, vPtr)
	mulAdd(fn, wLo, k.vBlk, vPtr, vPtr)
	mulAdd(fn, wR0, c.TilesX*k.tileB, vPtr, vPtr)
	addImm(fn, k.tmpOff, wsBase, tmpP)
	fn.ADD(wScratch, tmpP, tmpP)
	fn.MOVD(wRows, icCnt)
	icLoop := fn.NewLabel("vic")
	fn.Label(icLoop)
	fn.MOVD(rowIn, pxIn)
	fn.MOVD(vPtr, vp)
	tileStep := m * vb
	k.tileLoops(rowCnt, pxCnt, []a64.Reg{pxIn, vp}, []int{tileStep, k.tileB}, []int{m*k.inRow - c.TilesX*tileStep, 0}, func() {
		// Rows: tmp[i][j] = (d B)[i][j].
		for i := 0; i < a; i++ {
			for j := 0; j < a; j++ {
				fn.FMOVQ(qmem(fn, pxIn, i*k.inRow+j*vb, tmp), x[j].V)
			}
			y := k.tr.input(fn, x, t, kc)
			for j := 0; j < a; j++ {
				fn.FMOVQ(y[j].V, a64.M(tmpP, (i*a+j)*vb))
			}
		}
		// Columns: V[i*a+j] = (B^T tmp)[i][j].
		for j := 0; j < a; j++ {
			for i := 0; i < a; i++ {
				fn.FMOVQ(a64.M(tmpP, (i*a+j)*vb), x[i].V)
			}
			y := k.tr.input(fn, x, t, kc)
			for i := 0; i < a; i++ {
				fn.FMOVQ(y[i].V, a64.M(vp, (i*a+j)*vb))
			}
		}
	})
	addImm(fn, k.inPlane, rowIn, rowIn)
	addImm(fn, k.vBlk, vPtr, vPtr)
	fn.SUBS(a64.Imm(1), icCnt, icCnt)
	fn.BNE(icLoop)
}

// vecsFrom is n vector registers from first.
func vecsFrom(first, n int) vecs {
	v := make(vecs, n)
	for i := range v {
		v[i] = vreg(first + i)
	}
	return v
}
