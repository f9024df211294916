package tests

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/acgen/acgen/driver"
	"github.com/acgen/acgen/gen"
	"github.com/acgen/acgen/internal/synth"
	"github.com/acgen/acgen/spec"
)

// geluNormSpec has GELU in both forms fused into convolutions and
// LayerNorm at a channel count that fills 4-channel blocks (16) and one
// that does not (13: the last block has 3 padded lanes), on rows of 17
// pixels (a NEON LayerNorm kernel's 14-pixel chunk and a remainder of 3).
const geluNormSpec = `input: [12, 5, 17]
layers:
  - {name: c1, op: conv, out: 16, kernel: 3, padding: 1}
  - {name: g1, op: gelu}
  - {name: ln, op: layernorm}
  - {name: c2, op: conv, out: 13, kernel: 1}
  - {name: g2, op: gelu, approximate: tanh}
  - {name: ln2, op: layernorm}
`

// geluP1 is the second coefficient of the numerator of GELU's rational
// fit (neon/gelu.go), as the kernels load it: MOVD $bits.
var geluP1 = math.Float32bits(0.4324074387550354)

// geluNormMutations break the NEON kernel of step (by its name in
// geluNormSpec) at the middle one of the instructions re matches there:
// a GELU coefficient (P's second, mantissa bit 18 flipped: 3% off); the
// FMLA that adds a pixel's squared deviation to its variance, dropped
// (one pixel of each 14-pixel chunk, every channel block); and the
// multiplication by the lane mask that keeps the padded lanes of the
// last block out of the variance, dropped (those lanes hold 0, so the
// pixel's variance gains 3*mean^2).
var geluNormMutations = []struct {
	name, step string
	re         *regexp.Regexp
	edit       func(m []string) string
}{
	{"gelu coefficient P1", "c1+g1", regexp.MustCompile(fmt.Sprintf(`MOVD \$(%d),`, geluP1)), func(m []string) string {
		w, _ := strconv.ParseUint(m[1], 10, 32)
		return fmt.Sprintf("MOVD $%d,", w^1<<18)
	}},
	// dev in neon/layernorm.go: the deviation in V28, the sum in V0-V13.
	{"layernorm variance fmla dropped", "ln", regexp.MustCompile(`VFMLA V28\.S4, V28\.S4, V\d+\.S4`), func([]string) string {
		return "// mutated: fmla dropped"
	}},
	// The mask in V29, multiplied into the deviation in V28.
	{"layernorm lane mask dropped", "ln2", regexp.MustCompile(`WORD \$0x[0-9a-f]{8} // fmul v28\.4s, v28\.4s, v29\.4s`), func([]string) string {
		return "// mutated: mask dropped"
	}},
}

// mutateFunc is mutate (mutation_test.go) on function fn of src.
func mutateFunc(src []byte, fn string, re *regexp.Regexp, edit func([]string) string) ([]byte, bool) {
	head := []byte("\nTEXT ·" + fn + "(SB)")
	at := bytes.Index(src, head)
	if at < 0 {
		return nil, false
	}
	body, ok := mutate(src[at:], re, edit)
	if !ok {
		return nil, false
	}
	return append(append([]byte(nil), src[:at]...), body...), true
}

// TestNEONMutationsGELUNorm: the tests a package holds catch a broken
// NEON GELU or LayerNorm kernel (as TestNEONMutations does the direct
// convolution's): the package passes them under qemu, and each mutant of
// its kernels_arm64.s still builds and vets, and must fail them.
func TestNEONMutationsGELUNorm(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a package under qemu per mutant")
	}
	if qemuARM64() == "" {
		t.Skip("no qemu-aarch64 on PATH to run the NEON kernels")
	}
	mod := t.TempDir()
	newModule(t, mod, "mutants")
	specPath := filepath.Join(mod, "net.yaml")
	writeFile(t, specPath, []byte(geluNormSpec))
	net, err := spec.Load(specPath)
	if err != nil {
		t.Fatal(err)
	}
	tensors, err := synth.Checkpoint(net, 7)
	if err != nil {
		t.Fatal(err)
	}
	weights := filepath.Join(mod, "net.safetensors")
	if err := synth.WriteFile(weights, tensors); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(mod, "m")
	res, err := driver.Run(&driver.Config{Spec: specPath, Weights: weights, Out: dir, Package: "m", Asm: assembler(), GoldenSamples: 2})
	if err != nil {
		t.Fatal(err)
	}
	kernels := map[string]string{} // step name: its NEON kernel
	for _, p := range res.Plan.Programs {
		if p.Target.Name != "neon" {
			continue
		}
		for i, s := range p.Steps {
			if s.NeedsKernel() {
				kernels[s.Name] = gen.AsmKernelName(p, i)
			}
		}
	}
	asmPath := filepath.Join(dir, "kernels_arm64.s")
	orig, err := os.ReadFile(asmPath)
	if err != nil {
		t.Fatal(err)
	}
	goARM64(t, mod, "test", "-count=1", "-run", "Golden|EveryISA", "./m")
	for _, mu := range geluNormMutations {
		fn, ok := kernels[mu.step]
		if !ok {
			t.Fatalf("%s: the NEON program has no kernel for step %s; it has %v", mu.name, mu.step, kernels)
		}
		mutant, ok := mutateFunc(orig, fn, mu.re, mu.edit)
		if !ok {
			t.Fatalf("%s: no instruction to mutate in %s of kernels_arm64.s", mu.name, fn)
		}
		writeFile(t, asmPath, mutant)
		goARM64(t, mod, "vet", "./m")
		out, err := (&scratchModule{mod}).arm64Test("-count=1", "-run", "Golden|EveryISA", "./m")
		if err == nil {
			t.Errorf("%s: the package's tests pass with the mutant kernel", mu.name)
			continue
		}
		if !strings.Contains(out, "--- FAIL") {
			t.Errorf("%s: the tests did not fail as tests do:\n%s", mu.name, out)
			continue
		}
		t.Logf("%s: caught\n%s", mu.name, firstLines(out, 6))
	}
	writeFile(t, asmPath, orig)
}
