package graph

import (
	"github.com/acgen/acgen/internal/diag"
	"github.com/acgen/acgen/spec"
)

var repvggRow = &Row{
	Op:    spec.RepVGG,
	Build: (*builder).repvgg,
	Ref:   func(n *Node, in []Tensor) Tensor { return repvgg(in[0], n.Rep) },
	Tensors: func(n *Node) []Param {
		r := n.Rep
		var ps []Param
		for _, br := range r.branches() {
			ps = append(ps, br.conv.tensors(br.name+".conv.")...)
			ps = append(ps, br.bn.tensors(br.name+".bn.")...)
		}
		if r.Identity != nil {
			ps = append(ps, r.Identity.tensors("rbr_identity.")...)
		}
		return ps
	},
	FLOPs: func(n *Node, _ []Shape) float64 {
		return n.Rep.Dense.flops(n.Shape) + n.Rep.One.flops(n.Shape) + 4*elementwiseFLOPs(n, nil)
	},
	Fold:   func(n *Node) *Conv { return n.Rep.Fold() },
	Folded: func(n *Node) Conv { return geometryOf(&n.Rep.Dense) },
	FoldedBNs: func(n *Node) int {
		if n.Rep.Identity != nil {
			return 3
		}
		return 2
	},
	Block: "RepVGG",
	Doc:   "RepVGG's block: KxK and 1x1 convolutions with BatchNorms and an identity BatchNorm, summed",
}

// RepVGG is a RepVGG block's training form (see spec.RepVGG): KxK and
// 1x1 convolutions with their BNs, and the identity branch's BN (nil when
// the block has none), summed.
type RepVGG struct {
	Dense, One     Conv
	DenseBN, OneBN BatchNorm
	Identity       *BatchNorm
}

func (r *RepVGG) branches() []branch {
	return []branch{{"rbr_dense", &r.Dense, &r.DenseBN}, {"rbr_1x1", &r.One, &r.OneBN}}
}

// repvgg binds a RepVGG block's keys, the official RepVGGBlock's:
// rbr_dense.{conv,bn}, rbr_1x1.{conv,bn}, and rbr_identity (a BN) when in
// and out channels are equal and the stride is 1.
func (b *builder) repvgg(n *Node, ins []Shape) error {
	in := ins[0]
	dense := geometry(n.Layer, in)
	if err := checkConv(n, &dense, in); err != nil {
		return err
	}
	r := &RepVGG{Dense: dense, One: dense}
	r.One.KH, r.One.KW = 1, 1
	r.One.PadH, r.One.PadW = dense.PadH-dense.KH/2, dense.PadW-dense.KW/2
	w := b.weights(n.Layer, "")
	for _, br := range r.branches() {
		br.conv.Weight = w.tensor(br.name+".conv.weight", br.conv.WeightShape())
		br.conv.Bias = w.optional(br.name+".conv.bias", []int{dense.Out})
		*br.bn = w.batchNorm(br.name+".bn.", dense.Out, n.Layer.Eps)
	}
	if in.C == dense.Out && dense.StrideH == 1 && dense.StrideW == 1 {
		if dense.PadH != dense.KH/2 {
			return diag.Tag(n.Layer.FieldErrorf("padding", "padding %d with an identity branch (in and out channels equal, stride 1): the identity keeps the input's size only with padding = kernel/2 (%d), so the official block cannot run this either", dense.PadH, dense.KH/2), ErrShape)
		}
		id := w.batchNorm("rbr_identity.", in.C, n.Layer.Eps)
		r.Identity = &id
	}
	n.Rep = r
	return w.err()
}

// repvgg runs a RepVGG block as trained: its three branches, summed.
func repvgg(x Tensor, r *RepVGG) Tensor {
	branches := []Tensor{
		batchNorm(conv(x, &r.Dense), &r.DenseBN),
		batchNorm(conv(x, &r.One), &r.OneBN),
	}
	if r.Identity != nil {
		branches = append(branches, batchNorm(x, r.Identity))
	}
	return add(branches)
}

// Fold folds the block into one KxK convolution (the DBB paper's
// transforms I, II and VI): each branch's BN into its conv, the 1x1
// kernel into the KxK centre tap, and the identity branch as a kernel
// with 1 at the centre tap of each output channel's own input channel
// (within its group), scaled by that BN.
func (r *RepVGG) Fold() *Conv {
	dense := foldedCopy(&r.Dense, &r.DenseBN)
	addCentre(dense, foldedCopy(&r.One, &r.OneBN))
	k := dense.KH
	taps := dense.In / dense.Groups // input channels per group
	centre := (k/2)*k + k/2
	if r.Identity != nil {
		scale, shift := r.Identity.ScaleShift()
		for o := 0; o < dense.Out; o++ {
			dense.Weight[(o*taps+o%taps)*k*k+centre] += scale[o]
			dense.Bias[o] += shift[o]
		}
	}
	return dense
}
