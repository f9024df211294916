package neon

import (
	"github.com/acgen/acgen/internal/a64"
	"github.com/acgen/acgen/plan"
	"github.com/acgen/acgen/target"
)

// direct builds the kernel of a Direct convolution step. For each input
// channel block and tap, it loads each pixel's input vector (the block's
// 4 channels) and, for each channel, the tile's weight vectors (one
// channel block of output channels each), and multiplies the channel's
// lane of each input into the accumulators with FMLA by element:
// 4*vectors*npx FMAs per npx+4*vectors loads. (x86 broadcasts each
// input value instead; NEON has no broadcast load at an offset, and the
// by-element form makes one load serve four channels.) The step's
// schedule (plan.DirectSchedule) says how its passes over the input
// channels and its pixel tiles go, and whether the body loops over the
// window's rows; it unrolls a whole channel block always (its Unroll is
// the block: one input load serves the block's channels).
func direct(f *a64.File, name string, t *target.Target, s *plan.Step) {
	k := newConvKernel(t, s)
	c := s.Conv
	sched := c.Direct
	k.build(f, name, func(tile plan.OCTile, npx int, ps icPass) {
		fn := k.fn
		vectors := tile.Blocks
		if t.TileRegs(target.Shape{Vectors: vectors, Pixels: npx}) > 32 {
			panic("neon: direct tile larger than the register file") // plan picks target.NEON's tiles
		}
		acc := func(o, p int) a64.Vec { return vreg(o*npx + p) }
		wv := func(o int) a64.Vec { return vreg(vectors*npx + o) }
		x := func(p int) a64.VReg { return a64.VReg(vectors*npx + vectors + p) }
		var free []int
		for r := vectors * npx; r < 32; r++ {
			free = append(free, r)
		}
		// Distance of each weight vector from the tile's first, in bytes.
		disp := make([]int, vectors)
		for o := range disp {
			disp[o] = (c.BlockWeights(tile.Block0+o, tile.ICLo) - tile.WeightOff) * f32
		}
		if ps.first {
			for o := 0; o < vectors; o++ {
				fn.FMOVQ(a64.M(tBias, o*vb), acc(o, 0).V)
				for p := 1; p < npx; p++ {
					fn.VMOV(acc(o, 0).V.B16(), acc(o, p).V.B16())
				}
			}
		} else {
			// A chain of its own, added to the partial sums the previous
			// passes stored once it ends: shorter chains of FMAs round
			// less (see plan.DirectSchedule).
			for o := 0; o < vectors; o++ {
				for p := 0; p < npx; p++ {
					r := acc(o, p).V.B16()
					fn.VEOR(r, r, r)
				}
			}
		}
		fn.MOVD(pxIn, icIn)
		fn.MOVD(tW, icW)
		taps := c.KH * c.KW
		tapBytes := plan.Group * f32
		chunkBytes := func(n int) int { return n * taps * tapBytes }
		// rows is channels cs's taps in kernel rows ky0 to ky1-1, the
		// rows' input from tmp on, their weights woff from icW on.
		rows := func(cs []int, ky0, ky1 int) {
			for ky := ky0; ky < ky1; ky++ {
				for kx := 0; kx < c.KW; kx++ {
					for p := 0; p < npx; p++ {
						fn.FMOVQ(qmem(fn, tmp, kx*c.DilW*vb+k.inPx(p), tmp2), x(p))
					}
					for j, ch := range cs {
						woff := (j*taps + ky*c.KW + kx) * tapBytes
						for o := 0; o < vectors; o++ {
							fn.FMOVQ(qmem(fn, icW, woff+disp[o], tmp2), wv(o).V)
						}
						for p := 0; p < npx; p++ {
							for o := 0; o < vectors; o++ {
								fn.VFMLAE(x(p).S(ch), wv(o), acc(o, p))
							}
						}
					}
				}
				if ky < ky1-1 {
					fn.ADD(inStride, tmp, tmp)
				}
			}
		}
		// One channel block's chunk: channels cs of the block at icIn,
		// unrolled, or a row of taps at a time in a loop when the
		// schedule says so.
		chunk := func(cs []int) {
			fn.MOVD(icIn, tmp) // kernel row ky's input
			if !sched.RowLoop || c.KH == 1 {
				rows(cs, 0, c.KH)
				return
			}
			fn.MOVD(a64.Imm(c.KH), kyCnt)
			loop := fn.NewLabel("ky")
			fn.Label(loop)
			rows(cs, 0, 1)
			fn.ADD(inStride, tmp, tmp)
			addImm(fn, c.KW*tapBytes, icW, icW)
			fn.SUBS(a64.Imm(1), kyCnt, kyCnt)
			fn.BNE(loop)
			addImm(fn, -c.KH*c.KW*tapBytes, icW, icW)
		}
		for _, run := range plan.ChunkRuns(tile, k.blk) {
			step := func() {
				addImm(fn, k.inPlane, icIn, icIn)
				addImm(fn, chunkBytes(len(run.Channels)), icW, icW)
			}
			if run.Count > 1 {
				fn.MOVD(a64.Imm(run.Count), icCnt)
				loop := fn.NewLabel("ic")
				fn.Label(loop)
				chunk(run.Channels)
				step()
				fn.SUBS(a64.Imm(1), icCnt, icCnt)
				fn.BNE(loop)
				continue
			}
			chunk(run.Channels)
			step()
		}
		if !ps.first {
			// The partial sums, through the free weight register.
			y := wv(0)
			for o := 0; o < vectors; o++ {
				out := qmem(fn, pxOut, o*k.outPlane, tmp)
				for p := 0; p < npx; p++ {
					fn.FMOVQ(a64.M(out.Base, out.Off+k.outPx(p)), y.V)
					fn.VFADD(y, acc(o, p), acc(o, p))
				}
			}
		}
		if ps.last {
			k.epilogue(vectors, npx, acc, free)
			return
		}
		for o := 0; o < vectors; o++ {
			out := qmem(fn, pxOut, o*k.outPlane, tmp)
			for p := 0; p < npx; p++ {
				fn.FMOVQ(acc(o, p).V, a64.M(out.Base, out.Off+k.outPx(p)))
			}
		}
	})
}
