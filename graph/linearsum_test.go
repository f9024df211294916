package graph_test

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/acgen/acgen/graph"
	"github.com/acgen/acgen/internal/synth"
	"github.com/acgen/acgen/spec"
)

// sumBlocks are blocks of every re-parameterisation op after RepVGG, in
// the shapes their families use and at the edges of what folds: strides,
// groups, depthwise, a scale branch, no identity, dilated branches of the
// official tables and others, and linear_sum chains (a 1x1 before a
// padded KxK, zero padding, pooling with a stride, grouped convolutions
// of different groups, a dilated step).
var sumBlocks = []struct {
	name, in, layer string
	groups          int // of the folded convolution
}{
	{"mobileone", "6, 9, 9", "{name: b, op: mobileone, out: 6, conv_branches: 3}", 1},
	{"mobileone depthwise stride 2", "6, 9, 8", "{name: b, op: mobileone, out: 6, groups: 6, stride: 2, conv_branches: 2}", 6},
	{"mobileone pointwise", "6, 5, 5", "{name: b, op: mobileone, out: 10, kernel: 1, conv_branches: 2}", 1},
	{"mobileone pointwise identity", "6, 5, 5", "{name: b, op: mobileone, out: 6, kernel: 1, groups: 2}", 2},
	{"mobileone 5x5", "4, 9, 9", "{name: b, op: mobileone, out: 4, kernel: 5, groups: 2}", 2},
	{"qarepvgg", "6, 7, 7", "{name: b, op: qarepvgg, out: 6}", 1},
	{"qarepvgg v2", "6, 7, 7", "{name: b, op: qarepvgg, out: 6, version: 2, groups: 3}", 3},
	{"qarepvgg v2 stride 2", "6, 8, 7", "{name: b, op: qarepvgg, out: 8, version: 2, stride: 2, groups: 2}", 2},
	{"repvggdw", "5, 6, 7", "{name: b, op: repvggdw, eps: 0.001}", 5},
	{"dilated 7", "4, 9, 9", "{name: b, op: dilated_reparam, kernel: 7}", 4},
	{"dilated 13", "3, 15, 14", "{name: b, op: dilated_reparam, kernel: 13}", 3},
	{"dilated 17", "2, 17, 17", "{name: b, op: dilated_reparam, kernel: 17}", 2},
	{"dilated custom", "3, 8, 8", "{name: b, op: dilated_reparam, kernel: 7, kernels: [3, 5, 1], dilations: [3, 1, 1]}", 3},
	{"repconv identity", "4, 6, 6", "{name: b, op: repconv, out: 4, identity: 1}", 1},
	{"repconv padding 2 stride 2", "4, 7, 6", "{name: b, op: repconv, out: 6, padding: 2, stride: 2, groups: 2}", 2},
	{"linear_sum RepVGG", "4, 6, 6", "{name: b, op: linear_sum, out: 4, branches: [[{op: conv, key: d.conv, kernel: 3, padding: 1}, {op: bn, key: d.bn}], [{op: conv, key: o.conv, kernel: 1}, {op: bn, key: o.bn}], [{op: bn, key: id}]]}", 1},
	{"linear_sum chains", "4, 8, 8", `{name: b, op: linear_sum, out: 6, branches: [
	    [{op: conv, key: a, out: 8, kernel: 1, groups: 2}, {op: conv, key: b, kernel: 3, padding: 1, groups: 2}, {op: bn, key: c}],
	    [{op: pad, padding: 1}, {op: conv, key: d, kernel: 3}],
	    [{op: conv, key: e, kernel: 3, padding: 1}, {op: bn, key: f}, {op: conv, key: g, kernel: 1, groups: 3}],
	    [{op: conv, key: h, kernel: 3, padding: 2, dilation: 2}]]}`, 1},
	{"linear_sum strided", "4, 9, 8", `{name: b, op: linear_sum, out: 4, branches: [
	    [{op: conv, key: a, kernel: 3, stride: 2, padding: 1, groups: 4}],
	    [{op: avgpool, kernel: 3, stride: 2, padding: 1}, {op: bn, key: b}],
	    [{op: conv, key: c, kernel: 1, stride: 2, groups: 2}, {op: pad, padding: 1}, {op: conv, key: d, kernel: 3, groups: 2}]]}`, 2},
	{"linear_sum 5x5 of two 3x3", "3, 9, 9", `{name: b, op: linear_sum, out: 5, branches: [
	    [{op: conv, key: a, out: 4, kernel: 3, padding: 1}, {op: bn, key: b}, {op: conv, key: c, kernel: 3}],
	    [{op: conv, key: d, kernel: 5, padding: 1}]]}`, 1},
	{"linear_sum identity and pool", "3, 6, 6", "{name: b, op: linear_sum, out: 3, branches: [[], [{op: avgpool, kernel: 3, stride: 1, padding: 1}], [{op: bn, key: n}]]}", 3},
}

