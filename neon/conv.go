package neon

import (
	"fmt"

	"github.com/acgen/acgen/gen"
	"github.com/acgen/acgen/internal/a64"
	"github.com/acgen/acgen/plan"
	"github.com/acgen/acgen/spec"
	"github.com/acgen/acgen/target"
)

// General-purpose registers of a convolution kernel: all but those a64
// reserves (R18, R27 to R30). Everything lives in registers; the
// frames are empty.
const (
	wsBase   = a64.R0 // workspace base, fixed
	wBase    = a64.R1 // weight blob base, fixed
	loR      = a64.R2 // lo, the first unit of the call
	hiR      = a64.R3 // hi
	tIn      = a64.R5 // tile level: input of the tile's first channel block, output row 0
	tOut     = a64.R6
	tRes     = a64.R7
	tW       = a64.R8 // the tile's weights
	tBias    = a64.R9
	tCnt     = a64.R10 // periods of the tile group left
	tileUnit = a64.R11 // the unit of the current tile's output row 0 (ByTiles)
	rowIn    = a64.R12 // input window origin of the current output row
	rowOut   = a64.R13
	rowRes   = a64.R14
	rowCnt   = a64.R15
	pxIn     = a64.R16 // input window origin of the current pixel tile
	pxOut    = a64.R17
	pxRes    = a64.R19
	pxCnt    = a64.R20
	icIn     = a64.R21 // input of the current channel block
	icW      = a64.R22 // weights of the current channel block
	icCnt    = a64.R23
	tmp      = a64.R24
	tmp2     = a64.R25
	inStride = a64.R26 // bytes from one kernel row's input to the next (row times dilation)
	kyCnt    = a64.R4  // direct: the window rows left of a loop over them (plan.DirectSchedule.RowLoop)
)

// convKernel builds one convolution step's kernel.
type convKernel struct {
	fn  *a64.Func
	tg  *target.Target
	s   *plan.Step
	c   *plan.ConvStep
	blk int // floats of a channel block: the target's lanes

	// Byte geometry.
	inRow, inPlane   int
	outRow, outPlane int
	resRow, resPlane int
	inBase           int // ws offset of the window origin of output (0,0), block 0
	outBase, resBase int // ws offset of pixel (0,0), block 0

	// passCnt is the stack slot counting a tile's middle passes over its
	// input channels (see tilePasses); every register is taken by then.
	passCnt  a64.Mem
	havePass bool

	// bandW is the pixels a row of the body's pixel tile when the tile
	// spans several output rows (plan.DirectSchedule.Rows), else 0.
	bandW int
}

// icPass says which of a tile's passes over its input channels a body
// computes (see plan.DirectSchedule): the first starts from the bias,
// the others from zero, adding the partial sums the previous one stored
// as they end; the last stores through the epilogue, the others store
// the partial sums.
type icPass struct{ first, last bool }

// onlyPass is the one pass of a kernel that does not split its input
// channels.
var onlyPass = icPass{first: true, last: true}

