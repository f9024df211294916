package fuse

import (
	"fmt"

	"github.com/acgen/acgen/graph"
	"github.com/acgen/acgen/spec"
)

// Report says what Fuse did.
type Report struct {
	ACBlocks     int // ACBlocks turned into one convolution each
	RepBlocks    int // other training-time blocks (RepVGG, DBB) turned into one convolution each
	RepBNs       int // the BatchNorms inside them
	FoldedBNs    int // standalone BatchNorms folded into a convolution
	FoldedScales int // scale layers folded into the convolution or linear layer before them
	ParamsIn     int // learnable parameters (as PyTorch counts them) before
	ParamsOut    int // and after
	KeptBNs      []string
	// Channel gathers (split outputs, shuffles): composed with the
	// gather they read, folded into the convolution that alone reads
	// them, and the ones left, which copy channels at run time.
	ComposedGathers int
	FoldedGathers   int
	KeptGathers     []string
	NodesBefore     int
	NodesAfter      int
}

// BatchNorms is how many BatchNorms fusion folded: those inside ACBlocks
// (three each) and the other blocks, and the standalone ones.
func (r Report) BatchNorms() int { return r.FoldedBNs + 3*r.ACBlocks + r.RepBNs }

// Fuse returns the inference form of g. g is not modified.
func Fuse(g *graph.Graph) (*graph.Graph, Report) { return fuse(g, true) }

// fuse is Fuse; with round false it leaves the parameters in float64, so
// that tests can tell a mistake of fusion's from float32's rounding.
func fuse(g *graph.Graph, round bool) (*graph.Graph, Report) {
	rep := Report{ParamsIn: g.Params(), NodesBefore: len(g.Nodes)}
	out := &graph.Graph{Name: g.Name, Input: g.Input, Spec: g.Spec}
	// replaced maps each node of g to the node of out that produces its
	// value; a folded BN maps to its (rewritten) convolution.
	replaced := map[*graph.Node]*graph.Node{}
	// gathers maps each gather of out to the node of g it was made
	// from: only what that node's readers read.
	gathers := map[*graph.Node]*graph.Node{}
	readers := g.Readers()
	for _, n := range g.Nodes {
		var m *graph.Node
		switch row := n.Row(); {
		case row.Fold != nil:
			// A training-time block: one convolution.
			conv, bns := row.Fold(n)
			m = &graph.Node{Name: n.Name, Op: spec.Conv, Shape: n.Shape, Layer: n.Layer, Conv: conv}
			if row.Block == "ACBlock" {
				rep.ACBlocks++
			} else {
				rep.RepBlocks++
				rep.RepBNs += bns
			}
		case n.Op == spec.BN:
			if prev := foldTarget(n, readers, replaced); prev != nil {
				if prev.Linear != nil {
					prev.Linear.FoldBN(n.BN)
				} else {
					prev.Conv.FoldBN(n.BN)
				}
				replaced[n] = prev
				rep.FoldedBNs++
				continue
			}
			scale, shift := n.BN.ScaleShift()
			m = &graph.Node{Name: n.Name, Op: graph.OpAffine, Shape: n.Shape, Layer: n.Layer,
				Affine: &graph.Affine{Scale: scale, Shift: shift}}
			rep.KeptBNs = append(rep.KeptBNs, n.Name)
		case n.Gather != nil && len(n.Inputs) == 1: // (one of the network input stays as it is)
			var same []*graph.Node
			if m, same = gatherNode(n, replaced[n.Inputs[0]], g.Input, &rep); m == nil {
				if len(same) == 0 {
					// The network input itself: a node copies it.
					m = n.Clone()
					m.Gather.Channels, m.Inputs = channels(g.Input.C), nil
				} else {
					replaced[n] = same[0]
					continue
				}
			}
			replaced[n] = m
			gathers[m] = n
			out.Nodes = append(out.Nodes, m)
			continue
		case n.Op == spec.Scale:
			if prev := foldTarget(n, readers, replaced); prev != nil {
				if prev.Linear != nil {
					prev.Linear.FoldScale(n.Affine.Scale)
				} else {
					prev.Conv.FoldScale(n.Affine.Scale)
				}
				replaced[n] = prev
				rep.FoldedScales++
				continue
			}
			m = n.Clone() // an affine step
		case row.Fused:
			panic(fmt.Sprintf("fuse: op %s has no fusion", n.Op)) // a training-time op without a Fold: a bug in its row
		default:
			m = n.Clone()
		}
		m.Inputs = nil
		for _, in := range n.Inputs {
			m.Inputs = append(m.Inputs, replaced[in])
		}
		if in := n.Inputs; len(in) == 1 && foldGather(m, g.Input, gathers[m.Inputs[0]] == in[0] && readers[in[0]] == 1 && in[0] != g.Output) {
			rep.FoldedGathers++
		}
		replaced[n] = m
		out.Nodes = append(out.Nodes, m)
	}
	out.Output = replaced[g.Output]
	dropDeadGathers(out, &rep)
	for _, n := range out.Nodes {
		if round {
			roundParams(n)
		}
	}
	rep.ParamsOut = out.Params()
	rep.NodesAfter = len(out.Nodes)
	return out, rep
}

// foldTarget returns the fused convolution or linear layer (a
// BatchNorm1d's) a BN or a scale can fold into: the node's input is one
// that nothing else reads (nor is the output).
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
