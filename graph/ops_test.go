package graph_test

import (
	"math"
	"slices"
	"sort"
	"testing"

	"github.com/acgen/acgen/graph"
	"github.com/acgen/acgen/internal/synth"
	"github.com/acgen/acgen/runtime/ref"
	"github.com/acgen/acgen/spec"
)

// everyOp uses every op a spec may name at least once, so that
// TestRowTensors drives each row's hooks; TestEveryOpInExample fails
// when an op is added without extending it.
const everyOp = `input: [4, 9, 9]
layers:
  - {name: ac, op: acblock, out: 8, kernel: 3, padding: 1}
  - {name: r, op: relu}
  - {name: rep, op: repvgg, out: 8, kernel: 3}
  - {name: lr, op: leaky_relu, slope: 0.2}
  - {name: dbb, op: dbb, out: 8, kernel: 3}
  - {name: dbbdw, op: dbb, out: 8, kernel: 3, groups: 8}
  - {name: mo, op: mobileone, out: 8, conv_branches: 2}
  - {name: mo1, op: mobileone, out: 8, kernel: 1, groups: 2}
  - {name: qa, op: qarepvgg, out: 8, version: 2}
  - {name: qa1, op: qarepvgg, out: 8, groups: 2}
  - {name: dw, op: repvggdw}
  - {name: dil, op: dilated_reparam, kernel: 5}
  - {name: rc, op: repconv, out: 8, identity: 1}
  - {name: ls, op: linear_sum, out: 8, branches: [[{op: conv, key: a, kernel: 3, padding: 1}, {op: bn, key: b}], [{op: pad, padding: 1}, {op: conv, key: c, kernel: 3, groups: 2}], [{op: avgpool, kernel: 3, stride: 1, padding: 1}], [], [{op: bn, key: d}]]}
  - {name: c, op: conv, out: 8, kernel: 3, padding: 1}
  - {name: b, op: bn}
  - {name: hs, op: hardswish}
  - {name: add, op: add, inputs: [hs, r]}
  - {name: b2, op: bn, inputs: [add]}
  - {name: b3, op: bn, inputs: [add]}
  - {name: cat, op: concat, inputs: [b2, b3]}
  - {name: sh, op: channel_shuffle, groups: 4}
  - {name: sp, op: split, sizes: [6, 10]}
  - {name: spc, op: concat, inputs: [sp:1, sp:0]}
  - {name: mp, op: maxpool, kernel: 3, stride: 2, padding: 1}
  - {name: ap, op: avgpool, kernel: 2}
  - {name: aap, op: adaptive_avgpool, size: [2, 3], inputs: [mp]}
  - {name: d, op: dropout, p: 0.5}
  - {name: sq, op: global_avgpool}
  - {name: sg, op: sigmoid}
  - {name: hsg, op: hardsigmoid, inputs: [sg]}
  - {name: m, op: mul, inputs: [ap, hsg]}
  - {name: m2, op: mul, inputs: [m, ap]}
  - {name: si, op: silu}
  - {name: th, op: tanh}
  - {name: ge, op: gelu}
  - {name: get, op: gelu, approximate: tanh}
  - {name: r6, op: relu6}
  - {name: f, op: flatten}
  - {name: fc, op: linear, out: 5}
  - {name: fcbn, op: bn}
  - {name: lsc, op: scale}
  - {name: ln, op: layernorm, eps: 1e-6, inputs: [cat]}
  - {name: grn, op: grn}
`

func buildEveryOp(t *testing.T, withWeights bool) (*spec.Net, *graph.Graph) {
	t.Helper()
	net, err := spec.Parse("every.yaml", []byte(everyOp))
	if err != nil {
		t.Fatal(err)
	}
	if !withWeights {
		return net, nil
	}
	ts, err := synth.Checkpoint(net, 7)
	if err != nil {
		t.Fatal(err)
	}
	g, err := graph.Build(net, synth.File("model.pth", ts), graph.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return net, g
}

// TestRows: every op a spec may name has a row with every hook, and
// every row is an op of the spec or one fusion makes.
func TestRows(t *testing.T) {
	for _, op := range spec.KnownOps() {
		r := graph.RowOf(spec.Op(op))
		switch {
		case r == nil:
			t.Errorf("op %s has no row", op)
		case r.Build == nil || r.Ref == nil || r.FLOPs == nil || r.Doc == "":
			t.Errorf("op %s: row lacks a hook (Build %v, Ref %v, FLOPs %v, Doc %q)", op, r.Build != nil, r.Ref != nil, r.FLOPs != nil, r.Doc)
		case r.Fold != nil && (r.Block == "" || r.Folded == nil || r.FoldedBNs == nil):
			t.Errorf("op %s folds but names no block family", op)
		}
	}
	for _, r := range graph.Rows() {
		if !slices.Contains(spec.KnownOps(), string(r.Op)) && r.Op != graph.OpAffine {
			t.Errorf("row %s is not an op of the spec", r.Op)
		}
	}
}

func TestEveryOpInExample(t *testing.T) {
	net, _ := buildEveryOp(t, false)
	used := map[spec.Op]bool{}
	for _, l := range net.Layers {
		used[l.Op] = true
	}
	for _, op := range spec.KnownOps() {
		if !used[spec.Op(op)] {
			t.Errorf("everyOp does not use op %s: add it, so that its row is tested", op)
		}
	}
}

// TestRowTensors: each row's Tensors lists exactly the checkpoint keys
// its Build reads, so that parameter counts, the conditioning check's
// perturbation, the finiteness check and the rounding miss none.
func TestRowTensors(t *testing.T) {
	net, g := buildEveryOp(t, true)
	wants, err := graph.Wants(net, graph.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var want, got []string
	for _, w := range wants {
		want = append(want, w.Key)
	}
	for _, n := range g.Nodes {
		for _, p := range n.Tensors() {
			got = append(got, p.Key(n.Layer.Prefix))
			if len(*p.Data) != p.Len() || p.Len() == 0 {
				t.Errorf("%s: tensor %s holds %d values, its shape %v", n, p.Name, len(*p.Data), p.Shape)
			}
		}
	}
	sort.Strings(want)
	sort.Strings(got)
	if !slices.Equal(got, want) {
		t.Errorf("tensors listed by the rows:\n%v\nkeys Build reads:\n%v", got, want)
	}
}

// TestClone: a clone's tensors are its own, and it computes what the
// original does.
func TestClone(t *testing.T) {
	_, g := buildEveryOp(t, true)
	in := make([]float64, g.Input.Len())
	for i := range in {
		in[i] = math.Sin(float64(i))
	}
	acts, err := ref.Trace(g, in)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range g.Nodes {
		m := n.Clone()
		for _, p := range m.Tensors() {
			for i := range *p.Data {
				(*p.Data)[i] = 1e6
			}
		}
		args := []ref.Tensor{{Shape: g.Input, Data: in}}
		if len(n.Inputs) > 0 {
			args = args[:0]
			for _, x := range n.Inputs {
				args = append(args, acts[x])
			}
		}
		again := n.Row().Ref(n, args)
		if !slices.Equal(again.Data, acts[n].Data) {
			t.Errorf("%s: changing a clone's tensors changed the node", n)
		}
		if g.FLOPs(n) < 0 || n.Op != spec.Flatten && g.FLOPs(n) == 0 {
			t.Errorf("%s: FLOPs %g", n, g.FLOPs(n))
		}
	}
}
