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
// by-element form makes one load serve four channels.)
func direct(f *a64.File, name string, t *target.Target, s *plan.Step) {
	k := newConvKernel(t, s)
	c := s.Conv
	k.build(f, name, func(tile plan.OCTile, npx int) {
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
		for o := 0; o < vectors; o++ {
			fn.FMOVQ(a64.M(tBias, o*vb), acc(o, 0).V)
			for p := 1; p < npx; p++ {
				fn.VMOV(acc(o, 0).V.B16(), acc(o, p).V.B16())
			}
		}
		fn.MOVD(pxIn, icIn)
		fn.MOVD(tW, icW)
		taps := c.KH * c.KW
		chunkBytes := func(n int) int { return n * taps * plan.Group * f32 }
		// One unrolled chunk: channels cs of the block at icIn.
		chunk := func(cs []int) {
			fn.MOVD(icIn, tmp) // kernel row ky's input
			for ky := 0; ky < c.KH; ky++ {
				for kx := 0; kx < c.KW; kx++ {
					for p := 0; p < npx; p++ {
						fn.FMOVQ(qmem(fn, tmp, kx*c.DilW*vb+p*c.StrideW*vb, tmp2), x(p))
					}
					for j, ch := range cs {
						woff := (j*taps + ky*c.KW + kx) * plan.Group * f32
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
				if ky < c.KH-1 {
					fn.ADD(inStride, tmp, tmp)
				}
			}
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
		k.epilogue(vectors, npx, acc, free)
	})
}
