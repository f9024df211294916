package tests

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/acgen/acgen/act"
	"github.com/acgen/acgen/driver"
	"github.com/acgen/acgen/internal/synth"
	"github.com/acgen/acgen/templates"
)

// accuracyTest runs in each generated package: every instruction set the
// CPU has applies the activation to the inputs of testdata/act.bin, and
// each result is compared with float64's: relative to it down to 2^-100,
// absolutely below, where the float32 formula itself underflows (PyTorch's
// silu(-89) = -89/(1+e^89) is -0 in float32, as it is here). The bounds
// are a few float32 ulps, and 2^-100.
var accuracyTest = "package PKG\n" + templates.TestSource("accuracy")

// TestActivationAccuracy measures every activation that is not a clamp
// (the sigmoid family's vectorised exp above all) against float64 over
// the whole float32 range: every binade from 2^-126 to 2^127 of either
// sign, and a fine grid over [-30, 30], where the curves bend. Each runs
// fused into a 1x1 convolution whose weights are the identity, so the
// activation alone changes the values.
func TestActivationAccuracy(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a package per activation")
	}
	xs := accuracyInputs()
	mod := t.TempDir()
	newModule(t, mod, "accuracy")
	type variant struct {
		f      *act.Func
		name   string
		fields string  // the activation layer's, as a spec writes them
		p      float64 // the parameter they give
	}
	var variants []variant
	for _, f := range act.Table[1:] {
		if f.Op == "relu" || f.Op == "relu6" {
			continue
		}
		// LeakyReLU's default slope; GELU's exact form.
		variants = append(variants, variant{f, strings.ReplaceAll(f.Name(), "_", ""), "", 0.01})
		if f.Op == "gelu" {
			variants = append(variants, variant{f, "gelutanh", ", approximate: tanh", act.GELUTanh})
		}
	}
	for _, v := range variants {
		f, name, p := v.f, v.name, v.p
		specPath := filepath.Join(mod, name+".yaml")
		writeFile(t, specPath, []byte(fmt.Sprintf("input: [16, 16, 16]\nlayers:\n  - {name: c, op: conv, out: 16, kernel: 1}\n  - {name: a, op: %s%s}\n", f.Name(), v.fields)))
		eye := make([]float32, 16*16)
		for i := 0; i < 16; i++ {
			eye[i*16+i] = 1
		}
		weights := filepath.Join(mod, name+".safetensors")
		if err := synth.WriteFile(weights, map[string]synth.Tensor{
			"c.weight": {Shape: []int{16, 16, 1, 1}, Data: eye},
			"c.bias":   {Shape: []int{16}, Data: make([]float32, 16)},
		}); err != nil {
			t.Fatal(err)
		}
		dir := filepath.Join(mod, name)
		if _, err := driver.Run(&driver.Config{Spec: specPath, Weights: weights, Out: dir, Package: name, Asm: assembler(), GoldenSamples: 1}); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		xs := xs
		if f.Op == "hardswish" {
			// PyTorch's order, x*clamp(x+3)/6, overflows past 2^125 (so
			// does PyTorch's own float32 hardswish): the float64 value is
			// not what float32 inference gives there.
			xs = slices.DeleteFunc(slices.Clone(xs), func(x float32) bool { return math.Abs(float64(x)) > 0x1p125 })
		}
		raw := make([]byte, 12*len(xs))
		for i, x := range xs {
			binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(x))
			binary.LittleEndian.PutUint64(raw[4*len(xs)+8*i:], math.Float64bits(f.Ref(float64(x), p)))
		}
		writeFile(t, filepath.Join(dir, "testdata", "act.bin"), raw)
		writeFile(t, filepath.Join(dir, "accuracy_test.go"), []byte(strings.Replace(accuracyTest, "PKG", name, 1)))
	}
	goCmd(t, mod, "test", "-count=1", "-run", "TestActAccuracy", "-v", "./...")
}

// accuracyInputs are the values an activation is measured on: 64
// mantissas in every binade of either sign, and a grid of step 2^-8 over
// [-30, 30].
func accuracyInputs() []float32 {
	rng := rand.New(rand.NewPCG(3, 4))
	var xs []float32
	for e := -126; e <= 127; e++ {
		for j := 0; j < 64; j++ {
			m := 1 + rng.Float64()
			if j == 0 {
				m = 1
			}
			x := float32(math.Ldexp(m, e))
			xs = append(xs, x, -x)
		}
	}
	for x := -30.0; x <= 30; x += 1.0 / 256 {
		xs = append(xs, float32(x))
	}
	return append(xs, 0, float32(math.Copysign(0, -1)))
}
