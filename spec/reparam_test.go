package spec_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/acgen/acgen/internal/diag"
	"github.com/acgen/acgen/spec"
)

// TestReparamDefaults: what a spec leaves out of the blocks after RepVGG
// is what their official constructors default to.
func TestReparamDefaults(t *testing.T) {
	net := parse(t, head+`  - {name: m, op: mobileone, out: 8}
  - {name: m1, op: mobileone, out: 8, kernel: 1, conv_branches: 4}
  - {name: q, op: qarepvgg, out: 8}
  - {name: q2, op: qarepvgg, out: 8, version: 2}
  - {name: dw, op: repvggdw}
  - {name: d13, op: dilated_reparam, kernel: 13}
  - {name: d5, op: dilated_reparam, kernel: 5, kernels: [3], dilations: [2]}
  - {name: rc, op: repconv, out: 8, identity: 1}
  - {name: s, op: linear_sum, out: 8, eps: 0.001, branches: [[{op: conv, key: a, kernel: 3, padding: 1}, {op: bn, key: b}], [{op: avgpool, kernel: 3, padding: 1}], [], [{op: pad, padding: 1}, {op: conv, key: c, out: 4, kernel: 3, groups: 2}, {op: bn, key: d, eps: 0.1}]]}
`)
	by := map[string]*spec.Layer{}
	for _, l := range net.Layers {
		by[l.Name] = l
	}
	check := func(name string, got, want any) {
		t.Helper()
		if !equalAny(got, want) {
			t.Errorf("%s: %v, want %v", name, got, want)
		}
	}
	check("m kernel, padding, branches", []int{by["m"].Kernel.H, by["m"].Padding.H, by["m"].ConvBranches}, []int{3, 1, 1})
	check("m1 padding, branches", []int{by["m1"].Padding.H, by["m1"].ConvBranches}, []int{0, 4})
	check("q version", []int{by["q"].Version, by["q2"].Version, by["q"].Padding.H}, []int{1, 2, 1})
	check("d13 kernels", by["d13"].Kernels, []int{5, 7, 3, 3, 3})
	check("d13 dilations", by["d13"].Dilations, []int{1, 2, 3, 4, 5})
	check("d5 kernels", by["d5"].Kernels, []int{3})
	check("rc identity", []int{by["rc"].Identity, by["rc"].Padding.H, by["q"].Identity}, []int{1, 1, 0})
	if d := by["dw"]; d.Eps != 1e-5 {
		t.Errorf("repvggdw eps %g", d.Eps)
	}
	b := by["s"].Branches
	if len(b) != 4 || len(b[0]) != 2 || len(b[1]) != 1 || len(b[2]) != 0 || len(b[3]) != 3 {
		t.Fatalf("branches %v", b)
	}
	conv, bn, pool, pad, conv2, bn2 := b[0][0], b[0][1], b[1][0], b[3][0], b[3][1], b[3][2]
	check("conv step", []int{conv.Out, conv.Kernel, conv.Stride, conv.Padding, conv.Groups, conv.Dilation}, []int{8, 3, 1, 1, 1, 1})
	check("conv step 2", []int{conv2.Out, conv2.Kernel, conv2.Groups}, []int{4, 3, 2})
	check("pool step", []int{pool.Kernel, pool.Stride, pool.Padding}, []int{3, 3, 1})
	check("pad step", []int{pad.Kernel, pad.Stride, pad.Padding}, []int{1, 1, 1})
	check("bn eps", []float64{bn.Eps, bn2.Eps}, []float64{0.001, 0.1})
	if conv.Key != "a" || bn.Key != "b" || !conv.Has("padding") || conv.Has("stride") {
		t.Errorf("conv step %+v", conv)
	}
	if got := by["s"].FieldValue("branches"); !strings.Contains(got, "{op: conv, key: a, out: 8, kernel: 3, stride: 1, padding: 1, groups: 1, dilation: 1}") || !strings.Contains(got, "[]") {
		t.Errorf("FieldValue(branches) = %s", got)
	}
	if got := by["d13"].FieldValue("kernels"); got != "[5, 7, 3, 3, 3]" {
		t.Errorf("FieldValue(kernels) = %s", got)
	}
	for _, l := range net.Layers {
		for _, f := range l.Op.Fields() {
			l.FieldValue(f) // every field has a value to print (a missing case panics)
		}
	}
}

func equalAny(a, b any) bool {
	switch x := a.(type) {
	case []int:
		return slices.Equal(x, b.([]int))
	case []float64:
		return slices.Equal(x, b.([]float64))
	}
	return a == b
}

