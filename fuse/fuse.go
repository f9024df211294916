package fuse

import (
	"github.com/acgen/acgen/graph"
	"github.com/acgen/acgen/spec"
)

// Report says what Fuse did.
type Report struct {
	ACBlocks    int // ACBlocks turned into one convolution each
	RepBlocks   int // RepVGG and DBB blocks turned into one convolution each
	RepBNs      int // the BatchNorms inside them
	FoldedBNs   int // standalone BatchNorms folded into a convolution
	ParamsIn    int // learnable parameters (as PyTorch counts them) before
	ParamsOut   int // and after
	KeptBNs     []string
	NodesBefore int
	NodesAfter  int
}

// BatchNorms is how many BatchNorms fusion folded: those inside ACBlocks
// (three each) and RepVGG and DBB blocks, and the standalone ones.
func (r Report) BatchNorms() int { return r.FoldedBNs + 3*r.ACBlocks + r.RepBNs }

// Fuse returns the inference form of g. g is not modified.
func Fuse(g *graph.Graph) (*graph.Graph, Report) { return fuse(g, true) }

// fuse is Fuse; with round false it leaves the parameters in float64, so
// that tests can tell a mistake of fusion's from float32's rounding.
func fuse(g *graph.Graph, round bool) (*graph.Graph, Report) {
	rep := Report{ParamsIn: Params(g), NodesBefore: len(g.Nodes)}
	out := &graph.Graph{Name: g.Name, Input: g.Input, Spec: g.Spec}
	// replaced maps each node of g to the node of out that produces its
	// value; a folded BN maps to its (rewritten) convolution.
	replaced := map[*graph.Node]*graph.Node{}
	readers := g.Readers()
	for _, n := range g.Nodes {
		m := &graph.Node{Name: n.Name, Op: n.Op, Shape: n.Shape, Layer: n.Layer, Pool: n.Pool, Param: n.Param}
		for _, in := range n.Inputs {
			m.Inputs = append(m.Inputs, replaced[in])
		}
		switch n.Op {
		case spec.ACBlock:
			m.Op = spec.Conv
			m.Conv = FoldACBlock(n.AC)
			rep.ACBlocks++
		case spec.DBB:
			m.Op = spec.Conv
			m.Conv = FoldDBB(n.DBB)
			rep.RepBlocks++
			rep.RepBNs += 4
			if n.DBB.One != nil {
				rep.RepBNs += 2 // dbb_1x1's, and dbb_avg's BN-and-pad
			}
		case spec.RepVGG:
			m.Op = spec.Conv
			m.Conv = FoldRepVGG(n.Rep)
			rep.RepBlocks++
			rep.RepBNs += 2
			if n.Rep.Identity != nil {
				rep.RepBNs++
			}
		case spec.Conv:
			c := *n.Conv
			c.Weight = clone(c.Weight)
			c.Bias = clone(c.Bias)
			m.Conv = &c
		case spec.Linear:
			l := *n.Linear
			l.Weight = clone(l.Weight)
			l.Bias = clone(l.Bias)
			m.Linear = &l
		case spec.BN:
			if prev := foldTarget(n, readers, replaced); prev != nil {
				if prev.Linear != nil {
					FoldBNLinear(prev.Linear, n.BN)
				} else {
					FoldBN(prev.Conv, n.BN)
				}
				replaced[n] = prev
				rep.FoldedBNs++
				continue
			}
			scale, shift := n.BN.ScaleShift()
			m.Op = graph.OpAffine
			m.Affine = &graph.Affine{Scale: scale, Shift: shift}
			rep.KeptBNs = append(rep.KeptBNs, n.Name)
		}
		replaced[n] = m
		out.Nodes = append(out.Nodes, m)
	}
	out.Output = replaced[g.Output]
	for _, n := range out.Nodes {
		if round {
			roundParams(n)
		}
	}
	rep.ParamsOut = Params(out)
	rep.NodesAfter = len(out.Nodes)
	return out, rep
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
func Params(g *graph.Graph) int {
	n := 0
	conv := func(c *graph.Conv) { n += len(c.Weight) + len(c.Bias) }
	bn := func(b *graph.BatchNorm) { n += len(b.Gamma) + len(b.Beta) }
	for _, node := range g.Nodes {
		switch {
		case node.AC != nil:
			conv(&node.AC.Square)
			conv(&node.AC.Hor)
			conv(&node.AC.Ver)
			bn(&node.AC.SquareBN)
			bn(&node.AC.HorBN)
			bn(&node.AC.VerBN)
		case node.DBB != nil:
			d := node.DBB
			for _, c := range []*graph.Conv{&d.Origin, d.One, d.AvgConv, &d.First, &d.Second} {
				if c != nil {
					conv(c)
				}
			}
			for _, b := range []*graph.BatchNorm{&d.OriginBN, &d.AvgBN, &d.FirstBN, &d.SecondBN} {
				bn(b)
			}
			if d.One != nil {
				bn(&d.OneBN)
				bn(&d.AvgPadBN)
			}
		case node.Rep != nil:
			conv(&node.Rep.Dense)
			conv(&node.Rep.One)
			bn(&node.Rep.DenseBN)
			bn(&node.Rep.OneBN)
			if node.Rep.Identity != nil {
				bn(node.Rep.Identity)
			}
		case node.Conv != nil:
			conv(node.Conv)
		case node.BN != nil:
			bn(node.BN)
		case node.Affine != nil:
			n += len(node.Affine.Scale) + len(node.Affine.Shift)
		case node.Linear != nil:
			n += len(node.Linear.Weight) + len(node.Linear.Bias)
		}
	}
	return n
}

func clone(s []float64) []float64 {
	if s == nil {
		return nil
	}
	return append([]float64(nil), s...)
}
