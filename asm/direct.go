package asm

import (
	"github.com/mmcloughlin/avo/build"
	"github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"

	"github.com/acgen/acgen/plan"
)

// direct builds the kernel of a Direct convolution step. For each input
// channel and tap, it loads the tile's weight vectors (8 output channels
// each) and, for each pixel, broadcasts the input value and multiplies it
// into the pixel's accumulators: blocks*npx FMAs per blocks+npx loads.
func direct(ctx *build.Context, name string, s *plan.Step) {
	k := newConvKernel(ctx, name, s)
	c := s.Conv
	k.build(func(t plan.OCTile, npx int) {
		blocks := t.Blocks
		acc := func(o, p int) reg.VecPhysical { return ymm[o*npx+p] }
		wv := ymm[blocks*npx : blocks*npx+blocks]
		bc := ymm[blocks*npx+blocks]
		ctx.MOVQ(k.tBias, biasP)
		for o := 0; o < blocks; o++ {
			for p := 0; p < npx; p++ {
				ctx.VMOVUPS(mem(biasP, o*plan.Block*f32), acc(o, p))
			}
		}
		ctx.MOVQ(pxIn, icIn)
		ctx.MOVQ(k.tW, icW)
		chunkBytes := func(n int) int { return n * c.KH * c.KW * blocks * plan.Block * f32 }
		// One unrolled chunk: channels cs of the block at icIn.
		chunk := func(cs []int) {
			woff := 0
			for _, ch := range cs {
				for ky := 0; ky < c.KH; ky++ {
					for kx := 0; kx < c.KW; kx++ {
						for o := 0; o < blocks; o++ {
							ctx.VMOVUPS(mem(icW, woff+o*plan.Block*f32), wv[o])
						}
						woff += blocks * plan.Block * f32
						tap := ky*c.DilH*k.inRow + kx*c.DilW*plan.Block*f32 + ch*f32
						for p := 0; p < npx; p++ {
							ctx.VBROADCASTSS(mem(icIn, tap+p*c.StrideW*plan.Block*f32), bc)
							for o := 0; o < blocks; o++ {
								ctx.VFMADD231PS(wv[o], bc, acc(o, p))
							}
						}
					}
				}
			}
		}
		for _, run := range chunkRuns(t) {
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
		k.epilogue(blocks, npx, acc, [2]reg.VecPhysical{wv[0], bc})
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
