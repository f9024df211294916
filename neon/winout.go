package neon

import "github.com/acgen/acgen/internal/a64"

// Registers of the output transform kernel, beside the w* ones.
const (
	oMP     = a64.R9  // M of the output channel block, the range's first tile
	oBiasP  = a64.R10 // bias of the block
	oTmpP   = a64.R11 // transform temporary
	oOut    = a64.R12 // the block's output at tile row r0
	oRes    = a64.R13 // its residual
	oCnt    = a64.R14 // blocks left
	oMp     = a64.R15 // M of the current tile
	oPxOut  = a64.R16
	oPxRes  = a64.R17
	oRowCnt = a64.R19
	oPxCnt  = a64.R20
	oBOut   = a64.R21 // block blk's output, channel block 0
)

// outputPhase: for each output channel block lo to hi-1 and tile of the
// range's rows, A^T M A plus bias, residual and activation, stored as
// m x m pixels.
func (k *winogradKernel) outputPhase() {
	fn := k.fn
	c := k.c
	a, m := k.a, k.m
	res := k.s.Residual() != nil
	x, t, kc := vecsFrom(0, a), vecsFrom(6, 2), vecsFrom(8, 3)
	bias, zero, six, r := vreg(11), vreg(12), vreg(13), vreg(14)
	k.consts(k.tr.outConsts, kc)
	k.clampConsts(zero, six)
	k.scratchPtr(k.mOff, oMP)
	mulAdd(fn, wLo, k.mBlk, oMP, oMP)
	mulAdd(fn, wR0, c.TilesX*k.tileB, oMP, oMP)
	addImm(fn, c.BiasOff*f32, wBase, oBiasP)
	fn.LSL(4, wLo, tmp)
	fn.ADD(tmp, oBiasP, oBiasP)
	addImm(fn, k.tmpOff, wsBase, oTmpP)
	fn.ADD(wScratch, oTmpP, oTmpP)
	k.blockBase(k.outBase, k.outRow, oBOut)
	mulAdd(fn, wLo, k.outPlane, oBOut, oOut)
	mulAdd(fn, wR0, m*k.outRow, oOut, oOut)
	if res {
		k.blockBase(k.resBase, k.resRow, oRes)
		mulAdd(fn, wLo, k.resPlane, oRes, oRes)
		mulAdd(fn, wR0, m*k.resRow, oRes, oRes)
	}
	fn.MOVD(wRows, oCnt)
	ocbLoop := fn.NewLabel("ocb")
	fn.Label(ocbLoop)
	fn.FMOVQ(a64.M(oBiasP, 0), bias.V)
	fn.MOVD(oMP, oMp)
	fn.MOVD(oOut, oPxOut)
	tileStep := m * vb
	ptrs := []a64.Reg{oMp, oPxOut}
	steps := []int{k.tileB, tileStep}
	rowSteps := []int{0, m*k.outRow - c.TilesX*tileStep}
	if res {
		fn.MOVD(oRes, oPxRes)
		ptrs = append(ptrs, oPxRes)
		steps = append(steps, tileStep)
		rowSteps = append(rowSteps, m*k.resRow-c.TilesX*tileStep)
	}
	k.tileLoops(oRowCnt, oPxCnt, ptrs, steps, rowSteps, func() {
		// Columns: tmp[r][j] = (A^T M)[r][j].
		for j := 0; j < a; j++ {
			for i := 0; i < a; i++ {
				fn.FMOVQ(a64.M(oMp, (i*a+j)*vb), x[i].V)
			}
			y := k.tr.output(fn, x, t, kc)
			for r := 0; r < m; r++ {
				fn.FMOVQ(y[r].V, a64.M(oTmpP, (r*a+j)*vb))
			}
		}
		// Rows: pixel (row, col) = (tmp A)[row][col] + bias (+ residual), activated.
		for row := 0; row < m; row++ {
			for j := 0; j < a; j++ {
				fn.FMOVQ(a64.M(oTmpP, (row*a+j)*vb), x[j].V)
			}
			y := k.tr.output(fn, x, t, kc)
			for col := 0; col < m; col++ {
				v := y[col]
				fn.VFADD(bias, v, v)
				if res {
					fn.FMOVQ(qmem(fn, oPxRes, row*k.resRow+col*vb, tmp), r.V)
					fn.VFADD(r, v, v)
				}
				k.activate(v, zero, six)
				fn.FMOVQ(v.V, qmem(fn, oPxOut, row*k.outRow+col*vb, tmp))
			}
		}
	})
	addImm(fn, k.mBlk, oMP, oMP)
	addImm(fn, vb, oBiasP, oBiasP)
	addImm(fn, k.outPlane, oOut, oOut)
	if res {
		addImm(fn, k.resPlane, oRes, oRes)
	}
	fn.SUBS(a64.Imm(1), oCnt, oCnt)
	fn.BNE(ocbLoop)
}

