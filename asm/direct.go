package asm

import (
	"github.com/mmcloughlin/avo/build"
	"github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"

	"github.com/acgen/acgen/plan"
	"github.com/acgen/acgen/target"
)

// direct builds the kernel of a Direct convolution step. For each input
// channel and tap, it loads the tile's weight vectors (one channel block
// of output channels each) and, for each pixel, broadcasts the input
// value and multiplies it into the pixel's accumulators: vectors*npx
// FMAs per vectors+npx loads.
func direct(ctx *build.Context, name string, t *target.Target, s *plan.Step) {
	k := newConvKernel(ctx, name, t, s)
	c := s.Conv
	k.build(func(tile plan.OCTile, npx int) {
		vectors := tile.Blocks
		acc := func(o, p int) reg.VecPhysical { return k.vec[o*npx+p] }
		wv := k.vec[vectors*npx : vectors*npx+vectors]
		bc := k.vec[vectors*npx+vectors]
		// Distance of each weight vector from the tile's first, in bytes.
		disp := make([]int, vectors)
		for o := range disp {
			disp[o] = (c.BlockWeights(tile.Block0+o, tile.ICLo) - tile.WeightOff) * f32
		}
		ctx.MOVQ(k.tBias, biasP)
		for o := 0; o < vectors; o++ {
			for p := 0; p < npx; p++ {
				ctx.VMOVUPS(mem(biasP, o*k.blk*f32), acc(o, p))
			}
		}
		ctx.MOVQ(pxIn, icIn)
		ctx.MOVQ(k.tW, icW)
		taps := c.KH * c.KW
		chunkBytes := func(n int) int { return n * taps * plan.Group * f32 }
		// One unrolled chunk: channels cs of the block at icIn.
		chunk := func(cs []int) {
			for j, ch := range cs {
				for ky := 0; ky < c.KH; ky++ {
					for kx := 0; kx < c.KW; kx++ {
						woff := (j*taps + ky*c.KW + kx) * plan.Group * f32
						for o := 0; o < vectors; o++ {
							ctx.VMOVUPS(mem(icW, woff+disp[o]), wv[o])
						}
						tap := ky*c.DilH*k.inRow + kx*c.DilW*k.blk*f32 + ch*f32
						for p := 0; p < npx; p++ {
							ctx.VBROADCASTSS(mem(icIn, tap+p*c.StrideW*k.blk*f32), bc)
							for o := 0; o < vectors; o++ {
								ctx.VFMADD231PS(wv[o], bc, acc(o, p))
							}
						}
					}
				}
			}
		}
		for _, run := range plan.ChunkRuns(tile, k.blk) {
			if run.Count > 1 {
				ctx.MOVQ(imm(run.Count), icCnt)
				loop := k.label("ic")
				ctx.Label(loop)
				chunk(run.Channels)
				ctx.ADDQ(imm(k.inPlane), icIn)
				ctx.ADDQ(imm(chunkBytes(len(run.Channels))), icW)
				ctx.DECQ(icCnt)
				ctx.JNZ(operand.LabelRef(loop))
				continue
			}
			chunk(run.Channels)
			ctx.ADDQ(imm(k.inPlane), icIn)
			ctx.ADDQ(imm(chunkBytes(len(run.Channels))), icW)
		}
		k.epilogue(vectors, npx, acc, [2]reg.VecPhysical{wv[0], bc})
	})
}