func newConvKernel(t *target.Target, s *plan.Step) *convKernel {
	c := s.Conv
	in, out := s.In[0], s.Out
	k := &convKernel{tg: t, s: s, c: c, blk: c.Block}
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

// vreg is vector register i as 4 floats.
func vreg(i int) a64.Vec { return a64.VReg(i).S4() }

// addImm sets d = n + off (off of any sign or size: the assembler
// splits what one ADD cannot hold).
func addImm(fn *a64.Func, off int, n, d a64.Reg) {
	switch {
	case off > 0:
		fn.ADD(a64.Imm(off), n, d)
	case off < 0:
		fn.SUB(a64.Imm(-off), n, d)
	case n != d:
		fn.MOVD(n, d)
	}
}

// mulAdd sets d = base + count*bytes, with tmp2 for the constant.
func mulAdd(fn *a64.Func, count a64.Reg, bytes int, base, d a64.Reg) {
	if bytes == 0 {
		fn.MOVD(base, d)
		return
	}
	fn.MOVD(a64.Imm(bytes), tmp2)
	fn.MADD(tmp2, base, count, d)
}

// qmem is the address base+off of a vector load or store: one
// instruction's operand when off is a multiple of 16 within the scaled
// range, else off added to scratch first.
func qmem(fn *a64.Func, base a64.Reg, off int, scratch a64.Reg) a64.Mem {
	if off >= 0 && off%vb == 0 && off < 4096*vb || off >= -256 && off < 256 {
		return a64.M(base, off)
	}
	addImm(fn, off, base, scratch)
	return a64.M(scratch, 0)
}

// prologue starts the kernel function name of a direct, depthwise or
// pooling step, over units lo to hi-1 (output rows, or (tile, row) pairs
// when the step is split by tiles).
func (k *convKernel) prologue(f *a64.File, name string) {
	units := "output rows"
	if k.c.ByTiles {
		units = "(tile, output row) pairs, tile-major"
	}
	doc := fmt.Sprintf("%s is the %s kernel of step %s, %s lo to hi-1 (see the portable Go kernel of the same step for the loop it computes).", name, k.tg.Name, k.s.Name, units)
	k.fn = f.Func(name, gen.KernelSignature, doc)
	fn := k.fn
	fn.Load("ws", wsBase)
	fn.Load("w", wBase)
	fn.Load("lo", loR)
	fn.Load("hi", hiR)
	fn.MOVD(a64.Imm(0), tileUnit)
	fn.MOVD(a64.Imm(k.c.DilH*k.inRow), inStride)
}

// build writes the kernel: for each tile group, for each tile, for each
// pass over its input channels, for each output row from lo to hi, for
// each pixel tile, body computes the tile's blocks for npx pixels (the
// tile's input at pxIn, its output at pxOut, its residual at pxRes, its
// weights at tW and bias at tBias).
func (k *convKernel) build(f *a64.File, name string, body func(t plan.OCTile, npx int, ps icPass)) {
	k.prologue(f, name)
	fn := k.fn
	c := k.c
	for _, g := range c.TileGroups() {
		t := g.First()
		addImm(fn, k.inBase+(t.ICLo/k.blk)*k.inPlane, wsBase, tIn)
		addImm(fn, k.outBase+t.Block0*k.outPlane, wsBase, tOut)
		if k.s.Residual() != nil {
			addImm(fn, k.resBase+t.Block0*k.resPlane, wsBase, tRes)
		}
		addImm(fn, t.WeightOff*f32, wBase, tW)
		addImm(fn, (c.BiasOff+t.Block0*k.blk)*f32, wBase, tBias)
		fn.MOVD(a64.Imm(g.Count), tCnt)
		tileLoop := fn.NewLabel("tile")
		fn.Label(tileLoop)
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
			fn.SUBS(a64.Imm(1), tCnt, tCnt)
			fn.BNE(tileLoop)
		}
	}
	fn.RET()
}

// tilePasses runs tile t's passes over its input channels (see
// plan.DirectSchedule), as package asm's kernels do: the first, a loop
// over the middle ones (which read the same channels of the blocks they
// reach, so one body serves them all), and the last; then it moves tIn
// and tW back to the tile's start.
func (k *convKernel) tilePasses(t plan.OCTile, body func(t plan.OCTile, npx int, ps icPass)) {
	fn := k.fn
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
		panic("neon: a pass must read whole channel blocks") // plan.kBlocks gives passes only to dense convolutions
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
		addImm(fn, inStep, tIn, tIn)
		addImm(fn, wStep, tW, tW)
	}
	k.tileRows(part(0), body, icPass{first: true})
	advance()
	if n > 2 {
		if !k.havePass {
			k.passCnt, k.havePass = fn.Local(8), true
		}
		fn.MOVD(a64.Imm(n-2), tmp)
		fn.MOVD(tmp, k.passCnt)
		loop := fn.NewLabel("pass")
		fn.Label(loop)
		k.tileRows(part(1), body, icPass{})
		advance()
		fn.MOVD(k.passCnt, tmp)
		fn.SUBS(a64.Imm(1), tmp, tmp)
		fn.MOVD(tmp, k.passCnt)
		fn.BNE(loop)
	}
	k.tileRows(part(n-1), body, icPass{last: true})
	addImm(fn, -(n-1)*inStep, tIn, tIn)
	addImm(fn, -(n-1)*wStep, tW, tW)
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// inPx, outPx and resPx are the byte offsets of the body's pixel p from
// pxIn (its window origin), pxOut and pxRes.
func (k *convKernel) inPx(p int) int {
	return plan.PixelBytes(p, k.bandW, k.c.StrideH*k.inRow, k.c.StrideW*vb)
}

