package plan_test

import (
	"testing"

	"github.com/acgen/acgen/fuse"
	"github.com/acgen/acgen/graph"
	"github.com/acgen/acgen/internal/synth"
	"github.com/acgen/acgen/plan"
	"github.com/acgen/acgen/spec"
	"github.com/acgen/acgen/target"
)

// specProgram plans a spec with synthesized weights for AVX2.
func specProgram(t *testing.T, src string) *plan.Program {
	t.Helper()
	net, err := spec.Parse("s.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	ts, err := synth.Checkpoint(net, 1)
	if err != nil {
		t.Fatal(err)
	}
	g, err := graph.Build(net, synth.File("model.pth", ts), graph.Options{})
	if err != nil {
		t.Fatal(err)
	}
	fused, _ := fuse.Fuse(g)
	p, err := plan.Build(fused, target.AVX2, plan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Check(); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestPoolKernels: max pooling runs as a window over a halo (the
// assembly's) where zeros there lose every max, with the halo as wide as
// a ceil_mode window reaches past the input, else as the Go kernel;
// average pooling is a depthwise convolution where every window has the
// same divisor, else the Go kernel.
func TestPoolKernels(t *testing.T) {
	p := specProgram(t, `input: [8, 11, 10]
layers:
  - {name: c, op: conv, out: 8, kernel: 3, padding: 1}
  - {name: r, op: relu}
  - {name: relu_ceil, op: maxpool, kernel: 3, stride: 2, ceil_mode: true}
  - {name: ceil, op: maxpool, kernel: 3, stride: 2, ceil_mode: true, inputs: [c]}
  - {name: exact_ceil, op: maxpool, kernel: [3, 2], stride: 2, ceil_mode: true, inputs: [c]}
  - {name: padded, op: maxpool, kernel: 3, padding: 1, inputs: [c]}
  - {name: avg_overhang, op: avgpool, kernel: 3, stride: 2, ceil_mode: true, inputs: [c]}
  - {name: avg_nopad, op: avgpool, kernel: 3, padding: 1, count_include_pad: false, inputs: [c]}
  - {name: avg_exact_ceil, op: avgpool, kernel: [3, 2], stride: 2, ceil_mode: true, count_include_pad: false, inputs: [c]}
  - {name: avg_pad, op: avgpool, kernel: 3, padding: 1, inputs: [c]}
`)
	want := map[string]struct {
		kind     plan.Kind
		windowed bool
		halo     int // of the input, at least
	}{
		"relu_ceil":      {plan.MaxPool, true, 1}, // 10 wide: the fifth window reads column 10
		"ceil":           {plan.MaxPool, false, 0},
		"exact_ceil":     {plan.MaxPool, true, 0},
		"padded":         {plan.MaxPool, false, 0},
		"avg_overhang":   {plan.AvgPool, false, 0},
		"avg_nopad":      {plan.AvgPool, false, 0},
		"avg_exact_ceil": {plan.Conv, true, 0},
		"avg_pad":        {plan.Conv, true, 1},
	}
	seen := 0
	for _, s := range p.Steps {
		w, ok := want[s.Name]
		if !ok {
			continue
		}
		seen++
		if s.Kind != w.kind || (s.Conv != nil) != w.windowed || s.In[0].Layout.Halo < w.halo {
			t.Errorf("%s: kind %v, window %v, input halo %d; want %v, %v, at least %d", s.Name, s.Kind, s.Conv != nil, s.In[0].Layout.Halo, w.kind, w.windowed, w.halo)
		}
	}
	if seen != len(want) {
		t.Errorf("%d of the %d pooling steps found", seen, len(want))
	}
}

// TestAdaptiveKernels: adaptive average pooling to 1x1 is global
// pooling, to a size dividing the input's average pooling (here a
// depthwise convolution), and to any other size the Go kernel.
func TestAdaptiveKernels(t *testing.T) {
	p := specProgram(t, `input: [8, 12, 10]
layers:
  - {name: r, op: relu}
  - {name: global, op: adaptive_avgpool, size: 1}
  - {name: divides, op: adaptive_avgpool, size: [4, 5], inputs: [r]}
  - {name: uneven, op: adaptive_avgpool, size: [5, 3], inputs: [r]}
  - {name: larger, op: adaptive_avgpool, size: [13, 10], inputs: [r]}
`)
	// 12x10 is more than a convolution's kernel unrolls: global pooling's own kernel.
	want := map[string]plan.Kind{"global": plan.GlobalAvgPool, "divides": plan.Conv, "uneven": plan.AdaptiveAvgPool, "larger": plan.AdaptiveAvgPool}
	seen := 0
	for _, s := range p.Steps {
		if k, ok := want[s.Name]; ok {
			seen++
			if s.Kind != k {
				t.Errorf("%s: kind %v, want %v", s.Name, s.Kind, k)
			}
		}
	}
	if seen != len(want) {
		t.Errorf("%d of %d steps found", seen, len(want))
	}
}
