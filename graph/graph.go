package graph

import (
	"fmt"

	"github.com/acgen/acgen/checkpoint"
	"github.com/acgen/acgen/spec"
)

// Shape is the shape of one sample's activation: C channels of H x W.
// Flattened and linear outputs are C x 1 x 1.
type Shape struct{ C, H, W int }

// Len is the number of values in an activation of this shape.
func (s Shape) Len() int { return s.C * s.H * s.W }

func (s Shape) String() string { return fmt.Sprintf("%dx%dx%d", s.C, s.H, s.W) }

// Graph is a network in topological order.
type Graph struct {
	Name   string // the spec's name, may be empty
	Input  Shape
	Nodes  []*Node // in execution order; inputs come before readers
	Output *Node
	Spec   *spec.Net // where the graph came from, for messages

	ck   *checkpoint.File // where Bind reads a lazy graph's weights
	lazy bool             // built with Options.Lazy
}

// Node is one operation. Exactly one of the parameter fields is set for
// ops that have parameters.
type Node struct {
	Name   string  // unique within the graph
	Op     spec.Op // the vocabulary of the spec; fusion removes ACBlock and most BN
	Inputs []*Node // nil: the network input
	Shape  Shape   // of the output

	Layer *spec.Layer // the spec entry it came from, for positions in messages
	Port  int         // which output of its layer it is (a split's i), 0 for most

	// From are, in a fused graph, the training-form nodes the node
	// computes: the block or layer it comes from, then the BatchNorms
	// and scales folded into it (see package fuse).
	From []*Node
	// PermuteIn, in a fused graph, is the channel gather a convolution
	// absorbed: its weights for input channel j move to channel
	// PermuteIn[j] (see package fuse).
	PermuteIn []int
	// ShiftTo, in a fused graph, is the convolution a GRN's beta folds
	// into: the one reader of the GRN, without padding, whose bias takes
	// the weights times beta (InShift). Materializing the GRN hands its
	// beta over and drops it; materializing the convolution folds it.
	ShiftTo *Node
	InShift []float64

	Conv   *Conv      // spec.Conv
	AC     *ACBlock   // spec.ACBlock
	Rep    *RepVGG    // spec.RepVGG
	DBB    *DBB       // spec.DBB
	Sum    *LinearSum // the blocks after RepVGG and spec.LinearSum (linearsum.go)
	BN     *BatchNorm // spec.BN
	Linear *Linear    // spec.Linear
	Pool   *Pool      // spec.MaxPool, spec.AvgPool
	Affine *Affine    // OpAffine
	Gather *Gather    // spec.Split, spec.ChannelShuffle
	Norm   *LayerNorm // spec.LayerNorm
	GRN    *GRN       // spec.GRN
	Param  float64    // an activation's parameter (LeakyReLU's slope), see package act
}

func (n *Node) String() string { return fmt.Sprintf("%s(%s)", n.Op, n.Name) }

// Clone is a copy of n that shares no parameter with it: changing the
// copy's weights leaves n's as they were. Its inputs are n's nodes.
func (n *Node) Clone() *Node {
	m := n.copyParams()
	for _, p := range m.Tensors() {
		if *p.Data != nil {
			*p.Data = append([]float64(nil), *p.Data...)
		}
	}
	return m
}

// Geometry is a copy of n with its parameters' shapes and none of their
// values: every tensor n holds is unloaded (see Options.Lazy).
func (n *Node) Geometry() *Node {
	m := n.copyParams()
	for _, p := range m.Tensors() {
		*p.Data = unloaded
	}
	return m
}

// TakeParams makes n compute with src's parameters (the structs
// themselves, not copies): every parameter field but the structural
// ones (Gather, Pool, Param).
func (n *Node) TakeParams(src *Node) {
	n.Conv, n.AC, n.Rep, n.DBB, n.BN, n.Linear, n.Affine, n.Norm, n.GRN = src.Conv, src.AC, src.Rep, src.DBB, src.BN, src.Linear, src.Affine, src.Norm, src.GRN
}

// SameParams reports whether n and m hold the very same parameter structs.
func (n *Node) SameParams(m *Node) bool {
	return n.Conv == m.Conv && n.AC == m.AC && n.Rep == m.Rep && n.DBB == m.DBB && n.BN == m.BN &&
		n.Linear == m.Linear && n.Affine == m.Affine && n.Norm == m.Norm && n.GRN == m.GRN
}

// copyParams is a copy of n whose parameter structs are its own and whose
// tensors are still n's.
func (n *Node) copyParams() *Node {
	m := *n
	m.Inputs = append([]*Node(nil), n.Inputs...)
	// Every parameter field, so that the tensors below are the copy's.
	m.Conv = clonePtr(n.Conv)
	m.AC = clonePtr(n.AC)
	m.Rep = clonePtr(n.Rep)
	if n.Rep != nil && n.Rep.Identity != nil {
		m.Rep.Identity = clonePtr(n.Rep.Identity)
	}
	m.DBB = clonePtr(n.DBB)
	if n.DBB != nil {
		m.DBB.One, m.DBB.AvgConv = clonePtr(n.DBB.One), clonePtr(n.DBB.AvgConv)
	}
	m.Sum = n.Sum.clone()
	m.BN = clonePtr(n.BN)
	m.Linear = clonePtr(n.Linear)
	m.Pool = clonePtr(n.Pool)
	m.Affine = clonePtr(n.Affine)
	m.Norm = clonePtr(n.Norm)
	m.GRN = clonePtr(n.GRN)
	if n.Gather != nil {
		m.Gather = &Gather{Channels: append([]int(nil), n.Gather.Channels...)}
	}
	return &m
}

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	c := *p
	return &c
}

// InputShapes returns the shapes the node reads.
func (g *Graph) InputShapes(n *Node) []Shape {
	if len(n.Inputs) == 0 {
		return []Shape{g.Input}
	}
	s := make([]Shape, len(n.Inputs))
	for i, in := range n.Inputs {
		s[i] = in.Shape
	}
	return s
}

// Readers counts, for each node, how many inputs of other nodes name it,
// plus one for the graph output.
func (g *Graph) Readers() map[*Node]int {
	r := map[*Node]int{g.Output: 1}
	for _, n := range g.Nodes {
		for _, in := range n.Inputs {
			r[in]++
		}
	}
	return r
}