func (k *convKernel) outPx(p int) int { return plan.PixelBytes(p, k.bandW, k.outRow, vb) }

func (k *convKernel) resPx(p int) int { return plan.PixelBytes(p, k.bandW, k.resRow, vb) }

// pixelRuns are the pixel tiles of an output row: the step's schedule,
// or whole tiles of Pixels and a remainder.
func (k *convKernel) pixelRuns() []plan.PixelRun {
	c := k.c
	if len(c.Direct.Runs) > 0 {
		return c.Direct.Runs
	}
	var runs []plan.PixelRun
	if full := c.OutW / c.Pixels; full > 0 {
		runs = append(runs, plan.PixelRun{Width: c.Pixels, Count: full})
	}
	if rem := c.OutW % c.Pixels; rem > 0 {
		runs = append(runs, plan.PixelRun{Width: rem, Count: 1})
	}
	return runs
}

// tileRows runs body over every pixel tile of tile t in the output rows
// of units lo to hi: rows lo-u to hi-u where u is the unit of the tile's
// row 0, within the image.
func (k *convKernel) tileRows(t plan.OCTile, body func(t plan.OCTile, npx int, ps icPass), ps icPass) {
	fn := k.fn
	c := k.c
	skip, first, last := fn.NewLabel("skip"), fn.NewLabel("first"), fn.NewLabel("last")
	res := k.s.Residual() != nil
	fn.SUB(tileUnit, loR, icIn) // the first row, max(lo-u, 0)
	fn.CMP(a64.Imm(0), icIn)
	fn.BGE(first)
	fn.MOVD(a64.Imm(0), icIn)
	fn.Label(first)
	fn.SUB(tileUnit, hiR, icW) // the row after the last, min(hi-u, OutH)
	fn.CMP(a64.Imm(c.OutH), icW)
	fn.BLE(last)
	fn.MOVD(a64.Imm(c.OutH), icW)
	fn.Label(last)
	fn.SUBS(icIn, icW, rowCnt)
	fn.BLE(skip)
	mulAdd(fn, icIn, c.StrideH*k.inRow, tIn, rowIn)
	mulAdd(fn, icIn, k.outRow, tOut, rowOut)
	if res {
		mulAdd(fn, icIn, k.resRow, tRes, rowRes)
	}
	if band := c.Direct.TileRows(); band > 1 {
		// Bands of rows, one pixel tile each, while the part has them;
		// then the rows left, one at a time.
		bandLoop, rest := fn.NewLabel("band"), fn.NewLabel("rest")
		fn.Label(bandLoop)
		fn.CMP(a64.Imm(band), rowCnt)
		fn.BLT(rest)
		fn.MOVD(rowIn, pxIn)
		fn.MOVD(rowOut, pxOut)
		if res {
			fn.MOVD(rowRes, pxRes)
		}
		k.bandW = c.OutW
		body(t, band*c.OutW, ps)
		k.bandW = 0
		addImm(fn, band*c.StrideH*k.inRow, rowIn, rowIn)
		addImm(fn, band*k.outRow, rowOut, rowOut)
		if res {
			addImm(fn, band*k.resRow, rowRes, rowRes)
		}
		fn.SUB(a64.Imm(band), rowCnt, rowCnt)
		fn.B(bandLoop)
		fn.Label(rest)
		fn.CMP(a64.Imm(0), rowCnt)
		fn.BEQ(skip)
	}
	rowLoop := fn.NewLabel("row")
	fn.Label(rowLoop)
	fn.MOVD(rowIn, pxIn)
	fn.MOVD(rowOut, pxOut)
	if res {
		fn.MOVD(rowRes, pxRes)
	}
	for _, run := range k.pixelRuns() {
		step := func() {
			addImm(fn, run.Width*c.StrideW*vb, pxIn, pxIn)
			addImm(fn, run.Width*vb, pxOut, pxOut)
			if res {
				addImm(fn, run.Width*vb, pxRes, pxRes)
			}
		}
		if run.Count == 1 {
			body(t, run.Width, ps)
			step()
			continue
		}
		fn.MOVD(a64.Imm(run.Count), pxCnt)
		pxLoop := fn.NewLabel("px")
		fn.Label(pxLoop)
		body(t, run.Width, ps)
		step()
		fn.SUBS(a64.Imm(1), pxCnt, pxCnt)
		fn.BNE(pxLoop)
	}
	addImm(fn, c.StrideH*k.inRow, rowIn, rowIn)
	addImm(fn, k.outRow, rowOut, rowOut)
	if res {
		addImm(fn, k.resRow, rowRes, rowRes)
	}
	fn.SUBS(a64.Imm(1), rowCnt, rowCnt)
	fn.BNE(rowLoop)
	fn.Label(skip)
	if c.ByTiles && ps.last {
		addImm(fn, c.OutH, tileUnit, tileUnit)
	}
}

