package graph

import (
	"fmt"
	"math"

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
}

// Node is one operation. Exactly one of the parameter fields is set for
// ops that have parameters.
type Node struct {
	Name   string  // unique within the graph
	Op     spec.Op // the vocabulary of the spec; fusion removes ACBlock and most BN
	Inputs []*Node // nil: the network input
	Shape  Shape   // of the output

	Layer *spec.Layer // the spec entry it came from, for positions in messages

	Conv   *Conv      // spec.Conv
	AC     *ACBlock   // spec.ACBlock
	Rep    *RepVGG    // spec.RepVGG
	DBB    *DBB       // spec.DBB
	BN     *BatchNorm // spec.BN
	Linear *Linear    // spec.Linear
	Pool   *Pool      // spec.MaxPool, spec.AvgPool
	Affine *Affine    // OpAffine
	Param  float64    // an activation's parameter (LeakyReLU's slope), see package act
}

// Affine is the op a BatchNorm becomes when it cannot fold into a
// convolution: y = x*Scale[c] + Shift[c]. Specs do not name it; only
// fused graphs hold it.
const OpAffine spec.Op = "affine"

func (n *Node) String() string { return fmt.Sprintf("%s(%s)", n.Op, n.Name) }

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

// Conv is a 2-D convolution with zero padding, PyTorch's nn.Conv2d.
type Conv struct {
	In, Out          int // channels
	KH, KW           int
	StrideH, StrideW int
	PadH, PadW       int // zeros added on each side
	DilH, DilW       int
	Groups           int
	Weight           []float64 // [Out][In/Groups][KH][KW]
	Bias             []float64 // len Out, or nil
}

// OutSize is the output height and width for an input of h x w.
func (c *Conv) OutSize(h, w int) (int, int) {
	return convOut(h, c.KH, c.StrideH, c.PadH, c.DilH), convOut(w, c.KW, c.StrideW, c.PadW, c.DilW)
}

func convOut(in, k, stride, pad, dil int) int {
	span := in + 2*pad - dil*(k-1) - 1
	if span < 0 {
		return 0
	}
	return span/stride + 1
}

// WeightShape is the PyTorch shape of the weight.
func (c *Conv) WeightShape() []int { return []int{c.Out, c.In / c.Groups, c.KH, c.KW} }

// BatchNorm is nn.BatchNorm2d in eval mode: y = (x-mean)/sqrt(var+eps)*gamma + beta.
type BatchNorm struct {
	C           int
	Gamma, Beta []float64 // nil when the BN was not affine (gamma 1, beta 0)
	Mean, Var   []float64
	Eps         float64
}

// ScaleShift returns t and u with y = x*t + u, per channel, in float64.
func (bn *BatchNorm) ScaleShift() (scale, shift []float64) {
	scale = make([]float64, bn.C)
	shift = make([]float64, bn.C)
	for c := range scale {
		t := 1 / math.Sqrt(bn.Var[c]+bn.Eps)
		if bn.Gamma != nil {
			t *= bn.Gamma[c]
		}
		scale[c] = t
		shift[c] = -bn.Mean[c] * t
		if bn.Beta != nil {
			shift[c] += bn.Beta[c]
		}
	}
	return scale, shift
}

// Affine is a per-channel scale and shift.
type Affine struct {
	Scale, Shift []float64
}

// ACBlock is ACNet's asymmetric convolution block in training form: the
// sum of a KxK, a 1xK (Hor) and a Kx1 (Ver) convolution, each followed by
// its own BatchNorm. Hor and Ver carry the official block's asymmetric
// padding; when padding < K/2 they read the input cropped by Crop rows
// (Hor) or columns (Ver) on each side.
// RepVGG is a RepVGG block's training form (see spec.RepVGG): KxK and
// 1x1 convolutions with their BNs, and the identity branch's BN (nil when
// the block has none), summed.
type RepVGG struct {
	Dense, One     Conv
	DenseBN, OneBN BatchNorm
	Identity       *BatchNorm
}

// DBB is a Diverse Branch Block's training form (see spec.DBB), its
// branches as the official block runs them. The 1x1-KxK branch's first
// convolution holds the identity already when the block is built on one
// (IdentityBasedConv1x1: the checkpoint's weight plus the identity).
type DBB struct {
	Origin   Conv
	OriginBN BatchNorm
	One      *Conv // nil for a depthwise block (groups >= out)
	OneBN    BatchNorm
	AvgConv  *Conv     // nil for a depthwise block: the pool reads the input
	AvgPadBN BatchNorm // the BN-and-pad after AvgConv
	AvgPool  Pool      // KxK, the block's stride, padding 0 after AvgConv, else the block's
	AvgBN    BatchNorm
	First    Conv // 1x1, in -> internal
	FirstBN  BatchNorm
	Second   Conv // KxK, internal -> out, the block's stride, padding 0
	SecondBN BatchNorm
	Pad      int // the block's padding, kernel/2: the BN-and-pad layers' too
}

type ACBlock struct {
	Square, Hor, Ver       Conv
	SquareBN, HorBN, VerBN BatchNorm
	Crop                   int
}

// Linear is nn.Linear on the input flattened in C,H,W order.
type Linear struct {
	In, Out int
	Weight  []float64 // [Out][In]
	Bias    []float64 // len Out, or nil
}

// Pool is a max or average pooling window. Average pooling counts padded
// zeros, like PyTorch's default count_include_pad=True.
type Pool struct {
	K, Stride, Pad int
}

// OutSize is the output height and width for an input of h x w.
func (p *Pool) OutSize(h, w int) (int, int) {
	return convOut(h, p.K, p.Stride, p.Pad, 1), convOut(w, p.K, p.Stride, p.Pad, 1)
}
