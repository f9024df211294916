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
// FMAs per vectors+npx loads. The step's schedule (plan.DirectSchedule)
// says how its passes over the input channels and its pixel tiles go,
// and how much of a channel block's taps one body unrolls.
func direct(ctx *build.Context, name string, t *target.Target, s *plan.Step) {
	k := newConvKernel(ctx, name, t, s)
	c := s.Conv
	sched := c.Direct
	unroll := sched.Unroll
	if unroll <= 0 || unroll > k.blk || k.blk%unroll != 0 {
		unroll = k.blk
	}
	k.build(func(tile plan.OCTile, npx int, ps icPass) {
		vectors := tile.Blocks
		acc := func(o, p int) reg.VecPhysical { return k.vec[o*npx+p] }
		wv := k.vec[vectors*npx : vectors*npx+vectors]
		bc := k.vec[vectors*npx+vectors]
		// Distance of each weight vector from the tile's first, in bytes.
		disp := make([]int, vectors)
		for o := range disp {
			disp[o] = (c.BlockWeights(tile.Block0+o, tile.ICLo) - tile.WeightOff) * f32
		}
		if ps.first {
			ctx.MOVQ(k.tBias, biasP)
			for o := 0; o < vectors; o++ {
				for p := 0; p < npx; p++ {
					ctx.VMOVUPS(mem(biasP, o*k.blk*f32), acc(o, p))
				}
			}
		} else {
			// A chain of its own, added to the partial sums the previous
			// passes stored once it ends: shorter chains of FMAs round
			// less (see plan.DirectSchedule).
			for o := 0; o < vectors; o++ {
				for p := 0; p < npx; p++ {
					k.zero(acc(o, p))
				}
			}
		}
		ctx.MOVQ(pxIn, icIn)
		ctx.MOVQ(k.tW, icW)
		taps := c.KH * c.KW
		tapBytes := plan.Group * f32
		chanBytes := taps * tapBytes // weights of one input channel
		// window is one channel's taps in kernel rows ky0 to ky1-1: the
		// channel at byte ch of the block at icIn, whose weights start
		// at byte woff from icW.
		window := func(ch, woff, ky0, ky1 int) {
			for ky := ky0; ky < ky1; ky++ {
				for kx := 0; kx < c.KW; kx++ {
					w := woff + (ky*c.KW+kx)*tapBytes
					for o := 0; o < vectors; o++ {
						ctx.VMOVUPS(mem(icW, w+disp[o]), wv[o])
					}
					tap := ky*c.DilH*k.inRow + kx*c.DilW*k.blk*f32 + ch
					for p := 0; p < npx; p++ {
						ctx.VBROADCASTSS(mem(icIn, tap+k.inPx(p)), bc)
						for o := 0; o < vectors; o++ {
							ctx.VFMADD231PS(wv[o], bc, acc(o, p))
						}
					}
				}
			}
		}
		// channel is one channel's window, a row of taps at a time in a
		// loop when the schedule says so.
		channel := func(ch, woff int) {
			if !sched.RowLoop || c.KH == 1 {
				window(ch, woff, 0, c.KH)
				return
			}
			ctx.MOVQ(imm(c.KH), k.kyCnt)
			loop := k.label("ky")
			ctx.Label(loop)
			window(ch, woff, 0, 1)
			ctx.ADDQ(imm(c.DilH*k.inRow), icIn)
			ctx.ADDQ(imm(c.KW*tapBytes), icW)
			ctx.DECQ(k.kyCnt)
			ctx.JNZ(operand.LabelRef(loop))
			ctx.SUBQ(imm(c.KH*c.DilH*k.inRow), icIn)
			ctx.SUBQ(imm(c.KH*c.KW*tapBytes), icW)
		}
		// block computes channels cs of the block at icIn and moves
		// icIn and icW on to the next block: unrolled, or a whole block
		// in a loop over runs of unroll channels.
		block := func(cs []int) {
			if len(cs) < k.blk || unroll == k.blk {
				for j, ch := range cs {
					channel(ch*f32, j*chanBytes)
				}
				ctx.ADDQ(imm(k.inPlane), icIn)
				ctx.ADDQ(imm(len(cs)*chanBytes), icW)
				return
			}
			ctx.MOVQ(imm(k.blk/unroll), chCnt)
			loop := k.label("ch")
			ctx.Label(loop)
			for j := 0; j < unroll; j++ {
				channel(j*f32, j*chanBytes)
			}
			ctx.ADDQ(imm(unroll*f32), icIn)
			ctx.ADDQ(imm(unroll*chanBytes), icW)
			ctx.DECQ(chCnt)
			ctx.JNZ(operand.LabelRef(loop))
			ctx.ADDQ(imm(k.inPlane-k.blk*f32), icIn)
		}
		for _, run := range plan.ChunkRuns(tile, k.blk) {
			if run.Count > 1 {
				ctx.MOVQ(imm(run.Count), icCnt)
				loop := k.label("ic")
				ctx.Label(loop)
				block(run.Channels)
				ctx.DECQ(icCnt)
				ctx.JNZ(operand.LabelRef(loop))
				continue
			}
			block(run.Channels)
		}
		if !ps.first {
			for o := 0; o < vectors; o++ {
				for p := 0; p < npx; p++ {
					ctx.VADDPS(mem(pxOut, o*k.outPlane+k.outPx(p)), acc(o, p), acc(o, p))
				}
			}
		}
		if ps.last {
			k.epilogue(vectors, npx, acc, [2]reg.VecPhysical{wv[0], bc})
			return
		}
		for o := 0; o < vectors; o++ {
			for p := 0; p < npx; p++ {
				ctx.VMOVUPS(acc(o, p), mem(pxOut, o*k.outPlane+k.outPx(p)))
			}
		}
	})
}
