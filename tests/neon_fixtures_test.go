package tests

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/acgen/acgen/driver"
	"github.com/acgen/acgen/fixtures"
	"github.com/acgen/acgen/gen"
)

// neonFixtures are the fixtures TestFixturesNEON runs unless
// ACGEN_QEMU=all asks for every one: Winograd with residuals
// (resnet20), every activation and an SE block (modern), groups and
// depthwise (groups), pooling, concat and odd shapes (misc), and
// UniRepLKNet's official form (GRN, LayerNorms, GELU, large kernels).
var neonFixtures = []string{"resnet20", "modern", "groups", "misc", "unireplknet_official"}

// TestFixturesNEON runs fixtures' packages under qemu-aarch64 on their
// NEON level: the golden vectors on every level, the NEON outputs
// against PyTorch's within the tolerance amd64 is held to (1e-4
// relative), and TestRequireAssembly (ISA() is "neon"); and with
// ACGEN_ISA=go, resnet20 on the portable level. Every fixture with
// ACGEN_QEMU=all (a few minutes more).
func TestFixturesNEON(t *testing.T) {
	if testing.Short() {
		t.Skip("builds fixtures' packages and runs them under qemu")
	}
	if qemuARM64() == "" {
		t.Skip("no qemu-aarch64 on PATH to run the NEON kernels")
	}
	all := os.Getenv("ACGEN_QEMU") == "all"
	mod := t.TempDir()
	newModule(t, mod, "neon")
	n := 0
	for _, f := range fixtures.All() {
		if !all && !slices.Contains(neonFixtures, f.Name) {
			continue
		}
		n++
		pkg := gen.PackageName(f.Name)
		dir := filepath.Join(mod, pkg)
		if _, err := driver.Run(&driver.Config{Spec: f.Spec, Weights: f.Pth, Out: dir, Package: pkg, Asm: assembler(), DebugChecks: true}); err != nil {
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
	if n < len(neonFixtures) {
		t.Fatalf("%d of the fixtures %v found", n, neonFixtures)
	}
	out := goARM64(t, mod, "test", "-count=1", "-v", "-run", "Golden|EveryISA|PyTorch|RequireAssembly", "./...")
	var neon []string
	for _, l := range strings.Split(out, "\n") {
		if _, rest, ok := strings.Cut(l, "MAXERR "); ok {
			if !strings.Contains(rest, " neon ") {
				t.Errorf("TestMatchesPyTorch ran %q, not the NEON level", rest)
			}
			neon = append(neon, rest)
		}
	}
	if len(neon) != n {
		t.Errorf("%d packages compared with PyTorch on NEON, want %d", len(neon), n)
	}
	t.Logf("largest error against PyTorch on NEON, by package:\n%s", strings.Join(neon, "\n"))
	// ACGEN_ISA=go selects the portable kernels on arm64 as on amd64.
	out = goARM64Env(t, mod, []string{"ACGEN_ISA=go"}, "test", "-count=1", "-v", "-run", "PyTorch", "./resnet20")
	if !strings.Contains(out, "MAXERR resnet20 go ") {
		t.Errorf("with ACGEN_ISA=go, TestMatchesPyTorch did not run the portable level:\n%s", out)
	}
}
