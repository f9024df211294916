package plan_test

import (
	"slices"
	"testing"

	"github.com/acgen/acgen/plan"
)

// TestGatherSteps: in ShuffleNet's blocks, a split of a shuffle is one
// copy (the shuffle composed away), a shuffle before a convolution costs
// no step, and the other gathers are copies.
func TestGatherSteps(t *testing.T) {
	p := specProgram(t, `input: [8, 9, 7]
layers:
  - {name: c0, op: conv, out: 24, kernel: 1}
  - {name: sp, op: split, sizes: [12, 12]}
  - {name: b1, op: conv, out: 12, kernel: 1, inputs: [sp:1]}
  - {name: cat, op: concat, inputs: [sp:0, b1]}
  - {name: sh, op: channel_shuffle, groups: 2}
  - {name: sp2, op: split, sizes: [12, 12]}
  - {name: d1, op: conv, out: 12, kernel: 1, inputs: [sp2:1]}
  - {name: cat2, op: concat, inputs: [sp2:0, d1]}
  - {name: sh2, op: channel_shuffle, groups: 3}
  - {name: e, op: conv, out: 14, kernel: 3, padding: 1}
`)
	var gathers []string
	for _, s := range p.Steps {
		if s.Kind == plan.Gather {
			gathers = append(gathers, s.Name)
			if len(s.Channels) != s.Out.Layout.C {
				t.Errorf("%s: %d channels for %d", s.Name, len(s.Channels), s.Out.Layout.C)
			}
		}
		if s.Name == "sh" || s.Name == "sh2" {
			t.Errorf("step %s: the shuffle is still there", s.Name)
		}
	}
	if want := []string{"sp:0", "sp:1", "sp2:0", "sp2:1"}; !slices.Equal(gathers, want) {
		t.Errorf("gather steps %v, want %v", gathers, want)
	}
}