// clearOverhang zeroes what the range's tiles wrote past the output into
// its halo, which every reader expects to be zero, in output channel
// blocks lo to hi-1: the columns right of the output in the range's
// rows, and, if it ends the last block, the rows below. Other calls
// touch other rows or planes.
func (k *winogradKernel) clearOverhang() {
	fn := k.fn
	c := k.c
	m := k.m
	over, cols := c.TilesY*m-c.OutH, c.TilesX*m-c.OutW
	if over == 0 && cols == 0 {
		return
	}
	const (
		cnt    = a64.R22 // pixel rows to clear
		rowOut = a64.R23
		planes = a64.R20
		px     = a64.R16
		rowsC  = a64.R19
	)
	blockRows := c.BlockRows * m
	last := c.TilesY/c.BlockRows - 1
	// ends branches to no unless the range ends the image: block last,
	// tile rows up to r1 = BlockRows.
	ends := func(no string) {
		fn.CMP(a64.Imm(last), wBlk)
		fn.BNE(no)
		fn.ADD(wR0, wNRows, tmp)
		fn.CMP(a64.Imm(c.BlockRows), tmp)
		fn.BNE(no)
	}
	// cnt: the range's pixel rows inside the output.
	fn.MOVD(a64.Imm(m), tmp)
	fn.MUL(tmp, wNRows, cnt)
	notLast := fn.NewLabel("notlast")
	ends(notLast)
	fn.SUB(a64.Imm(over), cnt, cnt)
	fn.Label(notLast)
	zero := vreg(0)
	fn.VEOR(zero.V.B16(), zero.V.B16(), zero.V.B16())
	// clear zeroes rows pixel rows of ncols pixels from firstCol, from
	// the block's pixel row firstRow, plus the range's first if fromR0.
	clear := func(rows a64.Reg, fromR0 bool, firstRow, firstCol, ncols int) {
		mulAdd(fn, wLo, k.outPlane, oBOut, rowOut)
		if fromR0 {
			mulAdd(fn, wR0, m*k.outRow, rowOut, rowOut)
		}
		addImm(fn, firstRow*k.outRow, rowOut, rowOut)
		fn.MOVD(wRows, planes)
		plane := fn.NewLabel("clear")
		fn.Label(plane)
		fn.MOVD(rowOut, px)
		fn.MOVD(rows, rowsC)
		l := fn.NewLabel("clearrow")
		fn.Label(l)
		for x := firstCol; x < firstCol+ncols; x++ {
			fn.FMOVQ(zero.V, qmem(fn, px, x*vb, tmp))
		}
		addImm(fn, k.outRow, px, px)
		fn.SUBS(a64.Imm(1), rowsC, rowsC)
		fn.BNE(l)
		addImm(fn, k.outPlane, rowOut, rowOut)
		fn.SUBS(a64.Imm(1), planes, planes)
		fn.BNE(plane)
	}
	if cols > 0 {
		clear(cnt, true, 0, c.OutW, cols)
	}
	if over > 0 {
		done := fn.NewLabel("cleardone")
		ends(done)
		fn.MOVD(a64.Imm(over), cnt)
		// The rows below the output, from the block's first row.
		clear(cnt, false, c.OutH-last*blockRows, 0, c.TilesX*m)
		fn.Label(done)
	}
}
