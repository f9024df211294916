package tests

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/acgen/acgen/driver"
	"github.com/acgen/acgen/internal/synth"
	"github.com/acgen/acgen/plan"
	"github.com/acgen/acgen/spec"
)

// mutantSpec has direct convolutions with a residual add and ReLUs.
const mutantSpec = `input: [8, 6, 6]
layers:
  - {name: c1, op: conv, out: 8, kernel: 3, padding: 1}
  - {name: r1, op: relu}
  - {name: c2, op: conv, out: 8, kernel: 3, padding: 1}
  - {name: add, op: add, inputs: [c2, r1]}
  - {name: r2, op: relu}
  - {name: fc, op: linear, out: 3}
`

// mutations break the first NEON kernel of mutantSpec's package one way
// each, at the middle one of the instructions re matches there: a WORD
// encoding (an FMLA by element that reads lane 1 of its input vector
// instead of lane 0, bit 21, L: the middle one multiplies the kernel's
// centre tap, which never reads the zero halo, so the change shows) and
// an epilogue (a ReLU's FMAX against zero left out).
var mutations = []struct {
	name string
	re   *regexp.Regexp
	edit func(m []string) string
}{
	{"fmla lane 0 -> 1", regexp.MustCompile(`WORD \$0x([0-9a-f]{8}) // fmla v\d+\.4s, v\d+\.4s, v\d+\.s\[0\]`), func(m []string) string {
		w, _ := strconv.ParseUint(m[1], 16, 32)
		return fmt.Sprintf("WORD $0x%08x // mutated", w^1<<21)
	}},
	{"relu fmax dropped", regexp.MustCompile(`WORD \$0x[0-9a-f]{8} // fmax v\d+\.4s, v\d+\.4s, v\d+\.4s`), func([]string) string { return "// mutated: fmax dropped" }},
}

// mutate applies re's edit to the middle of its matches in src's first
// function, or reports there are none.
func mutate(src []byte, re *regexp.Regexp, edit func([]string) string) ([]byte, bool) {
	first := bytes.Index(src, []byte("\nTEXT "))
	end := len(src)
	if next := bytes.Index(src[first+1:], []byte("\nTEXT ")); next >= 0 {
		end = first + 1 + next
	}
	all := re.FindAllSubmatchIndex(src[:end], -1)
	if first < 0 || len(all) == 0 {
		return nil, false
	}
	loc := all[len(all)/2]
	var m []string
	for i := 0; i < len(loc); i += 2 {
		m = append(m, string(src[loc[i]:loc[i+1]]))
	}
	return []byte(string(src[:loc[0]]) + edit(m) + string(src[loc[1]:])), true
}

// TestNEONMutations: the tests a package holds catch a broken NEON
// kernel. The package of mutantSpec passes its tests under qemu; each
// mutant of its kernels_arm64.s still builds and vets, and must fail
// them.
func TestNEONMutations(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a package under qemu per mutant")
	}
	if qemuARM64() == "" {
		t.Skip("no qemu-aarch64 on PATH to run the NEON kernels")
	}
	mod := t.TempDir()
	newModule(t, mod, "mutants")
	specPath := filepath.Join(mod, "net.yaml")
	writeFile(t, specPath, []byte(mutantSpec))
	net, err := spec.Load(specPath)
	if err != nil {
		t.Fatal(err)
	}
	tensors, err := synth.Checkpoint(net, 5)
	if err != nil {
		t.Fatal(err)
	}
	weights := filepath.Join(mod, "net.safetensors")
	if err := synth.WriteFile(weights, tensors); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(mod, "m")
	if _, err := driver.Run(&driver.Config{Spec: specPath, Weights: weights, Out: dir, Package: "m", Asm: assembler(),
		Plan: plan.Options{NoWinograd: true}, GoldenSamples: 2}); err != nil {
		t.Fatal(err)
	}
	asmPath := filepath.Join(dir, "kernels_arm64.s")
	orig, err := os.ReadFile(asmPath)
	if err != nil {
		t.Fatal(err)
	}
	goARM64(t, mod, "test", "-count=1", "-run", "Golden|EveryISA", "./m")
	for _, mu := range mutations {
		mutant, ok := mutate(orig, mu.re, mu.edit)
		if !ok {
			t.Fatalf("%s: no instruction to mutate in kernels_arm64.s", mu.name)
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

func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	return strings.Join(lines[:min(n, len(lines))], "\n")
}
