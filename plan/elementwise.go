package plan

import (
	"fmt"

	"github.com/acgen/acgen/graph"
	"github.com/acgen/acgen/target"
)

// The elementwise steps (Activation, Add, Mul, Affine) read each value
// once and write it once: memory bounds them, not arithmetic, unless
// their activation is one of the exp family. Their kernels take output
// rows lo to hi-1, every channel block of each (as LayerNorm's do), so
// that goroutines share a large one.

// MaxElemInputs bounds the inputs of a step the elementwise kernels run:
// each input keeps a pointer register (an amd64 kernel has 14). A sum of
// more runs in Go.
const MaxElemInputs = 8

// Elementwise reports whether k is one of the elementwise kinds, whose
// steps the emitters' elementwise kernels build.
func (k Kind) Elementwise() bool { return k == Activation || k == Add || k == Mul || k == Affine }

// elemKernel is the elementwise kinds' KindRow.Kernel.
func elemKernel(s *Step) bool { return len(s.In) <= MaxElemInputs }

// NeedsLaneMask reports whether the kernels must set the padded lanes of
// s's output back to zero: its activation is not zero at zero (sigmoid)
// and its channels do not fill the last block.
func (s *Step) NeedsLaneMask() bool {
	l := s.Out.Layout
	return !s.Act.None() && !s.Act.F.ZeroAtZero && l.C%l.Block != 0
}

// packLaneMask reserves, for a step that NeedsLaneMask, the vector of 1
// in the lanes of the last channel block that are channels and 0 in the
// others (Step.MaskOff): its kernels multiply that block's results by it.
func packLaneMask(p *planner, s *Step) {
	if !s.NeedsLaneMask() {
		return
	}
	s.MaskOff = p.reserveLaneMask(s.Nodes[0], s.Out.Layout.C)
}

// reserveLaneMask reserves node's vector of 1 in the lanes of the last
// block of c channels that are channels and 0 in the others, for the
// target's lanes: the elementwise kernels' mask, and LayerNorm's.
func (p *planner) reserveLaneMask(node *graph.Node, c int) int {
	blk := p.target.Lanes
	return p.blob.reserve(node, fmt.Sprintf("mask/%d", blk), padded(blk), func(dst []float32) {
		for i := 0; i < blk; i++ {
			if (c-1)/blk*blk+i < c {
				dst[i] = 1
			}
		}
	})
}

// laneMaskWeights is the lane mask's offset, for Check, when s has one.
func laneMaskWeights(s *Step) []int {
	if s.NeedsLaneMask() {
		return []int{s.MaskOff}
	}
	return nil
}

// elemCycles is the cost model's estimate of an elementwise step: the
// bytes it moves at the memory's rate, or, where its activation is of
// the exp family (some 40 vector instructions a vector), that work at
// the FMA rate, whichever is more.
func (s *Step) elemCycles(t *target.Target) float64 {
	l := s.Out.Layout
	vectors := float64(l.CB() * l.H * l.W)
	bytes := vectors * float64(len(s.In)+1) * float64(l.Block*4)
	cycles := bytes / t.Cost.MemoryBytesPerCycle
	if !s.Act.Clamp() {
		cycles = max(cycles, vectors*40/(t.Cost.FMAsPerCycle*t.Cost.Efficiency))
	}
	return cycles
}
