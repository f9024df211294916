package asm

import (
	"github.com/mmcloughlin/avo/build"
	"github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"

	"github.com/acgen/acgen/plan"
	"github.com/acgen/acgen/target"
)

// direct builds the kernel of a Direct convolution step. For each input
// channel and tap, it loads the tile's weight vectors (Lanes output
// channels each: one channel block in YMM, two in ZMM) and, for each
// pixel, broadcasts the input value and multiplies it into the pixel's
// accumulators: vectors*npx FMAs per vectors+npx loads.
func direct(ctx *build.Context, name string, t *target.Target, s *plan.Step) {
	k := newConvKernel(ctx, name, t, s)
	c := s.Conv
	per := t.VectorBlocks()
	k.build(func(tile plan.OCTile, npx int) {
		vectors := (tile.Blocks + per - 1) / per
		acc := func(o, p int) reg.VecPhysical { return k.vec[o*npx+p] }
		wv := k.vec[vectors*npx : vectors*npx+vectors]
		bc := k.vec[vectors*npx+vectors]
		// Distance of each weight vector from the tile's first, in bytes.
		disp := make([]int, vectors)
		for o := range disp {
			disp[o] = (c.BlockWeights(tile.Block0+o*per, tile.ICLo) - tile.WeightOff) * f32
		}
		ctx.MOVQ(k.tBias, biasP)
		for o := 0; o < vectors; o++ {
			for p := 0; p < npx; p++ {
				ctx.VMOVUPS(mem(biasP, o*t.Lanes*f32), acc(o, p))
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
						tap := ky*c.DilH*k.inRow + kx*c.DilW*plan.Block*f32 + ch*f32
						for p := 0; p < npx; p++ {
							ctx.VBROADCASTSS(mem(icIn, tap+p*c.StrideW*plan.Block*f32), bc)
							for o := 0; o < vectors; o++ {
								ctx.VFMADD231PS(wv[o], bc, acc(o, p))
							}
						}
					}
				}
			}
		}
		for _, run := range chunkRuns(tile) {
			if run.count > 1 {
				ctx.MOVQ(imm(run.count), icCnt)
				loop := k.label("ic")
				ctx.Label(loop)
				chunk(run.channels)
				ctx.ADDQ(imm(k.inPlane), icIn)
				ctx.ADDQ(imm(chunkBytes(len(run.channels))), icW)
				ctx.DECQ(icCnt)
				ctx.JNZ(operand.LabelRef(loop))
				continue
			}
			chunk(run.channels)
			ctx.ADDQ(imm(k.inPlane), icIn)
			ctx.ADDQ(imm(chunkBytes(len(run.channels))), icW)
		}
		if per == 1 {
			k.epilogue(vectors, npx, acc, [2]reg.VecPhysical{wv[0], bc})
			return
		}
		spare := k.vec[vectors*npx+vectors+1:]
		tmp := bc
		zero, six := wv[0], wv[0]
		if vectors > 1 {
			six = wv[1]
		} else if len(spare) > 0 {
			six = spare[0]
		}
		k.wideEpilogue(tile.Blocks, npx, acc, tmp, zero, six)
	})
}

// chunkRun is count consecutive channel blocks of which the same channels
// (offsets within the block) are read.
type chunkRun struct {
	channels []int
	count    int
}

// chunkRuns splits a tile's input channels into runs of channel blocks:
// whole blocks, and partial ones at either end of the range.
func chunkRuns(t plan.OCTile) []chunkRun {
	var runs []chunkRun
	for b := t.ICLo / plan.Block; b*plan.Block < t.ICHi; b++ {
		var cs []int
		for ch := 0; ch < plan.Block; ch++ {
			if ic := b*plan.Block + ch; ic >= t.ICLo && ic < t.ICHi {
				cs = append(cs, ch)
			}
		}
		if n := len(runs); n > 0 && len(runs[n-1].channels) == plan.Block && len(cs) == plan.Block {
			runs[n-1].count++
			continue
		}
		runs = append(runs, chunkRun{channels: cs, count: 1})
	}
	return runs
}