// badReparamSpecs are the blocks' own refusals, as badSpecs lists the
// rest.
var badReparamSpecs = []struct {
	name, src, pos, msg string
}{
	{"mobileone even kernel", "  - {name: m, op: mobileone, out: 4, kernel: 2, padding: 1}\n", "s.yaml:3:46", "kernel 2 is even; a MobileOne block adds"},
	{"mobileone padding", "  - {name: m, op: mobileone, out: 4, padding: 0}\n", "s.yaml:3:47", "padding 0: a MobileOne block pads by kernel/2 (1)"},
	{"mobileone no branch", "  - {name: m, op: mobileone, out: 4, conv_branches: 0}\n", "s.yaml:3:53", "conv_branches 0: a MobileOne block has 1 to 64"},
	{"qarepvgg version", "  - {name: q, op: qarepvgg, out: 4, version: 3}\n", "s.yaml:3:46", "version 3: 1 is YOLOv6's QARepVGGBlock"},
	{"qarepvgg padding", "  - {name: q, op: qarepvgg, out: 4, padding: 2}\n", "s.yaml:3:46", "padding 2: a QARepVGG block pads by kernel/2"},
	{"repconv identity", "  - {name: r, op: repconv, out: 4, identity: 2}\n", "s.yaml:3:46", "identity 2: 1 when the block has its identity BatchNorm"},
	{"repconv padding", "  - {name: r, op: repconv, out: 4, padding: 0}\n", "s.yaml:3:45", "padding 0 is less than kernel/2 (1)"},
	{"repvggdw out", "  - {name: r, op: repvggdw, out: 4}\n", "s.yaml:3:29", `op repvggdw has no field "out"`},
	{"dilated no official", "  - {name: d, op: dilated_reparam, kernel: 19}\n", "s.yaml:3:44", "kernel 19: UniRepLKNet has branches for kernels 5 to 17 only"},
	{"dilated even", "  - {name: d, op: dilated_reparam, kernel: 12}\n", "s.yaml:3:44", "kernel 12 is even"},
	{"dilated lengths", "  - {name: d, op: dilated_reparam, kernel: 7, kernels: [3, 3], dilations: [1]}\n", "s.yaml:3:75", "kernels has 2 sizes and dilations 1"},
	{"dilated too wide", "  - {name: d, op: dilated_reparam, kernel: 7, kernels: [3], dilations: [4]}\n", "s.yaml:3:72", "a 3x3 kernel of dilation 4 spans 9, more than the large kernel's 7"},
	{"dilated twice", "  - {name: d, op: dilated_reparam, kernel: 7, kernels: [3, 3], dilations: [2, 2]}\n", "s.yaml:3:56", "kernel 3 with dilation 2 twice"},
	{"dilated even branch", "  - {name: d, op: dilated_reparam, kernel: 7, kernels: [2], dilations: [1]}\n", "s.yaml:3:56", "branch 0: kernel 2 is even"},
	{"dilated not a list", "  - {name: d, op: dilated_reparam, kernel: 7, kernels: 3, dilations: [1]}\n", "s.yaml:3:56", "kernels must be a list of whole numbers"},
	{"linear_sum no branches", "  - {name: s, op: linear_sum, out: 4}\n", "s.yaml:3:5", "op linear_sum needs `branches`"},
	{"linear_sum branches empty", "  - {name: s, op: linear_sum, out: 4, branches: []}\n", "s.yaml:3:49", "branches is empty"},
	{"linear_sum branch a mapping", "  - {name: s, op: linear_sum, out: 4, branches: [{op: bn, key: b}]}\n", "s.yaml:3:50", "branch 0 must be a list of steps"},
	{"linear_sum step a string", "  - {name: s, op: linear_sum, out: 4, branches: [[bn]]}\n", "s.yaml:3:51", "branch 0: a step must be a mapping"},
	{"linear_sum step without op", "  - {name: s, op: linear_sum, out: 4, branches: [[], [{key: b}]]}\n", "s.yaml:3:55", "branch 1: the step has no op"},
	{"linear_sum step op", "  - {name: s, op: linear_sum, out: 4, branches: [[{op: relu}]]}\n", "s.yaml:3:56", `step op "relu" is not one of conv, bn, avgpool and pad`},
	{"linear_sum step field", "  - {name: s, op: linear_sum, out: 4, branches: [[{op: bn, key: b, kernel: 3}]]}\n", "s.yaml:3:68", `a bn step has no field "kernel"`},
	{"linear_sum conv without kernel", "  - {name: s, op: linear_sum, out: 4, branches: [[{op: conv, key: c}]]}\n", "s.yaml:3:51", "a conv step needs `kernel`"},
	{"linear_sum bn without key", "  - {name: s, op: linear_sum, out: 4, branches: [[{op: bn}]]}\n", "s.yaml:3:51", "a bn step needs `key`"},
	{"linear_sum key twice", "  - {name: s, op: linear_sum, out: 4, branches: [[{op: bn, key: b}], [{op: bn, key: b}]]}\n", "s.yaml:3:71", `key "b" is read by the step at line 3 too`},
	{"linear_sum groups", "  - {name: s, op: linear_sum, out: 4, branches: [[{op: conv, key: c, kernel: 1, groups: 3}]]}\n", "s.yaml:3:51", "out 4 is not a multiple of groups 3"},
	{"linear_sum stride zero", "  - {name: s, op: linear_sum, out: 4, branches: [[{op: conv, key: c, kernel: 1, stride: 0}]]}\n", "s.yaml:3:51", "a conv step's stride must be at least 1"},
	{"linear_sum pool padding", "  - {name: s, op: linear_sum, out: 4, branches: [[{op: avgpool, kernel: 3, padding: 2}]]}\n", "s.yaml:3:51", "padding 2 is more than half the kernel (3)"},
	{"linear_sum step key", "  - {name: s, op: linear_sum, out: 4, branches: [[{op: bn, key: a*/b}]]}\n", "s.yaml:3:65", `key "a*/b" holds a comment marker`},
	{"linear_sum step alias", "  - {name: s, op: linear_sum, out: 4, branches: [[*x]]}\n", "s.yaml:3:51", "YAML anchors, aliases and merge keys are not supported"},
}

func TestBadReparamSpecs(t *testing.T) {
	for _, c := range badReparamSpecs {
		t.Run(c.name, func(t *testing.T) {
			net, err := spec.Parse("s.yaml", []byte(head+c.src))
			if err == nil {
				t.Fatalf("Parse accepted it: %+v", net)
			}
			checkErr(t, err)
			first := diag.Errors(err)[0].Error()
			loc, msg, _ := strings.Cut(first, ": ")
			if loc != c.pos || !strings.Contains(msg, c.msg) {
				t.Errorf("first error %q\nwant at %s: ... %s", first, c.pos, c.msg)
			}
		})
	}
}
