package plan

import (
	"reflect"
	"strings"
	"testing"

	"github.com/acgen/acgen/graph"
	"github.com/acgen/acgen/target"
)

// directStep plans a dense convolution of in to out channels, a k x k
// window at the stride (padding k/2), over an h x w input, directly.
func directStep(tg *target.Target, in, out, k, stride, h, w int) *ConvStep {
	p := &planner{target: tg, prog: &Program{Target: tg}}
	c := &ConvStep{Conv: graph.Conv{In: in, Out: out, KH: k, KW: k, StrideH: stride, StrideW: stride,
		PadH: k / 2, PadW: k / 2, DilH: 1, DilW: 1, Groups: 1}, Block: tg.Lanes}
	c.OutH, c.OutW = c.Conv.OutSize(h, w)
	c.Algo = Direct
	p.chooseDirect(c)
	return c
}

// TestRowSplits: a row is split into whole tiles and a remainder, and
// into as many tiles as even as they go.
func TestRowSplits(t *testing.T) {
	for _, tc := range []struct {
		w, pixels int
		want      [][]PixelRun
	}{
		{7, 6, [][]PixelRun{{{6, 1}, {1, 1}}, {{4, 1}, {3, 1}}}},
		{14, 6, [][]PixelRun{{{6, 2}, {2, 1}}, {{5, 2}, {4, 1}}}},
		{12, 6, [][]PixelRun{{{6, 2}}}},
		{3, 6, [][]PixelRun{{{3, 1}}}},
		{56, 6, [][]PixelRun{{{6, 9}, {2, 1}}, {{6, 6}, {5, 4}}}},
	} {
		got := rowSplits(tc.w, tc.pixels)
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("rowSplits(%d, %d) = %v, want %v", tc.w, tc.pixels, got, tc.want)
		}
		for _, s := range got {
			n := 0
			for _, r := range s {
				n += r.Width * r.Count
			}
			if n != tc.w {
				t.Errorf("rowSplits(%d, %d): %v covers %d pixels", tc.w, tc.pixels, s, n)
			}
		}
	}
}

// TestDirectSchedules: the model's choices for layers whose weights
// outgrow L1 and for layers whose do not, on the assembly targets.
func TestDirectSchedules(t *testing.T) {
	for _, tg := range []*target.Target{target.AVX512, target.AVX2, target.NEON} {
		l1 := tg.Cost.L1Bytes
		// ResNet-50's 2048 -> 512 1x1 at 7x7: a 512 KB panel a tile in
		// one pass on AVX-512, beyond L2's half. Passes keep each within
		// L1, and no pixel tile of the 7-pixel rows is a single pixel.
		c := directStep(tg, 2048, 512, 1, 1, 7, 7)
		if tg == target.AVX512 && (c.Direct.KBlock == 0 || c.Passes() < 2) {
			t.Errorf("%s: 2048 -> 512 at 7x7: one pass (%s)", tg, c.Direct.Why)
		}
		if panel := c.Direct.KBlock * c.Tiles[0].Blocks * c.Block * 4; panel > l1*3/4 {
			t.Errorf("%s: 2048 -> 512 at 7x7: a pass's panel is %d bytes, over 3/4 of L1 (%s)", tg, panel, c.Direct.Why)
		}
		for _, r := range c.Direct.Runs {
			if r.Width < 2 {
				t.Errorf("%s: 2048 -> 512 at 7x7: row split %v has a one-pixel tile", tg, c.Direct.Runs)
			}
		}
		if !strings.Contains(c.Direct.Why, "runner-up") || !strings.Contains(c.Direct.Why, "passes of") {
			t.Errorf("%s: 2048 -> 512: Why = %q, want the choice and its runner-up", tg, c.Direct.Why)
		}
		// ResNet-50's 64 -> 256 1x1 at 56x56: a 16-64 KB panel; one pass.
		if c := directStep(tg, 64, 256, 1, 1, 56, 56); c.Direct.KBlock != 0 {
			t.Errorf("%s: 64 -> 256 at 56x56: %d passes (%s)", tg, c.Passes(), c.Direct.Why)
		}
		// The 7x7/2 stem over 3 channels: the window's 49 taps would be
		// a body of thousands of instructions; it loops over rows.
		if c := directStep(tg, 3, 64, 7, 2, 224, 224); !c.Direct.RowLoop {
			t.Errorf("%s: 7x7 stem: unrolls all 49 taps (%s)", tg, c.Direct.Why)
		}
		// Every schedule's body stays within the budget.
		for _, c := range []*ConvStep{
			directStep(tg, 512, 512, 3, 2, 14, 14),
			directStep(tg, 128, 128, 3, 2, 56, 56),
			directStep(tg, 1024, 256, 1, 1, 14, 14),
		} {
			v, px := c.Tiles[0].Blocks, c.Pixels
			taps := c.KH * c.KW
			if c.Direct.RowLoop {
				taps = c.KW
			}
			n := c.Direct.Unroll * taps * (v + px*(1+v)) // weight loads, broadcasts, FMAs
			if tg.PixelRegs > 0 {
				// A block's input loads, then each channel's weight
				// loads and FMAs by element.
				if c.Direct.Unroll != c.Block {
					t.Errorf("%s: unrolls %d channels of a block of %d", tg, c.Direct.Unroll, c.Block)
				}
				n = taps * (px + c.Block*v*(1+px))
			}
			if n > bodyBudget {
				t.Errorf("%s: %dx%d %d -> %d: body of %d instructions, over %d", tg, c.KH, c.KW, c.In, c.Out, n, bodyBudget)
			}
		}
	}
}

// TestForcedKBlock: Options.KBlock makes every dense direct convolution
// of more input channels take passes of that many, a row of taps and
// one channel a body.
func TestForcedKBlock(t *testing.T) {
	tg := target.AVX2
	p := &planner{target: tg, prog: &Program{Target: tg}, opt: Options{KBlock: 32}}
	c := &ConvStep{Conv: graph.Conv{In: 70, Out: 40, KH: 5, KW: 5, StrideH: 1, StrideW: 1, PadH: 2, PadW: 2,
		DilH: 1, DilW: 1, Groups: 1}, Block: tg.Lanes, OutH: 6, OutW: 9}
	p.chooseDirect(c)
	if c.Direct.KBlock != 32 || c.Passes() != 3 || c.Direct.Unroll != 1 || !c.Direct.RowLoop {
		t.Errorf("forced passes of 32 over 70 channels: %+v, %d passes", c.Direct, c.Passes())
	}
}