// moveTile moves the tile registers from tile a's to tile b's.
func (k *convKernel) moveTile(a, b plan.OCTile) {
	fn := k.fn
	if d := (b.ICLo/k.blk - a.ICLo/k.blk) * k.inPlane; d != 0 {
		addImm(fn, d, tIn, tIn)
	}
	if d := (b.Block0 - a.Block0) * k.outPlane; d != 0 {
		addImm(fn, d, tOut, tOut)
	}
	if d := (b.Block0 - a.Block0) * k.resPlane; d != 0 && k.s.Residual() != nil {
		addImm(fn, d, tRes, tRes)
	}
	if d := (b.WeightOff - a.WeightOff) * f32; d != 0 {
		addImm(fn, d, tW, tW)
	}
	if d := (b.Block0 - a.Block0) * k.blk * f32; d != 0 {
		addImm(fn, d, tBias, tBias)
	}
}

// epilogue adds the residual, applies a clamp activation and stores the
// accumulators acc(o, p) for blocks o and pixels p; free are three or
// more vector registers the accumulators do not use. A step's other
// activations then run over the stored outputs (actPass).
func (k *convKernel) epilogue(blocks, npx int, acc func(o, p int) a64.Vec, free []int) {
	fn := k.fn
	zero, six, x := vreg(free[0]), vreg(free[1]), vreg(free[2])
	k.clampConsts(zero, six)
	for o := 0; o < blocks; o++ {
		out := qmem(fn, pxOut, o*k.outPlane, tmp) // pixel p at +p*16
		res := a64.M(pxRes, 0)
		if k.s.Residual() != nil {
			res = qmem(fn, pxRes, o*k.resPlane, tmp2)
		}
		for p := 0; p < npx; p++ {
			a := acc(o, p)
			if k.s.Residual() != nil {
				fn.FMOVQ(a64.M(res.Base, res.Off+k.resPx(p)), x.V)
				fn.VFADD(x, a, a)
			}
			k.activate(a, zero, six)
			fn.FMOVQ(a.V, a64.M(out.Base, out.Off+k.outPx(p)))
		}
	}
	if !k.s.Act.Clamp() {
		k.actPass(blocks, npx)
	}
}

// clampConsts sets the registers a clamp activation takes: zero (ReLU,
// ReLU6) and six (ReLU6).
func (k *convKernel) clampConsts(zero, six a64.Vec) {
	switch {
	case k.s.Act.Is(spec.ReLU6):
		k.fn.VFMOV(6, six)
		fallthrough
	case k.s.Act.Is(spec.ReLU):
		k.fn.VEOR(zero.V.B16(), zero.V.B16(), zero.V.B16())
	}
}

// activate applies a clamp activation to a. FMAX and FMIN return NaN
// when either input is NaN, as Go's max and min (and PyTorch) do.
func (k *convKernel) activate(a, zero, six a64.Vec) {
	switch {
	case k.s.Act.Is(spec.ReLU):
		k.fn.VFMAX(zero, a, a)
	case k.s.Act.Is(spec.ReLU6):
		k.fn.VFMAX(zero, a, a)
		k.fn.VFMIN(six, a, a)
	}
}
