package spec_test

import (
	"crypto/sha256"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"

	"github.com/acgen/acgen/fixtures"
	"github.com/acgen/acgen/internal/diag"
	"github.com/acgen/acgen/spec"
)

var writeCorpus = flag.Bool("writecorpus", false, "rewrite testdata/fuzz/FuzzParse from the fixtures and the bad specs")

// seeds are FuzzParse's starting points: every fixture's spec and every
// bad spec of the table (but for the few that are large on purpose).
func seeds(t testing.TB) [][]byte {
	var out [][]byte
	for _, f := range fixtures.All() {
		data, err := os.ReadFile(f.Spec)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, data)
	}
	for _, c := range badSpecs {
		if len(c.src) <= 4096 {
			out = append(out, []byte(c.src))
		}
	}
	return append(out, []byte("input: "+strings.Repeat("[", 70)), []byte("a:\n"+deepIndent(70)))
}

// FuzzParse checks that Parse never panics, that what it refuses it
// refuses properly (ErrSpec, one positioned line per problem), and that
// what it accepts is a network later stages can rely on.
func FuzzParse(f *testing.F) {
	for _, s := range seeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		net, err := spec.Parse("f.yaml", data)
		if err != nil {
			if net != nil {
				t.Fatal("a Net with an error")
			}
			if !errors.Is(err, spec.ErrSpec) {
				t.Fatalf("not ErrSpec: %v", err)
			}
			for _, e := range diag.Errors(err) {
				if m := e.Error(); strings.Contains(m, "\n") || !strings.HasPrefix(m, "f.yaml") {
					t.Fatalf("error %q: want one line that starts with the file", m)
				}
			}
			return
		}
		if msg := invariants(net); msg != "" {
			t.Fatalf("%s\nspec:\n%s", msg, data)
		}
	})
}

// invariants returns what is wrong with a parsed Net, or "".
func invariants(net *spec.Net) string {
	if len(net.Layers) == 0 {
		return "no layers"
	}
	for i, d := range net.Input {
		if d < 1 || d > spec.MaxDim {
			return fmt.Sprintf("input dimension %d is %d", i, d)
		}
	}
	if net.Output == nil {
		return "no output"
	}
	if net.Output.Index >= len(net.Layers) || net.Layers[net.Output.Index] != net.Output {
		return fmt.Sprintf("output %v is not one of the layers", net.Output)
	}
	names := map[string]bool{}
	for i, l := range net.Layers {
		if l.Index != i {
			return fmt.Sprintf("layer %d has index %d", i, l.Index)
		}
		if l.Pos.Line < 1 || l.Pos.Col < 1 {
			return fmt.Sprintf("layer %v has no position (%v)", l, l.Pos)
		}
		if !l.Op.Known() {
			return fmt.Sprintf("layer %v: unknown op %q", l, l.Op)
		}
		if l.Name != "" {
			if names[l.Name] {
				return fmt.Sprintf("name %q is used twice", l.Name)
			}
			names[l.Name] = true
		}
		for _, s := range []string{l.Name, l.Prefix} {
			if strings.Contains(s, "*/") || strings.Contains(s, "/*") || strings.IndexFunc(s, unicode.IsControl) >= 0 {
				return fmt.Sprintf("layer %v: name or prefix %q could break a comment in generated code", l, s)
			}
		}
		if l.Op.HasWeights() && l.Prefix == "" {
			return fmt.Sprintf("layer %v has weights but no prefix", l)
		}
		switch {
		case i == 0 && len(l.Inputs) != 0:
			return "the first layer has inputs"
		}
		if lo, hi := l.Op.Inputs(); i > 0 && (len(l.Inputs) < lo || hi > 0 && len(l.Inputs) > hi) {
			return fmt.Sprintf("layer %v has %d inputs", l, len(l.Inputs))
		}
		if len(l.InputPorts) != len(l.Inputs) {
			return fmt.Sprintf("layer %v: %d inputs, %d ports", l, len(l.Inputs), len(l.InputPorts))
		}
		for j, in := range l.Inputs {
			if in.Index >= i || net.Layers[in.Index] != in {
				return fmt.Sprintf("layer %v reads %v, which is not an earlier layer", l, in)
			}
			if p := l.InputPorts[j]; p < 0 || p >= in.Outputs() {
				return fmt.Sprintf("layer %v reads output %d of %v, which has %d", l, p, in, in.Outputs())
			}
		}
		for _, v := range []int{l.Out, l.Groups, l.Kernel.H, l.Kernel.W, l.Stride.H, l.Stride.W, l.Padding.H, l.Padding.W, l.Dilation.H, l.Dilation.W} {
			if v < 0 || v > spec.MaxDim {
				return fmt.Sprintf("layer %v: a hyper-parameter is %d", l, v)
			}
		}
		if l.Stride.H < 1 || l.Stride.W < 1 || l.Groups < 1 || l.Dilation.H < 1 || l.Dilation.W < 1 || !(l.Eps > 0) || math.IsInf(l.Eps, 0) {
			return fmt.Sprintf("layer %v: stride %v groups %d dilation %v eps %g", l, l.Stride, l.Groups, l.Dilation, l.Eps)
		}
		switch l.Op {
		case spec.ACBlock, spec.Conv:
			if l.Out < 1 || l.Kernel.H < 1 || l.Kernel.W < 1 || l.Out%l.Groups != 0 {
				return fmt.Sprintf("layer %v: out %d kernel %v groups %d", l, l.Out, l.Kernel, l.Groups)
			}
			if l.Op == spec.ACBlock && (l.Kernel.H%2 == 0 || !l.Kernel.Square() || l.Dilation != (spec.HW{H: 1, W: 1})) {
				return fmt.Sprintf("layer %v: kernel %v dilation %v", l, l.Kernel, l.Dilation)
			}
		case spec.Linear:
			if l.Out < 1 {
				return fmt.Sprintf("layer %v: out %d", l, l.Out)
			}
		case spec.MaxPool, spec.AvgPool:
			if l.Kernel.H < 1 || l.Kernel.W < 1 || 2*l.Padding.H > l.Kernel.H || 2*l.Padding.W > l.Kernel.W {
				return fmt.Sprintf("layer %v: kernel %v padding %v", l, l.Kernel, l.Padding)
			}
		}
	}
	return ""
}

func isSpec(err error) bool { return errors.Is(err, spec.ErrSpec) }

// TestWriteCorpus rewrites the committed seed corpus when asked:
//
//	go test ./spec -run TestWriteCorpus -writecorpus
func TestWriteCorpus(t *testing.T) {
	if !*writeCorpus {
		t.Skip("-writecorpus not set")
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzParse")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, s := range seeds(t) {
		name := fmt.Sprintf("seed-%x", sha256.Sum256(s))[:21]
		data := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", s)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
