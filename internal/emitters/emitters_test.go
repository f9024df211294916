package emitters

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/acgen/acgen/driver"
	"github.com/acgen/acgen/internal/synth"
	"github.com/acgen/acgen/plan"
	"github.com/acgen/acgen/spec"
	"github.com/acgen/acgen/target"
)

// coverSpec makes the planner give a target every algorithm and every
// kind of step that needs a kernel of its own: Winograd (forced) for
// the 3x3 stride-1 convolutions, direct for the strided one and the
// linear layer, depthwise, max pooling over a window (after a ReLU, so
// its zero halo may stand for -inf), LayerNorm, and the elementwise
// steps no convolution absorbs: an activation, a sum, a product and a
// BatchNorm kept as an affine step; GRN.
const coverSpec = `input: [8, 12, 12]
layers:
  - {name: wino, op: conv, out: 16, kernel: 3, padding: 1}
  - {name: r1, op: relu}
  - {name: direct, op: conv, out: 16, kernel: 3, stride: 2, padding: 1}
  - {name: dw, op: conv, out: 16, kernel: 3, padding: 1, groups: 16}
  - {name: r2, op: relu}
  - {name: pool, op: maxpool, kernel: 3, stride: 2, padding: 1}
  - {name: ln, op: layernorm}
  - {name: g, op: gelu}
  - {name: s, op: add, inputs: [g, ln]}
  - {name: m, op: mul, inputs: [s, g]}
  - {name: b, op: bn}
  - {name: grn, op: grn}
  - {name: fc, op: linear, out: 4}
`

// TestEveryTargetHasItsKernels: every assembly target names an emitter
// of All, and that emitter has a kernel for every algorithm the row
// lists and every kind of step the planner marks hot (plan.KindRow's
// Kernel), for Winograd F(2x2) and F(4x4) alike: gen refuses a package
// otherwise, and here the network makes the planner give each target all
// of them, which the test checks too (so a new row, algorithm or hot kind
// fails here until its kernels exist and the network covers it).
func TestEveryTargetHasItsKernels(t *testing.T) {
	dir := t.TempDir()
	specPath := filepath.Join(dir, "net.yaml")
	if err := os.WriteFile(specPath, []byte(coverSpec), 0o644); err != nil {
		t.Fatal(err)
	}
	net, err := spec.Load(specPath)
	if err != nil {
		t.Fatal(err)
	}
	tensors, err := synth.Checkpoint(net, 1)
	if err != nil {
		t.Fatal(err)
	}
	weights := filepath.Join(dir, "net.safetensors")
	if err := synth.WriteFile(weights, tensors); err != nil {
		t.Fatal(err)
	}
	for _, tg := range target.All {
		if tg.Asm() && All().Lookup(tg.Emitter) == nil {
			t.Errorf("%s: its emitter %q is not among the emitters", tg.Name, tg.Emitter)
		}
	}
	hot := map[string]bool{} // every kind some step of the network needs a kernel for
	for _, m := range []int{2, 4} {
		for _, tg := range target.All {
			if !tg.Asm() {
				continue
			}
			res, err := driver.Run(&driver.Config{
				Spec: specPath, Weights: weights, Out: filepath.Join(dir, fmt.Sprintf("%s%d", tg.Name, m)), Package: "cover",
				Plan: plan.Options{ForceWinograd: true, WinogradM: m}, Asm: All(), Targets: []*target.Target{tg},
				GoldenSamples: 1,
			})
			if err != nil {
				t.Errorf("%s, F(%dx%d): %v", tg.Name, m, m, err)
				continue
			}
			got := map[string]bool{}
			for _, p := range res.Plan.Programs {
				if p.Target != tg {
					continue
				}
				for _, s := range p.Steps {
					if s.NeedsKernel() {
						got[kindAlgo(s)] = true
						hot[s.Kind.String()] = true
					}
				}
			}
			var want []string
			for _, a := range tg.Algos {
				w := fmt.Sprintf("conv/%s", a)
				if a == target.Winograd {
					w += fmt.Sprint(m)
				}
				want = append(want, w)
			}
			want = append(want, "maxpool", "layernorm", "activation", "add", "mul", "affine", "grn")
			for _, w := range want {
				if !got[w] {
					t.Errorf("%s: the network gave the target no %s step; got %v", tg.Name, w, keys(got))
				}
			}
		}
	}
	for _, k := range plan.Kinds() {
		if k.Row().Kernel != nil && !hot[k.String()] {
			t.Errorf("kind %s needs kernels of its own, but coverSpec has no such step: add one", k)
		}
	}
}

func kindAlgo(s *plan.Step) string {
	if s.Kind != plan.Conv {
		return s.Kind.String()
	}
	w := fmt.Sprintf("conv/%s", s.Conv.Algo)
	if s.Conv.Algo == plan.Winograd {
		w += fmt.Sprint(s.Conv.WinogradM)
	}
	return w
}

func keys(m map[string]bool) string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return strings.Join(ks, " ")
}
