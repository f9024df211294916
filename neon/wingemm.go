package neon

import (
	"slices"

	"github.com/acgen/acgen/internal/a64"
	"github.com/acgen/acgen/plan"
	"github.com/acgen/acgen/target"
)

// Registers of the products kernel, beside the w* ones.
const (
	gVBlk   = a64.R2 // bytes between V's channel blocks (blk is not needed here)
	gT0     = a64.R9
	gT1     = a64.R10
	gVX     = a64.R11 // V of element xi, the range's first tile, block 0
	gMX     = a64.R12 // M of element xi, the range's first tile, block 0
	gUX     = a64.R13 // U of element xi, the first output channel tile
	gXiCnt  = a64.R14
	gNFull  = a64.R15 // register tiles of Pixels tiles in the range
	gNRem   = a64.R16 // tiles of the last, shorter one
	gUT     = a64.R17 // U of the current output channel tile
	gMT     = a64.R19 // M of its first block
	gTCnt   = a64.R20
	gVCur   = a64.R21 // V of the current register tile
	gMCur   = a64.R22 // M of the current register tile, its first block
	gPxCnt  = a64.R23
	gVP     = a64.R24 // V of the current channel block
	gWP     = a64.R25 // U of the current channel
	gICCnt  = a64.R26
	gFrom   = gUT      // before the tile loop: the group's first tile in range
	gMStore = wR0      // M of one block (r0 is spent before the xi loop)
	gChains = wScratch // the middle chains of a product left (the products use no scratch)
	gTo     = gTCnt
)

// productPhase: M[ocb][t][xi] = sum over ic of U[xi][ic][oc] V[ic][t][xi],
// for transform elements lo to hi-1 and output channel tiles t0 to t1-1.
func (k *winogradKernel) productPhase() {
	fn := k.fn
	c := k.c
	fn.Load("t0", gT0)
	fn.Load("t1", gT1)
	fn.MOVD(a64.Imm(k.vBlk), gVBlk)
	first := c.TilesX * k.tileB // bytes a tile row
	k.scratchPtr(k.vOff, gVX)
	mulAdd(fn, wR0, first, gVX, gVX)
	k.scratchPtr(k.mOff, gMX)
	mulAdd(fn, wR0, first, gMX, gMX)
	fn.LSL(4, wLo, tmp) // lo * 16: element lo of each tile
	fn.ADD(tmp, gVX, gVX)
	fn.ADD(tmp, gMX, gMX)
	addImm(fn, c.Tiles[0].WeightOff*f32, wBase, gUX)
	mulAdd(fn, wLo, c.XiStride*f32, gUX, gUX)
	// The range's tiles make nFull register tiles of Pixels tiles and
	// one of nRem: one case for each number of rows it may have.
	var rems []int
	known := fn.NewLabel("rowsknown")
	for r := 1; r <= c.BlockRows; r++ {
		tiles := r * c.TilesX
		if rem := tiles % c.Pixels; rem > 0 && !slices.Contains(rems, rem) {
			rems = append(rems, rem)
		}
		next := fn.NewLabel("rows")
		fn.CMP(a64.Imm(r), wNRows)
		fn.BNE(next)
		fn.MOVD(a64.Imm(tiles/c.Pixels), gNFull)
		fn.MOVD(a64.Imm(tiles%c.Pixels), gNRem)
		fn.B(known)
		fn.Label(next)
	}
	fn.Label(known)
	fn.MOVD(wRows, gXiCnt)
	xiLoop := fn.NewLabel("xi")
	fn.Label(xiLoop)
	uOff, firstTile := 0, 0
	for _, g := range c.TileGroups() {
		t := g.First()
		tileU := c.In * t.Blocks * k.blk * f32
		tileM := t.Blocks * k.mBlk
		// The group's tiles in t0 to t1-1: from max(t0, first) to
		// min(t1, first+count), if any.
		skip, from, to := fn.NewLabel("pskip"), fn.NewLabel("pfrom"), fn.NewLabel("pto")
		fn.MOVD(gT0, gFrom)
		fn.CMP(a64.Imm(firstTile), gFrom)
		fn.BGE(from)
		fn.MOVD(a64.Imm(firstTile), gFrom)
		fn.Label(from)
		fn.MOVD(gT1, gTo)
		fn.CMP(a64.Imm(firstTile+g.Count), gTo)
		fn.BLE(to)
		fn.MOVD(a64.Imm(firstTile+g.Count), gTo)
		fn.Label(to)
		fn.SUBS(gFrom, gTo, gTCnt)
		fn.BLE(skip)
		addImm(fn, -firstTile, gFrom, gFrom)
		fn.MOVD(gFrom, tmp) // the first tile's index in the group
		addImm(fn, uOff, gUX, gUT)
		mulAdd(fn, tmp, tileU, gUT, gUT)
		addImm(fn, t.Block0*k.mBlk, gMX, gMT)
		mulAdd(fn, tmp, tileM, gMT, gMT)
		tileLoop := fn.NewLabel("ptile")
		fn.Label(tileLoop)
		fn.MOVD(gVX, gVCur)
		fn.MOVD(gMT, gMCur)
		noFull := fn.NewLabel("nofull")
		fn.MOVD(gNFull, gPxCnt)
		fn.CBZ(gPxCnt, noFull)
		loop := fn.NewLabel("pcol")
		fn.Label(loop)
		k.product(t, c.Pixels)
		addImm(fn, c.Pixels*k.tileB, gVCur, gVCur)
		addImm(fn, c.Pixels*k.tileB, gMCur, gMCur)
		fn.SUBS(a64.Imm(1), gPxCnt, gPxCnt)
		fn.BNE(loop)
		fn.Label(noFull)
		remDone := fn.NewLabel("remdone")
		for _, rem := range rems {
			next := fn.NewLabel("rem")
			fn.CMP(a64.Imm(rem), gNRem)
			fn.BNE(next)
			k.product(t, rem)
			fn.B(remDone)
			fn.Label(next)
		}
		fn.Label(remDone)
		addImm(fn, tileU, gUT, gUT)
		addImm(fn, tileM, gMT, gMT)
		fn.SUBS(a64.Imm(1), gTCnt, gTCnt)
		fn.BNE(tileLoop)
		fn.Label(skip)
		uOff += g.Count * tileU
		firstTile += g.Count
	}
	addImm(fn, vb, gVX, gVX)
	addImm(fn, vb, gMX, gMX)
	addImm(fn, c.XiStride*f32, gUX, gUX)
	fn.SUBS(a64.Imm(1), gXiCnt, gXiCnt)
	fn.BNE(xiLoop)
}

