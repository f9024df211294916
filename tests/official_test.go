package tests

import (
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/acgen/acgen/checkpoint"
	"github.com/acgen/acgen/driver"
	"github.com/acgen/acgen/fixtures"
	"github.com/acgen/acgen/gen"
)

// TestOfficialNetworks takes the committed official-layout networks
// (fixtures/official/NAME, written by fixtures/official/run.py: the
// official ACNet code's module trees and key names, its trainer's
// checkpoint dict, a plain state_dict and its final HDF5 file, and the
// spec torch2spec wrote from the model) through acgen: the three files
// hold the same tensors, and the package generated from the HDF5 file
// gives PyTorch's outputs. run.py does the same for every network,
// ResNet-50 and the ImageNet MobileNets included (results.txt).
func TestOfficialNetworks(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a package per network")
	}
	specs, err := filepath.Glob(filepath.Join(fixtures.Dir(), "official", "*", "net.yaml"))
	if err != nil || len(specs) < 1 {
		t.Fatalf("fixtures/official holds %d networks (%v); run fixtures/official/run.py --commit", len(specs), err)
	}
	mod := t.TempDir()
	newModule(t, mod, "official")
	for _, spec := range specs {
		dir := filepath.Dir(spec)
		name := filepath.Base(dir)
		var loaded []*checkpoint.File
		for _, fn := range []string{"engine.pth", "plain.pth", "finish.hdf5"} {
			f, err := checkpoint.Load(filepath.Join(dir, fn), checkpoint.Options{})
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			loaded = append(loaded, f)
		}
		for _, f := range loaded[1:] {
			if d := tensorsDiffer(loaded[0], f); d != "" {
				t.Errorf("%s: %s and %s: %s", name, loaded[0].Path, f.Path, d)
			}
		}
		pkg := gen.PackageName(name)
		out := filepath.Join(mod, pkg)
		if _, err := driver.Run(&driver.Config{Spec: spec, Weights: filepath.Join(dir, "finish.hdf5"), Out: out, Package: pkg, Asm: assembler()}); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		s, err := fixtures.Fixture{Name: name, Dir: dir, IO: filepath.Join(dir, "io.safetensors")}.LoadSamples()
		if err != nil {
			t.Fatal(err)
		}
		var v []float32
		for _, in := range s.Input {
			v = append(v, f32(in)...)
		}
		for _, o := range s.Output {
			v = append(v, f32(o)...)
		}
		writeFile(t, filepath.Join(out, "testdata", "pytorch.bin"), le(v))
		writeFile(t, filepath.Join(out, "pytorch_test.go"), []byte(strings.Replace(pytorchTest, "PKG", pkg, 1)))
	}
	goCmd(t, mod, "test", "-count=1", "-run", "PyTorch", "./...")
}

// tensorsDiffer says how two loads differ, or "".
func tensorsDiffer(a, b *checkpoint.File) string {
	if fmt.Sprint(a.Keys()) != fmt.Sprint(b.Keys()) {
		return fmt.Sprintf("keys differ: %d and %d", len(a.Keys()), len(b.Keys()))
	}
	for _, k := range a.Keys() {
		x, y := a.Tensors[k], b.Tensors[k]
		if fmt.Sprint(x.Shape) != fmt.Sprint(y.Shape) || len(x.Data) != len(y.Data) {
			return fmt.Sprintf("key %s: shapes %v and %v", k, x.Shape, y.Shape)
		}
		for i := range x.Data {
			if math.Float64bits(x.Data[i]) != math.Float64bits(y.Data[i]) {
				return fmt.Sprintf("key %s[%d]: %v and %v", k, i, x.Data[i], y.Data[i])
			}
		}
	}
	return ""
}