// TestSumFold: every block's Fold is the block as trained, to float64's
// rounding, whatever its weights (synthesized, conv biases in or out),
// and has the geometry Folded promised before any weight was read.
func TestSumFold(t *testing.T) {
	for _, c := range sumBlocks {
		t.Run(c.name, func(t *testing.T) {
			src := "input: [" + c.in + "]\nlayers:\n  - " + c.layer + "\n"
			net, err := spec.Parse("s.yaml", []byte(src))
			if err != nil {
				t.Fatal(err)
			}
			ts, err := synth.Checkpoint(net, 3)
			if err != nil {
				t.Fatal(err)
			}
			for _, noBias := range []bool{false, true} {
				if noBias {
					for k := range ts {
						if strings.HasSuffix(k, ".bias") {
							if _, bn := ts[strings.TrimSuffix(k, "bias")+"running_mean"]; !bn {
								delete(ts, k)
							}
						}
					}
				}
				g, err := graph.Build(net, synth.File("model.pth", ts), graph.Options{})
				if err != nil {
					t.Fatal(err)
				}
				n := g.Nodes[0]
				folded, geom := n.Row().Fold(n), n.Row().Folded(n)
				if folded.Groups != c.groups || folded.KH != geom.KH || folded.PadH != geom.PadH || folded.StrideH != geom.StrideH || folded.Groups != geom.Groups {
					t.Errorf("folded %+v, geometry %+v, want %d groups", folded.Geometry(), geom, c.groups)
				}
				rng := rand.New(rand.NewPCG(1, 2))
				x := graph.NewTensor(g.Input)
				for i := range x.Data {
					x.Data[i] = rng.NormFloat64()
				}
				want := n.Row().Ref(n, []graph.Tensor{x})
				got := graph.RunConv(x, folded)
				if got.Shape != want.Shape || got.Shape != n.Shape {
					t.Fatalf("folded gives %s, the block %s, its node %s", got.Shape, want.Shape, n.Shape)
				}
				var worst, scale float64
				for i := range got.Data {
					worst = max(worst, math.Abs(got.Data[i]-want.Data[i]))
					scale = max(scale, math.Abs(want.Data[i]))
				}
				if !(worst <= 1e-12*max(1, scale)) {
					t.Errorf("bias %v: folded differs from the block by %.3g (of %.3g)", !noBias, worst, scale)
				}
			}
		})
	}
}

// TestSumRefusals: a linear_sum whose branches are not one convolution
// is refused at the step or branch that stops it.
func TestSumRefusals(t *testing.T) {
	for _, c := range []struct{ name, layer, msg string }{
		{"bn before a padded conv", "{name: b, op: linear_sum, out: 4, branches: [[{op: bn, key: a}, {op: conv, key: c, kernel: 3, padding: 1}]]}",
			`s.yaml:3:69: layer "b": branch 0: c pads what the steps before it computed, which is not zero outside the input`},
		{"3x3 before a padded conv", "{name: b, op: linear_sum, out: 4, branches: [[{op: conv, key: a, kernel: 3, padding: 1}, {op: pad, padding: 1}]]}",
			`s.yaml:3:94: layer "b": branch 0: padding by 1 pads what the steps before it computed`},
		{"strides", "{name: b, op: linear_sum, out: 4, branches: [[{op: conv, key: a, kernel: 1, stride: 2}], [{op: avgpool, kernel: 5, stride: 1}]]}",
			`layer "b": branch 1: has stride 1, and branch 0 stride 2`},
		{"shapes", "{name: b, op: linear_sum, out: 4, branches: [[{op: conv, key: a, kernel: 3}], []]}",
			`layer "b": branch 1: gives 4x8x8, and branch 0 gives 4x6x6`},
		{"channels", "{name: b, op: linear_sum, out: 6, branches: [[{op: conv, key: a, kernel: 1}], []]}",
			`branch 1: gives 4x8x8, and branch 0 gives 6x8x8`},
		{"groups", "{name: b, op: linear_sum, out: 6, branches: [[{op: conv, key: a, kernel: 1, groups: 3}]]}",
			`branch 0: a reads 4 channels into 6 in 3 groups, which do not divide them`},
		{"too small", "{name: b, op: linear_sum, out: 4, branches: [[{op: conv, key: a, kernel: 9}]]}",
			`branch 0: a (kernel 9, dilation 1, padding 0) does not fit its 8x8 input`},
		{"repconv identity", "{name: b, op: repconv, out: 6, identity: 1}",
			`identity 1 with 4 input channels, out 6 and stride 1: RepConv has its identity BatchNorm only for equal channels`},
	} {
		t.Run(c.name, func(t *testing.T) {
			net, err := spec.Parse("s.yaml", []byte("input: [4, 8, 8]\nlayers:\n  - "+c.layer+"\n"))
			if err != nil {
				t.Fatal(err)
			}
			_, err = graph.Wants(net, graph.Options{})
			if err == nil || !errors.Is(err, graph.ErrShape) || !strings.Contains(err.Error(), c.msg) || strings.Contains(err.Error(), "\n") {
				t.Errorf("got %v\nwant one line with %q", err, c.msg)
			}
		})
	}
}

// TestSumBiasBeforePadding: a convolution's bias that a later step's
// padding would not see is refused, naming its key.
func TestSumBiasBeforePadding(t *testing.T) {
	net, err := spec.Parse("s.yaml", []byte("input: [4, 8, 8]\nlayers:\n  - {name: b, op: linear_sum, out: 4, branches: [[{op: conv, key: a, kernel: 1}, {op: conv, key: c, kernel: 3, padding: 1}]]}\n"))
	if err != nil {
		t.Fatal(err)
	}
	ts, err := synth.Checkpoint(net, 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := ts["b.a.bias"]; ok {
		t.Fatal("the spec reads b.a.bias")
	}
	ts["b.a.bias"] = synth.Tensor{Shape: []int{4}, Data: make([]float32, 4)}
	_, err = graph.Build(net, synth.File("model.pth", ts), graph.Options{})
	want := `layer "b": checkpoint key "b.a.bias": a later step of branch 0 pads this convolution's output with zeros where its bias would be`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("got %v\nwant %q", err, want)
	}
}