// product computes one register tile: the blocks of output channel tile
// t for nt tiles, V at gVCur, U at gUT, M written at gMCur.
func (k *winogradKernel) product(t plan.OCTile, nt int) {
	fn := k.fn
	vectors := t.Blocks
	if k.tg.TileRegs(target.Shape{Vectors: vectors, Pixels: nt}) > 32 {
		panic("neon: Winograd product tile larger than the register file") // plan picks target.NEON's tiles
	}
	acc := func(o, p int) a64.Vec { return vreg(o*nt + p) }
	wv := vreg(vectors * nt)
	x := func(p int) a64.VReg { return a64.VReg(vectors*nt + vectors + p) }
	zero := func() {
		for o := 0; o < vectors; o++ {
			for p := 0; p < nt; p++ {
				r := acc(o, p).V.B16()
				fn.VEOR(r, r, r)
			}
		}
	}
	fn.MOVD(gVCur, gVP)
	fn.MOVD(gUT, gWP)
	// One channel block: each tile's vector of V (4 channels), then per
	// channel the tile's weight vectors (contiguous, read in order).
	chunk := func(cs []int) {
		for p := 0; p < nt; p++ {
			fn.FMOVQ(a64.M(gVP, p*k.tileB), x(p))
		}
		for _, ch := range cs {
			fn.VLD1P(gWP, a64.List{First: wv, N: vectors})
			for p := 0; p < nt; p++ {
				for o := 0; o < vectors; o++ {
					fn.VFMLAE(x(p).S(ch), vreg(vectors*nt+o), acc(o, p))
				}
			}
		}
		fn.ADD(gVBlk, gVP, gVP)
	}
	// channels sums the products of input channels lo to hi-1.
	channels := func(lo, hi int) {
		for _, run := range plan.ChunkRuns(plan.OCTile{ICLo: lo, ICHi: hi}, k.blk) {
			if run.Count > 1 {
				fn.MOVD(a64.Imm(run.Count), gICCnt)
				loop := fn.NewLabel("pic")
				fn.Label(loop)
				chunk(run.Channels)
				fn.SUBS(a64.Imm(1), gICCnt, gICCnt)
				fn.BNE(loop)
				continue
			}
			chunk(run.Channels)
		}
	}
	// store stores the accumulators in M, after adding the sums of the
	// chains before (first: none), through the free weight register.
	store := func(first bool) {
		for o := 0; o < vectors; o++ {
			at := qmem(fn, gMCur, o*k.mBlk, gMStore)
			for p := 0; p < nt; p++ {
				m := a64.M(at.Base, at.Off+p*k.tileB)
				if !first {
					fn.FMOVQ(m, wv.V)
					fn.VFADD(wv, acc(o, p), acc(o, p))
				}
				fn.FMOVQ(acc(o, p).V, m)
			}
		}
	}
	// The channels in chains of WinogradChain (see plan.WinogradChain),
	// as package asm's kernels sum them: the first, the middle ones in a
	// loop, the last.
	in, chain := k.c.In, plan.WinogradChain
	zero()
	if in <= chain {
		channels(0, in)
		store(true)
		return
	}
	n := ceilDiv(in, chain)
	channels(0, chain)
	store(true)
	if n > 2 {
		fn.MOVD(a64.Imm(n-2), gChains)
		loop := fn.NewLabel("chain")
		fn.Label(loop)
		zero()
		channels(chain, 2*chain)
		store(false)
		fn.SUBS(a64.Imm(1), gChains, gChains)
		fn.BNE(loop)
	}
	zero()
	channels((n-1)*chain, in)
	store(false)
}
