package tests

import (
	"encoding/binary"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/acgen/acgen/driver"
	"github.com/acgen/acgen/fixtures"
	"github.com/acgen/acgen/gen"
)

// pytorchTest is added beside each generated package's own test: it
// compares the package with PyTorch's outputs of the unfused network.
const pytorchTest = `package PKG

import (
	_ "embed"
	"math"
	"testing"
)

//go:embed testdata/pytorch.bin
var pytorchRaw string

func TestMatchesPyTorch(t *testing.T) {
	var v []float32
	for i := 0; i+4 <= len(pytorchRaw); i += 4 {
		r := pytorchRaw[i:]
		v = append(v, math.Float32frombits(uint32(r[0])|uint32(r[1])<<8|uint32(r[2])<<16|uint32(r[3])<<24))
	}
	n := len(v) / (InputLen + OutputLen)
	if n == 0 {
		t.Fatal("no samples")
	}
	got := make([]float32, OutputLen)
	for i := 0; i < n; i++ {
		if err := Infer(got, v[i*InputLen:(i+1)*InputLen]); err != nil {
			t.Fatal(err)
		}
		want := v[n*InputLen+i*OutputLen : n*InputLen+(i+1)*OutputLen]
		var worst float64
		for j := range want {
			d := math.Abs(float64(got[j])-float64(want[j])) / math.Max(1, math.Abs(float64(want[j])))
			if !(d <= worst) {
				worst = d
			}
		}
		if !(worst <= 1e-4) {
			t.Errorf("sample %d: max relative error vs PyTorch %.3g, want <= 1e-4", i, worst)
		}
	}
}
`

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
	writeFile(t, filepath.Join(mod, "go.mod"), []byte("module e2e\n\ngo "+gen.GoVersion+"\n"))
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
		{"test", "-count=1", "-race", "-run", "Concurrent|Golden|PyTorch", "./..."},
		{"test", "-count=1", "-tags", "purego", "./..."},
	} {
		goCmd(t, mod, args...)
	}
}

func goCmd(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
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
