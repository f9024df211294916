package tests

import (
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/acgen/acgen/driver"
	"github.com/acgen/acgen/fixtures"
	"github.com/acgen/acgen/gen"
	"github.com/acgen/acgen/internal/scratch"
	"github.com/acgen/acgen/templates"
)

// pytorchTest is added beside each generated package's own test: it
// compares the package with PyTorch's outputs of the unfused network.
var pytorchTest = "package PKG\n" + templates.TestSource("pytorch")

// TestFixtures generates a package for every fixture into one scratch
// module and runs its tests (golden vectors, no allocations, concurrent
// calls, wrong lengths) plus a comparison with PyTorch's own outputs:
// with the assembly kernels, with the race detector, and with -tags
// purego.
func TestFixtures(t *testing.T) {
	if testing.Short() {
		t.Skip("builds every fixture's package")
	}
	mod := t.TempDir()
	newModule(t, mod, "e2e")
	for _, f := range fixtures.All() {
		pkg := gen.PackageName(f.Name)
		dir := filepath.Join(mod, pkg)
		cfg := &driver.Config{Spec: f.Spec, Weights: f.Pth, Out: dir, Package: pkg, Asm: assembler(), DebugChecks: true}
		if _, err := driver.Run(cfg); err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		s, err := f.LoadSamples()
		if err != nil {
			t.Fatal(err)
		}
		var v []float32
		for _, in := range s.Input {
			v = append(v, f32(in)...)
		}
		for _, out := range s.Output {
			v = append(v, f32(out)...)
		}
		writeFile(t, filepath.Join(dir, "testdata", "pytorch.bin"), le(v))
		writeFile(t, filepath.Join(dir, "pytorch_test.go"), []byte(strings.Replace(pytorchTest, "PKG", pkg, 1)))
	}
	for _, args := range [][]string{
		{"vet", "./..."},
		{"test", "-count=1", "./..."},
		{"test", "-count=1", "-race", "-run", "Concurrent|Threads|Golden|PyTorch", "./..."},
		{"test", "-count=1", "-tags", "purego", "./..."},
	} {
		goCmd(t, mod, args...)
	}
	goARM64(t, mod, "vet", "./...") // the NEON kernels of every fixture (TestFixturesNEON runs them)
}

// newModule makes dir a scratch module named path.
func newModule(t *testing.T, dir, path string) {
	t.Helper()
	if _, err := scratch.New(dir, path); err != nil {
		t.Fatal(err)
	}
}

// goCmd runs the go command in the scratch module at dir.
func goCmd(t *testing.T, dir string, args ...string) {
	t.Helper()
	out, err := (&scratch.Module{Dir: dir}).Go(args...)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("go %s:\n%s", strings.Join(args, " "), out)
}

func f32(v []float64) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return out
}

func le(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}
