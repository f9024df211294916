package driver

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/acgen/acgen/fixtures"
	"github.com/acgen/acgen/gen"
	"github.com/acgen/acgen/graph"
	"github.com/acgen/acgen/internal/synth"
	"github.com/acgen/acgen/spec"
)

func writeSpec(t *testing.T, src string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "net.yaml")
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestShapesBeforeWeights checks that what the spec alone shows wrong is
// reported before the checkpoint is read (here, it does not exist).
func TestShapesBeforeWeights(t *testing.T) {
	for _, c := range []struct {
		src, want string
		kind      error
	}{
		{"input: [3, 100000, 100000]\nlayers:\n  - {op: relu}\n", "net.yaml:1:8: input [3 100000 100000] is 114441 MiB for one sample", graph.ErrTooBig},
		{"input: [3, 8, 8]\nlayers:\n  - {name: c, op: conv, out: 4, kernel: 9}\n", `net.yaml:3:41: layer "c": a 9x9 kernel (dilation 1, padding 0) does not fit the 8x8 input`, graph.ErrShape},
	} {
		_, err := Run(&Config{Spec: writeSpec(t, c.src), Weights: filepath.Join(t.TempDir(), "none.pth"), Out: filepath.Join(t.TempDir(), "pkg")})
		if err == nil || !strings.Contains(err.Error(), c.want) || !errors.Is(err, c.kind) {
			t.Errorf("Run: %v, want %q", err, c.want)
		}
	}
}

// TestVerifyBeforeWrite checks Config.Verify: a package that fails it is
// not written, and a conflicting -out is refused before it runs.
func TestVerifyBeforeWrite(t *testing.T) {
	f := fixtures.Get("cifar_small")
	dir := filepath.Join(t.TempDir(), "pkg")
	cfg := &Config{Spec: f.Spec, Weights: f.Pth, Out: dir}
	var verified []gen.File
	cfg.Verify = func(files []gen.File) error {
		verified = files
		return errors.New("go test failed")
	}
	if _, err := Run(cfg); err == nil || err.Error() != "go test failed" {
		t.Fatalf("Run: %v", err)
	}
	if len(verified) == 0 {
		t.Error("Verify saw no files")
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a package that failed Verify was written: %v", err)
	}

	// A conflict is found first.
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, "net.go"), []byte("package mine\n"), 0o644)
	verified = nil
	if _, err := Run(cfg); !errors.Is(err, ErrNotGenerated) {
		t.Fatalf("Run: %v, want ErrNotGenerated", err)
	}
	if verified != nil {
		t.Error("Verify ran although -out was refused")
	}

	// And a package that passes is written.
	os.Remove(filepath.Join(dir, "net.go"))
	cfg.Verify = func([]gen.File) error { return nil }
	res, err := Run(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Write.Written) != len(res.Files) {
		t.Errorf("wrote %d of %d files", len(res.Write.Written), len(res.Files))
	}
}

func TestBadDump(t *testing.T) {
	if _, err := Run(&Config{Dump: "parse"}); err == nil || !strings.Contains(err.Error(), `-dump: no stage "parse"; stages are [spec weights graph fuse plan check emit write]`) {
		t.Errorf("Run: %v", err)
	}
}

// cifarWith writes the cifar_small spec with old replaced by new, and a
// synthesized checkpoint for it changed by change.
func cifarWith(t *testing.T, old, new string, change func(map[string]synth.Tensor)) (specPath, weights string) {
	t.Helper()
	src, err := os.ReadFile(fixtures.Get("cifar_small").Spec)
	if err != nil {
		t.Fatal(err)
	}
	specPath = writeSpec(t, strings.Replace(string(src), old, new, 1))
	net, err := spec.Load(specPath)
	if err != nil {
		t.Fatal(err)
	}
	ts, err := synth.Checkpoint(net, 1)
	if err != nil {
		t.Fatal(err)
	}
	change(ts)
	weights = filepath.Join(t.TempDir(), "model.safetensors")
	if err := synth.WriteFile(weights, ts); err != nil {
		t.Fatal(err)
	}
	return specPath, weights
}

// TestBeyondFloat32 covers weights that are each finite but make a
// network float32 cannot run: folding overflows, or the outputs do. Both
// are the checkpoint's problem, not an internal error of acgen's.
func TestBeyondFloat32(t *testing.T) {
	fill := func(ts map[string]synth.Tensor, key string, v float32) {
		for i := range ts[key].Data {
			ts[key].Data[i] = v
		}
	}
	specPath, weights := cifarWith(t, "prefix: stage2.0.shortcut.1}", "prefix: stage2.0.shortcut.1, eps: 1e-300}", func(ts map[string]synth.Tensor) {
		fill(ts, "stage2.0.shortcut.1.running_var", 0)
	})
	out := filepath.Join(t.TempDir(), "pkg")
	_, err := Run(&Config{Spec: specPath, Weights: weights, Out: out})
	if err == nil || !strings.Contains(err.Error(), `net.yaml:16:5: layer "stage2.0.shortcut.conv": with its BatchNorm folded in, weight at [0 0 0 0] is +Inf`) ||
		!strings.Contains(err.Error(), "beyond float32's range: a BatchNorm's running_var + eps near 0") {
		t.Errorf("folding past float32: %v", err)
	}

	specPath, weights = cifarWith(t, "", "", func(ts map[string]synth.Tensor) {
		fill(ts, "stage2.0.shortcut.1.weight", 1e30)
		fill(ts, "linear.weight", 1e30)
	})
	_, err = Run(&Config{Spec: specPath, Weights: weights, Out: out})
	if err == nil || !strings.Contains(err.Error(), "model.safetensors: the network's output for a random input holds") {
		t.Errorf("outputs past float32: %v", err)
	}
	if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("-out was written")
	}
}

