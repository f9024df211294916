package tests

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/acgen/acgen/act"
	"github.com/acgen/acgen/driver"
	"github.com/acgen/acgen/internal/synth"
	"github.com/acgen/acgen/plan"
	"github.com/acgen/acgen/spec"
)

// dumpActTest runs in each package of TestGELUNEONBits: every level the
// CPU runs applies the activation to the inputs of testdata/x.bin and
// writes its outputs' bits to testdata/out_LEVEL.bin.
const dumpActTest = `package PKG

import (
	"encoding/binary"
	"math"
	"os"
	"testing"
)

func TestDumpAct(t *testing.T) {
	raw, err := os.ReadFile("testdata/x.bin")
	if err != nil {
		t.Fatal(err)
	}
	n := len(raw) / 4
	for _, isa := range ISAs() {
		if err := SetISA(isa); err != nil {
			t.Fatal(err)
		}
		res := make([]byte, 4*n)
		out := make([]float32, InputLen)
		for lo := 0; lo < n; lo += InputLen {
			in := make([]float32, InputLen)
			for i := range in {
				if lo+i < n {
					in[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*(lo+i):]))
				}
			}
			if err := Infer(out, in); err != nil {
				t.Fatal(err)
			}
			for i := lo; i < min(n, lo+InputLen); i++ {
				binary.LittleEndian.PutUint32(res[4*i:], math.Float32bits(out[i-lo]))
			}
		}
		if err := os.WriteFile("testdata/out_"+isa+".bin", res, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
`

// TestGELUNEONBits: NEON's GELU, both forms fused into a convolution
// (an identity 1x1, so the activation alone changes the values), gives
// the bits the amd64 levels give on every input of the accuracy sweep
// (every binade of either sign, a fine grid over [-30, 30]), and is
// within 4e-7 of float64, the amd64 code's measured accuracy, relative
// down to 2^-100 and absolute below. The NEON level runs under
// qemu-aarch64, whose floating point is IEEE's to the bit (FMA
// included).
func TestGELUNEONBits(t *testing.T) {
	if testing.Short() {
		t.Skip("builds two packages and runs them under qemu")
	}
	if qemuARM64() == "" {
		t.Skip("no qemu-aarch64 on PATH to run the NEON kernels")
	}
	xs := accuracyInputs()
	mod := t.TempDir()
	newModule(t, mod, "gelubits")
	forms := []struct {
		name, fields string
		p            float64
	}{{"geluerf", "", 0}, {"gelutanh", ", approximate: tanh", act.GELUTanh}}
	gelu := act.Of(spec.GELU)
	for _, f := range forms {
		specPath := filepath.Join(mod, f.name+".yaml")
		writeFile(t, specPath, []byte(fmt.Sprintf("input: [16, 16, 16]\nlayers:\n  - {name: c, op: conv, out: 16, kernel: 1}\n  - {name: a, op: gelu%s}\n", f.fields)))
		eye := make([]float32, 16*16)
		for i := 0; i < 16; i++ {
			eye[i*16+i] = 1
		}
		weights := filepath.Join(mod, f.name+".safetensors")
		if err := synth.WriteFile(weights, map[string]synth.Tensor{
			"c.weight": {Shape: []int{16, 16, 1, 1}, Data: eye},
			"c.bias":   {Shape: []int{16}, Data: make([]float32, 16)},
		}); err != nil {
			t.Fatal(err)
		}
		dir := filepath.Join(mod, f.name)
		res, err := driver.Run(&driver.Config{Spec: specPath, Weights: weights, Out: dir, Package: f.name, Asm: assembler(), GoldenSamples: 1})
		if err != nil {
			t.Fatalf("%s: %v", f.name, err)
		}
		for _, p := range res.Plan.Programs {
			for _, s := range p.Steps {
				if s.Kind == plan.Activation {
					t.Errorf("%s: the %s program applies GELU in a step of its own, not in the convolution's epilogue", f.name, p.Target.Name)
				}
			}
		}
		raw := make([]byte, 4*len(xs))
		for i, x := range xs {
			binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(x))
		}
		writeFile(t, filepath.Join(dir, "testdata", "x.bin"), raw)
		writeFile(t, filepath.Join(dir, "dump_test.go"), []byte("package "+f.name+dumpActTest[len("package PKG"):]))
	}
	goCmd(t, mod, "test", "-count=1", "-run", "TestDumpAct", "./...")
	goARM64(t, mod, "test", "-count=1", "-run", "TestDumpAct", "./...")
	for _, f := range forms {
		dir := filepath.Join(mod, f.name, "testdata")
		neon := readOutputs(t, filepath.Join(dir, "out_neon.bin"), len(xs))
		var rel, abs float64
		var worst float32
		for i, x := range xs {
			got, w := float64(neon[i]), gelu.Ref(float64(x), f.p)
			if math.Abs(w) >= 0x1p-100 {
				if e := math.Abs(got-w) / math.Abs(w); e > rel {
					rel, worst = e, x
				}
			} else {
				abs = max(abs, math.Abs(got-w))
			}
		}
		t.Logf("%s: NEON's max relative error %.3g (at x = %g), absolute below 2^-100 %.3g, on %d inputs", f.name, rel, worst, abs, len(xs))
		if rel > 4e-7 || abs > 0x1p-100 {
			t.Errorf("%s: NEON's GELU is off float64 by %.3g relative, %.3g absolute", f.name, rel, abs)
		}
		compared := 0
		for _, isa := range []string{"avx512", "avx2"} {
			path := filepath.Join(dir, "out_"+isa+".bin")
			if _, err := os.Stat(path); err != nil {
				continue // this CPU lacks the level
			}
			compared++
			other := readOutputs(t, path, len(xs))
			diff := 0
			for i := range xs {
				if math.Float32bits(neon[i]) != math.Float32bits(other[i]) {
					if diff < 5 {
						t.Errorf("%s: gelu(%g): NEON gives %g (%#08x), %s %g (%#08x)", f.name, xs[i], neon[i], math.Float32bits(neon[i]), isa, other[i], math.Float32bits(other[i]))
					}
					diff++
				}
			}
			t.Logf("%s: NEON and %s differ in %d of %d outputs", f.name, isa, diff, len(xs))
		}
		if compared == 0 {
			t.Logf("%s: this CPU runs neither AVX2 nor AVX-512: no amd64 outputs to compare bits with", f.name)
		}
	}
}

// readOutputs reads n float32s written by dumpActTest.
func readOutputs(t *testing.T, path string, n int) []float32 {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(raw) != 4*n {
		t.Fatalf("%s: %d bytes, want %d", path, len(raw), 4*n)
	}
	v := make([]float32, n)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
	}
	return v
}
