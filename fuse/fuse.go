package fuse

import (
	"fmt"
	"slices"

	"github.com/acgen/acgen/graph"
	"github.com/acgen/acgen/spec"
)

// Report says what Fuse did.
type Report struct {
	ACBlocks  int // ACBlocks turned into one convolution each
	RepBlocks int // other training-time blocks (RepVGG, DBB, MobileOne...) turned into one convolution each
	// Blocks are, of those, how many of each family (graph.Row.Block).
	Blocks       map[string]int
	RepBNs       int // the BatchNorms inside them
	FoldedBNs    int // standalone BatchNorms folded into a convolution
	FoldedScales int // scale layers folded into the convolution or linear layer before them
	FoldedShifts int // GRN betas folded into the bias of the convolution after them
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
// node's op and geometry, the training-form nodes it computes (Node.From)
// and the gather it absorbed (Node.PermuteIn), none of which depends on a
// weight's value. Materialize then computes a node's weights once those
// nodes hold theirs, so that a caller streaming a lazy graph holds one
// layer's weights at a time.
func Structure(g *graph.Graph) (*graph.Graph, Report) {
	rep := Report{ParamsIn: g.Params(), NodesBefore: len(g.Nodes)}
	out := &graph.Graph{Name: g.Name, Input: g.Input, Spec: g.Spec}
	// replaced maps each node of g to the node of out that produces its
	// value; a folded BN or scale maps to its convolution.
	replaced := map[*graph.Node]*graph.Node{}
	// gathers maps each gather of out to the node of g it was made
	// from: only what that node's readers read.
	gathers := map[*graph.Node]*graph.Node{}
	readers := g.Readers()
	shifts := grnShifts(g, readers) // a GRN's reader -> the GRN whose beta folds into it
	for _, n := range g.Nodes {
		m := n.Geometry()
		m.From = []*graph.Node{n}
		switch row := n.Row(); {
		case row.Fold != nil:
			// A training-time block: one convolution.
			c := row.Folded(n)
			m = &graph.Node{Name: n.Name, Op: spec.Conv, Shape: n.Shape, Layer: n.Layer, Conv: &c, From: m.From}
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
			if prev := foldTarget(n, readers, replaced, g.Output); prev != nil {
				prev.From = append(prev.From, n)
				replaced[n] = prev
				rep.FoldedBNs++
				continue
			}
			// Empty, not nil: values to come (see graph.Options.Lazy).
			m = &graph.Node{Name: n.Name, Op: graph.OpAffine, Shape: n.Shape, Layer: n.Layer, From: m.From,
				Affine: &graph.Affine{Scale: []float64{}, Shift: []float64{}}}
			rep.KeptBNs = append(rep.KeptBNs, n.Name)
		case n.Gather != nil && len(n.Inputs) == 1: // (one of the network input stays as it is)
			var same []*graph.Node
			from := m.From
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
			m.From = from
			replaced[n] = m
			gathers[m] = n
			out.Nodes = append(out.Nodes, m)
			continue
		case n.Op == spec.Scale:
			if prev := foldTarget(n, readers, replaced, g.Output); prev != nil {
				prev.From = append(prev.From, n)
				replaced[n] = prev
				rep.FoldedScales++
				continue
			}
			// Else an affine step.
		case row.Fused:
			panic(fmt.Sprintf("fuse: op %s has no fusion", n.Op)) // a training-time op without a Fold: a bug in its row
		}
		m.Inputs = nil
		for _, in := range n.Inputs {
			m.Inputs = append(m.Inputs, replaced[in])
		}
		if in := n.Inputs; len(in) == 1 && foldGather(m, g.Input, gathers[m.Inputs[0]] == in[0] && readers[in[0]] == 1 && in[0] != g.Output) {
			rep.FoldedGathers++
		}
		if grn := shifts[n]; grn != nil {
			// Folding beta makes a bias where there was none.
			f := replaced[grn]
			f.ShiftTo, f.GRN.Beta = m, nil
			m.InShift = []float64{}
			if m.Conv.Bias == nil {
				m.Conv.Bias = []float64{}
			}
			rep.FoldedShifts++
		}
		replaced[n] = m
		out.Nodes = append(out.Nodes, m)
	}
	out.Output = replaced[g.Output]
	dropDeadGathers(out, &rep)
	for _, m := range out.Nodes {
		// Folding a BatchNorm or a scale makes a bias where there was none.
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
	case len(n.From) == 1 && n.PermuteIn == nil && n.ShiftTo == nil && n.InShift == nil && round && float32Exact(src):
		// Rounding changes nothing: share the weights rather than copy
		// them (the largest layers are the plain ones).
		n.TakeParams(src)
		return
	default:
		n.TakeParams(src.Clone())
	}
	if n.ShiftTo != nil { // a GRN: its beta goes to its reader
		n.ShiftTo.InShift, n.GRN.Beta = n.GRN.Beta, nil
	}
	if n.InShift != nil {
		n.Conv.FoldInputShift(n.InShift)
		n.InShift = []float64{}
	}
	for _, x := range n.From[1:] {
		switch {
		case x.Op == spec.BN && n.Linear != nil:
			n.Linear.FoldBN(x.BN)
		case x.Op == spec.BN:
			n.Conv.FoldBN(x.BN)
		case n.Linear != nil: // a scale
			n.Linear.FoldScale(x.Affine.Scale)
		default:
			n.Conv.FoldScale(x.Affine.Scale)
		}
	}
	if n.PermuteIn != nil {
		permuteIn(n.Conv, n.PermuteIn)
	}
	if round {
		roundParams(n)
	}
}

// Shares reports whether materialized fused node n computes what its
// training-form node does, with that node's own parameters (an op
// without weights, or whose weights rounding leaves as they are), from
// inputs of the same values: a gather, folded or composed, does not.
func Shares(n *graph.Node) bool {
	src := n.From[0]
	return len(n.From) == 1 && src.Row().Fold == nil && src.Op != spec.BN &&
		n.Gather == nil && n.PermuteIn == nil && n.SameParams(src)
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

// grnShifts finds the GRNs whose beta folds into the convolution that
// reads them: its only reader, not the output, a plain convolution (the
// fused node of a block is made from its own weights only) without
// padding, whose every tap reads a shifted value. It maps the reader to
// the GRN.
func grnShifts(g *graph.Graph, readers map[*graph.Node]int) map[*graph.Node]*graph.Node {
	out := map[*graph.Node]*graph.Node{}
	for _, r := range g.Nodes {
		if r.Op != spec.Conv || len(r.Inputs) != 1 || r.Conv.PadH != 0 || r.Conv.PadW != 0 {
			continue
		}
		if n := r.Inputs[0]; n.Op == spec.GRN && n.GRN.Beta != nil && readers[n] == 1 && n != g.Output {
			out[r] = n
		}
	}
	return out
}

// foldTarget returns the fused convolution or linear layer (a
// BatchNorm1d's) a BN or a scale can fold into: the node's input is one
// that nothing else reads (nor is the output), and that node itself
// became the convolution. A gather that fusion found to be the identity
// (a channel shuffle of one group) passes its input's fused node on; that
// node's own readers and the output are not this BN's to change (FuzzFuse
// found a conv, the output, folding a BN that read it through such a
// shuffle).
func foldTarget(bn *graph.Node, readers map[*graph.Node]int, replaced map[*graph.Node]*graph.Node, output *graph.Node) *graph.Node {
	if len(bn.Inputs) != 1 {
		return nil
	}
	src := bn.Inputs[0]
	if readers[src] != 1 || src == output {
		return nil
	}
	prev := replaced[src]
	if prev == nil || prev.Op != spec.Conv && prev.Op != spec.Linear || !slices.Contains(prev.From, src) {
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
