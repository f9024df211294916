package fuse

import (
	"fmt"

	"github.com/acgen/acgen/graph"
	"github.com/acgen/acgen/spec"
)

// Report says what Fuse did.
type Report struct {
	ACBlocks    int            // ACBlocks turned into one convolution each
	RepBlocks   int            // other training-time blocks (RepVGG, DBB, MobileOne...) turned into one convolution each
	Blocks      map[string]int // of those, how many of each family (graph.Row.Block)
	RepBNs      int            // the BatchNorms inside them
	FoldedBNs   int            // standalone BatchNorms folded into a convolution
	ParamsIn    int            // learnable parameters (as PyTorch counts them) before
	ParamsOut   int            // and after
	KeptBNs     []string
	NodesBefore int
	NodesAfter  int
}

// BatchNorms is how many BatchNorms fusion folded: those inside ACBlocks
// (three each) and the other blocks, and the standalone ones.
func (r Report) BatchNorms() int { return r.FoldedBNs + 3*r.ACBlocks + r.RepBNs }

// Fuse returns the inference form of g, every weight computed (see
// Materialize). g is not modified.
func Fuse(g *graph.Graph) (*graph.Graph, Report) { return fuse(g, true) }

// fuse is Fuse; with round false it leaves the parameters in float64, so
// that tests can tell a mistake of fusion's from float32's rounding.
func fuse(g *graph.Graph, round bool) (*graph.Graph, Report) {
	out, rep := Structure(g)
	for _, n := range out.Nodes {
		materialize(n, round)
	}
	rep.ParamsOut = out.Params()
	return out, rep
}

// Structure is the inference form of g without its weights: each fused
// node's op and geometry, and the training-form nodes it computes
// (Node.From), which decide nothing by their values. Materialize then
// computes a node's weights once those nodes hold theirs, so that a
// caller streaming a lazy graph holds one layer's weights at a time.
func Structure(g *graph.Graph) (*graph.Graph, Report) {
	rep := Report{ParamsIn: g.Params(), NodesBefore: len(g.Nodes)}
	out := &graph.Graph{Name: g.Name, Input: g.Input, Spec: g.Spec}
	// replaced maps each node of g to the node of out that produces its
	// value; a folded BN maps to its convolution.
	replaced := map[*graph.Node]*graph.Node{}
	readers := g.Readers()
	for _, n := range g.Nodes {
		m := &graph.Node{Name: n.Name, Op: n.Op, Shape: n.Shape, Layer: n.Layer, Param: n.Param, Pool: n.Pool, From: []*graph.Node{n}}
		switch row := n.Row(); {
		case row.Fold != nil:
			// A training-time block: one convolution.
			c := row.Folded(n)
			m.Op, m.Conv = spec.Conv, &c
			if row.Block == "ACBlock" {
				rep.ACBlocks++
			} else {
				rep.RepBlocks++
				rep.RepBNs += row.FoldedBNs(n)
				if rep.Blocks == nil {
					rep.Blocks = map[string]int{}
				}
				rep.Blocks[row.Block]++
			}
		case n.Op == spec.BN:
			if prev := foldTarget(n, readers, replaced); prev != nil {
				prev.From = append(prev.From, n)
				replaced[n] = prev
				rep.FoldedBNs++
				continue
			}
			// Empty, not nil: values to come (see graph.Options.Lazy).
			m.Op, m.Affine = graph.OpAffine, &graph.Affine{Scale: []float64{}, Shift: []float64{}}
			rep.KeptBNs = append(rep.KeptBNs, n.Name)
		case row.Fused:
			panic(fmt.Sprintf("fuse: op %s has no fusion", n.Op)) // a training-time op without a Fold: a bug in its row
		default:
			c := n.Geometry()
			m.Conv, m.Linear, m.Affine = c.Conv, c.Linear, c.Affine
		}
		for _, in := range n.Inputs {
			m.Inputs = append(m.Inputs, replaced[in])
		}
		replaced[n] = m
		out.Nodes = append(out.Nodes, m)
	}
	out.Output = replaced[g.Output]
	for _, m := range out.Nodes {
		// Folding a BatchNorm makes a bias where there was none.
		if len(m.From) > 1 && m.Conv != nil && m.Conv.Bias == nil {
			m.Conv.Bias = []float64{}
		}
		if len(m.From) > 1 && m.Linear != nil && m.Linear.Bias == nil {
			m.Linear.Bias = []float64{}
		}
	}
	rep.ParamsOut = out.Params()
	rep.NodesAfter = len(out.Nodes)
	return out, rep
}

// Materialize computes fused node n's weights from the training-form
// nodes it comes from (n.From, whose weights must be loaded), rounded to
// float32, the one rounding the fused network gets.
func Materialize(n *graph.Node) { materialize(n, true) }

func materialize(n *graph.Node, round bool) {
	src := n.From[0]
	row := src.Row()
	switch {
	case row.Fold != nil:
		n.Conv = row.Fold(src)
	case src.Op == spec.BN:
		scale, shift := src.BN.ScaleShift()
		n.Affine = &graph.Affine{Scale: scale, Shift: shift}
	case len(n.From) == 1 && round && float32Exact(src):
		// Rounding changes nothing: share the weights rather than copy
		// them (the largest layers are the plain ones).
		n.Conv, n.Linear, n.Affine = src.Conv, src.Linear, src.Affine
		return
	default:
		c := src.Clone()
		n.Conv, n.Linear, n.Affine = c.Conv, c.Linear, c.Affine
	}
	for _, bn := range n.From[1:] {
		if n.Linear != nil {
			n.Linear.FoldBN(bn.BN)
		} else {
			n.Conv.FoldBN(bn.BN)
		}
	}
	if round {
		roundParams(n)
	}
}

// Shares reports whether materialized fused node n computes with its
// training-form node's own parameters (an op without weights, or whose
// weights rounding leaves as they are): it computes the same values
// from the same inputs.
func Shares(n *graph.Node) bool {
	src := n.From[0]
	return len(n.From) == 1 && src.Row().Fold == nil && src.Op != spec.BN &&
		n.Conv == src.Conv && n.Linear == src.Linear && n.Affine == src.Affine
}

// float32Exact reports whether every tensor of n is already a float32
// value (as every tensor of a float32 or float16 checkpoint is).
func float32Exact(n *graph.Node) bool {
	for _, p := range n.Tensors() {
		for _, v := range *p.Data {
			if float64(float32(v)) != v {
				return false
			}
		}
	}
	return true
}

// foldTarget returns the fused convolution or linear layer (a
// BatchNorm1d's) a BN can fold into: the BN's input is one that nothing
// else reads (nor is the output).
func foldTarget(bn *graph.Node, readers map[*graph.Node]int, replaced map[*graph.Node]*graph.Node) *graph.Node {
	if len(bn.Inputs) != 1 {
		return nil
	}
	src := bn.Inputs[0]
	if readers[src] != 1 {
		return nil
	}
	prev := replaced[src]
	if prev == nil || prev.Op != spec.Conv && prev.Op != spec.Linear {
		return nil
	}
	return prev
}

// Params counts the learnable parameters of a graph, as PyTorch's
// model.parameters() would: weights, biases, BN gammas and betas, but not
// BN running statistics (buffers).
func Params(g *graph.Graph) int { return g.Params() }

// roundParams rounds every parameter of n to float32 precision: the one
// rounding the fused network gets.
func roundParams(n *graph.Node) {
	for _, p := range n.Tensors() {
		for i, v := range *p.Data {
			(*p.Data)[i] = float64(float32(v))
		}
	}
}