// TestIllConditioned: a network that cancels two nearly equal large
// values turns float32 rounding of its folded weights into a large
// error; acgen says the network is ill-conditioned instead of blaming
// itself, and generates the package (as PyTorch runs the network in
// float32) with tests that allow for the difference.
func TestIllConditioned(t *testing.T) {
	specPath := writeSpec(t, `input: [1, 1, 1]
layers:
  - {name: c1, op: conv, out: 2, kernel: 1}
  - {name: bn, op: bn}
  - {name: c2, op: conv, out: 1, kernel: 1}
`)
	weights := filepath.Join(t.TempDir(), "w.safetensors")
	tensors := map[string]synth.Tensor{
		"c1.weight":       {Shape: []int{2, 1, 1, 1}, Data: []float32{1, 1.0000023}},
		"bn.weight":       {Shape: []int{2}, Data: []float32{3.1, 3.1}},
		"bn.bias":         {Shape: []int{2}, Data: []float32{0, 0}},
		"bn.running_mean": {Shape: []int{2}, Data: []float32{0, 0}},
		"bn.running_var":  {Shape: []int{2}, Data: []float32{0.7, 0.7}},
		"c2.weight":       {Shape: []int{1, 2, 1, 1}, Data: []float32{1e6, -1e6}},
	}
	if err := synth.WriteFile(weights, tensors); err != nil {
		t.Fatal(err)
	}
	r, err := Run(&Config{Spec: specPath, Weights: weights, Out: filepath.Join(t.TempDir(), "pkg")})
	if err != nil {
		t.Fatalf("Run: %v, want the package generated with a warning", err)
	}
	if len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], "ill-conditioned") || strings.Contains(r.Warnings[0], "\n") {
		t.Fatalf("warnings %q, want one line naming an ill-conditioned network", r.Warnings)
	}
	if !(r.MaxFuseErr > 1e-4) || r.Sensitivity < r.MaxFuseErr {
		t.Errorf("fused differs by %g, sensitivity %g: want a difference beyond 1e-4 and the tests' allowance at least that", r.MaxFuseErr, r.Sensitivity)
	}
}

// TestStagePanic: a bug that panics in a stage is an error naming the
// stage, on one line, never a stack trace.
func TestStagePanic(t *testing.T) {
	i := len(stages) - 3 // plan
	saved := stages[i]
	defer func() { stages[i] = saved }()
	stages[i].run = func(*Config, *Result) error {
		var m map[string]int
		m["x"]++ // a nil map write: the kind of bug a stage could have
		return nil
	}
	f := fixtures.Get("cifar_small")
	_, err := Run(&Config{Spec: f.Spec, Weights: f.Pth, Out: filepath.Join(t.TempDir(), "pkg")})
	if !errors.Is(err, ErrInternal) || !strings.Contains(err.Error(), "in the "+saved.name+" stage") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("Run: %v", err)
	}
}

// TestCheckBudget: a spec whose check stage would run for minutes is
// refused at once, naming the layer; under a tight budget fewer golden
// samples are taken.
func TestCheckBudget(t *testing.T) {
	specPath := writeSpec(t, "input: [3, 300, 300]\nlayers:\n  - {name: c, op: conv, out: 16, kernel: 255, padding: 127}\n")
	weights := synthWeights(t, specPath)
	start := time.Now()
	_, err := Run(&Config{Spec: specPath, Weights: weights, Out: filepath.Join(t.TempDir(), "pkg")})
	if err == nil || !strings.Contains(err.Error(), `net.yaml:3:5: layer "c" alone takes 562 GFLOP`) || !strings.Contains(err.Error(), "-max-check-gflop") {
		t.Errorf("Run: %v", err)
	}
	t.Logf("refusing took %v", time.Since(start)) // logged: a timed assertion flakes on a shared machine
	f := fixtures.Get("cifar_small")
	r, err := Run(&Config{Spec: f.Spec, Weights: f.Pth, GoldenSamples: 4, MaxCheckFLOPs: 30e6})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Golden) != 1 {
		t.Errorf("%d golden samples under a budget of one (cifar_small: 4.6 MFLOP fused and 8 unfused a sample, and 8 more for the sensitivity)", len(r.Golden))
	}
}

// TestPackageNameOfDot: a spec without a name, generated with -out ., names
// the package after the directory -out stands for, not ".".
func TestPackageNameOfDot(t *testing.T) {
	specPath := writeSpec(t, "input: [1, 4, 4]\nlayers:\n  - {name: c, op: conv, out: 2, kernel: 3}\n")
	weights := synthWeights(t, specPath)
	dir := filepath.Join(t.TempDir(), "mymodel")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	res, err := Run(&Config{Spec: specPath, Weights: weights, Out: "."})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(res.Files[0].Data), "\npackage mymodel\n") {
		t.Errorf("%s does not declare package mymodel:\n%.300s", res.Files[0].Name, res.Files[0].Data)
	}
}

// synthWeights writes random weights for the spec at specPath and
// returns the file.
func synthWeights(t *testing.T, specPath string) string {
	t.Helper()
	net, err := spec.Load(specPath)
	if err != nil {
		t.Fatal(err)
	}
	tensors, err := synth.Checkpoint(net, 1)
	if err != nil {
		t.Fatal(err)
	}
	weights := filepath.Join(t.TempDir(), "w.safetensors")
	if err := synth.WriteFile(weights, tensors); err != nil {
		t.Fatal(err)
	}
	return weights
}
