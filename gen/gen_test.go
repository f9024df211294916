package gen_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/acgen/acgen/driver"
	"github.com/acgen/acgen/gen"
	"github.com/acgen/acgen/internal/emitters"
	"github.com/acgen/acgen/internal/synth"
	"github.com/acgen/acgen/plan"
	"github.com/acgen/acgen/spec"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current emitters")

// tinySpec touches every emitter: a direct convolution with a fused
// residual and activation, a Winograd one, a depthwise one, pooling, a
// lowered linear layer.
const tinySpec = `name: tiny
input: [8, 4, 4]
layers:
  - {name: c1, op: conv, out: 8, kernel: 3, padding: 1}
  - {name: r1, op: relu}
  - {name: c2, op: conv, out: 8, kernel: 3, padding: 1}
  - {name: add, op: add, inputs: [c2, r1]}
  - {name: r2, op: relu6}
  - {name: dw, op: conv, out: 8, kernel: 3, padding: 1, groups: 8}
  - {name: mp, op: maxpool, kernel: 2}
  - {name: fc, op: linear, out: 3}
`

// TestGolden compares every generated file of a tiny network with
// testdata/tiny/*.golden; run `go test ./gen -update` after a deliberate
// change to the output, and review the diff.
func TestGolden(t *testing.T) {
	dir := t.TempDir()
	specPath := filepath.Join(dir, "net.yaml")
	if err := os.WriteFile(specPath, []byte(tinySpec), 0o644); err != nil {
		t.Fatal(err)
	}
	net, err := spec.Load(specPath)
	if err != nil {
		t.Fatal(err)
	}
	tensors, err := synth.Checkpoint(net, 7)
	if err != nil {
		t.Fatal(err)
	}
	weights := filepath.Join(dir, "model.safetensors")
	if err := synth.WriteFile(weights, tensors); err != nil {
		t.Fatal(err)
	}
	// For speed alone, so that a Winograd layer stays whatever the
	// accuracy budget makes of this network's random weights.
	res, err := driver.Run(&driver.Config{Spec: specPath, Weights: weights, Out: filepath.Join(dir, "tiny"), Asm: emitters.All(),
		Plan: plan.Options{NoErrorBudget: true}})
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "tiny")
	for _, f := range res.Files {
		if strings.HasSuffix(f.Name, ".bin") {
			continue // data, covered by the package's own tests
		}
		path := filepath.Join(golden, filepath.FromSlash(f.Name)+".golden")
		if *update {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, f.Data, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Errorf("%s: %v (run go test ./gen -update)", f.Name, err)
			continue
		}
		if !bytes.Equal(f.Data, want) {
			t.Errorf("%s differs from %s (run go test ./gen -update and review the diff)", f.Name, path)
		}
	}
}

func TestPackageName(t *testing.T) {
	for in, want := range map[string]string{
		"resnet20":      "resnet20",
		"ResNet-20":     "resnet_20",
		"my net v2.1":   "my_net_v2_1",
		"3layers":       "net3layers",
		"":              "net",
		"---":           "net",
		"type":          "typenet",
		"résumé":        "r_sum",
		"already_fine_": "already_fine",
	} {
		if got := gen.PackageName(in); got != want {
			t.Errorf("PackageName(%q) = %q, want %q", in, got, want)
		}
	}
}
