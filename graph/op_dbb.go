package graph

import (
	"github.com/acgen/acgen/internal/diag"
	"github.com/acgen/acgen/spec"
)

var dbbRow = &Row{
	Op:      spec.DBB,
	Build:   (*builder).dbb,
	Ref:     func(n *Node, in []Tensor) Tensor { return dbb(in[0], n.DBB) },
	Tensors: func(n *Node) []Param { return n.DBB.tensors() },
	FLOPs: func(n *Node, _ []Shape) float64 {
		d := n.DBB
		f := d.Origin.flops(n.Shape) + d.Second.flops(n.Shape) + 2*float64(d.First.Out)*float64(d.First.In/d.First.Groups)*float64((n.Shape.H+2*d.Pad)*(n.Shape.W+2*d.Pad))
		if d.One != nil {
			f += 2 * d.One.flops(n.Shape)
		}
		return f + float64(d.AvgPool.KH*d.AvgPool.KW)*elementwiseFLOPs(n, nil)
	},
	Fold:   func(n *Node) *Conv { return n.DBB.Fold() },
	Folded: func(n *Node) Conv { return geometryOf(&n.DBB.Origin) },
	FoldedBNs: func(n *Node) int {
		if n.DBB.One != nil {
			return 6 // with dbb_1x1's, and dbb_avg's BN-and-pad
		}
		return 4
	},
	Block: "DBB",
	Doc:   "the Diverse Branch Block: KxK, 1x1, 1x1-average and 1x1-KxK branches with BatchNorms, summed",
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

// dbb binds a Diverse Branch Block's keys, the official block's:
// dbb_origin.{conv,bn}, dbb_1x1.{conv,bn}, dbb_avg.{conv,bn.bn,avgbn}
// (dbb_avg.avgbn alone for a depthwise block), dbb_1x1_kxk.{idconv1 or
// conv1, bn1.bn, conv2, bn2}.
func (b *builder) dbb(n *Node, ins []Shape) error {
	in, l := ins[0], n.Layer
	origin := geometry(l, in)
	if err := checkConv(n, &origin, in); err != nil {
		return err
	}
	g, k := origin.Groups, origin.KH
	depthwise := g >= origin.Out
	if depthwise && (in.C != origin.Out || g != in.C) {
		return diag.Tag(l.FieldErrorf("groups", "groups %d >= out %d makes a depthwise DBB, which needs in = out = groups (the input has %d channels)", g, origin.Out, in.C), ErrShape)
	}
	internal := l.Internal
	if internal == 0 {
		internal = in.C
		if depthwise {
			internal = 2 * in.C
		}
	}
	if internal%g != 0 {
		return diag.Tag(l.FieldErrorf("internal", "internal %d is not a multiple of groups %d", internal, g), ErrShape)
	}
	one := func(out, stride int) Conv {
		return Conv{In: in.C, Out: out, KH: 1, KW: 1, StrideH: stride, StrideW: stride, DilH: 1, DilW: 1, Groups: g}
	}
	d := &DBB{Origin: origin, Pad: origin.PadH}
	d.First = one(internal, 1)
	d.Second = Conv{In: internal, Out: origin.Out, KH: k, KW: k, StrideH: origin.StrideH, StrideW: origin.StrideW, DilH: 1, DilW: 1, Groups: g}
	w := b.weights(l, "")
	eps := l.Eps
	d.Origin.Weight = w.tensor("dbb_origin.conv.weight", origin.WeightShape())
	d.OriginBN = w.batchNorm("dbb_origin.bn.", origin.Out, eps)
	d.AvgPool = Pool{KH: k, KW: k, StrideH: origin.StrideH, StrideW: origin.StrideH, PadH: origin.PadH, PadW: origin.PadH, DilH: 1, DilW: 1, CountPad: true}
	if !depthwise {
		c := one(origin.Out, origin.StrideH)
		d.One = &c
		d.One.Weight = w.tensor("dbb_1x1.conv.weight", c.WeightShape())
		d.OneBN = w.batchNorm("dbb_1x1.bn.", origin.Out, eps)
		a := one(origin.Out, 1)
		d.AvgConv = &a
		d.AvgConv.Weight = w.tensor("dbb_avg.conv.weight", a.WeightShape())
		d.AvgPadBN = w.batchNorm("dbb_avg.bn.bn.", origin.Out, eps)
		d.AvgPool.PadH, d.AvgPool.PadW = 0, 0 // the BN-and-pad padded already
	}
	d.AvgBN = w.batchNorm("dbb_avg.avgbn.", origin.Out, eps)
	if internal == in.C {
		// IdentityBasedConv1x1: the kernel is its weight plus the identity,
		// 1 at [i][i % (in/groups)].
		d.First.Weight = w.tensor("dbb_1x1_kxk.idconv1.weight", d.First.WeightShape())
		if len(d.First.Weight) > 0 {
			d.First.Weight = append([]float64(nil), d.First.Weight...) // the checkpoint's stays as read
			per := in.C / g
			for i := 0; i < in.C; i++ {
				d.First.Weight[i*per+i%per]++
			}
		}
	} else {
		d.First.Weight = w.tensor("dbb_1x1_kxk.conv1.weight", d.First.WeightShape())
	}
	d.FirstBN = w.batchNorm("dbb_1x1_kxk.bn1.bn.", internal, eps)
	d.Second.Weight = w.tensor("dbb_1x1_kxk.conv2.weight", d.Second.WeightShape())
	d.SecondBN = w.batchNorm("dbb_1x1_kxk.bn2.", origin.Out, eps)
	n.DBB = d
	return w.err()
}

// dbb runs a Diverse Branch Block as trained, its branches summed.
func dbb(x Tensor, d *DBB) Tensor {
	branches := []Tensor{batchNorm(conv(x, &d.Origin), &d.OriginBN)}
	if d.One != nil {
		branches = append(branches, batchNorm(conv(x, d.One), &d.OneBN))
	}
	avgIn := x
	if d.AvgConv != nil {
		avgIn = bnAndPad(conv(x, d.AvgConv), &d.AvgPadBN, d.Pad)
	}
	branches = append(branches, batchNorm(avgPool(avgIn, &d.AvgPool), &d.AvgBN))
	mid := bnAndPad(conv(x, &d.First), &d.FirstBN, d.Pad)
	branches = append(branches, batchNorm(conv(mid, &d.Second), &d.SecondBN))
	return add(branches)
}

// bnAndPad is the official BNAndPadLayer: the BN, then p pixels of
// padding on every side holding each channel's BN of 0 (its shift), so
// that a KxK convolution after it sees what it would see had the padding
// come before the 1x1 convolution and BN.
func bnAndPad(x Tensor, bn *BatchNorm, p int) Tensor {
	y := batchNorm(x, bn)
	_, shift := bn.ScaleShift()
	out := NewTensor(Shape{C: y.C, H: y.H + 2*p, W: y.W + 2*p})
	for c := 0; c < out.C; c++ {
		for yy := 0; yy < out.H; yy++ {
			for xx := 0; xx < out.W; xx++ {
				v := shift[c]
				if yy >= p && yy < p+y.H && xx >= p && xx < p+y.W {
					v = y.at(c, yy-p, xx-p)
				}
				out.Data[(c*out.H+yy)*out.W+xx] = v
			}
		}
	}
	return out
}

// Fold folds the block into one KxK convolution with the
// DBB paper's transforms: BN folding (I) in every branch, branch addition
// (II), the 1x1-then-KxK sequence merged into one kernel per group (III,
// exact at the borders because the BN-and-pad layer pads with its BN's
// value for 0), average pooling as a convolution (V) and the 1x1 kernel
// placed at the KxK centre (VI).
func (d *DBB) Fold() *Conv {
	out := foldedCopy(&d.Origin, &d.OriginBN)
	k, g := out.KH, out.Groups
	taps := out.In / g // input channels per group
	kk := k * k
	at := func(o, i, t int) *float64 { return &out.Weight[(o*taps+i)*kk+t] }
	if d.One != nil {
		addCentre(out, foldedCopy(d.One, &d.OneBN))
	}
	// The average branch: the pool is a KxK kernel of 1/K^2 on each
	// channel (V), after the 1x1 conv and BN-and-pad when there are some
	// (III: every tap of output o gets that conv's row o over K^2, and its
	// bias passes through the average unchanged), then the last BN (I).
	scale, shift := d.AvgBN.ScaleShift()
	inv := 1 / float64(kk)
	if d.AvgConv != nil {
		first := foldedCopy(d.AvgConv, &d.AvgPadBN)
		for o := 0; o < out.Out; o++ {
			for i := 0; i < taps; i++ {
				for t := 0; t < kk; t++ {
					*at(o, i, t) += scale[o] * first.Weight[o*taps+i] * inv
				}
			}
			out.Bias[o] += scale[o]*first.Bias[o] + shift[o]
		}
	} else { // depthwise: each channel's own average
		for o := 0; o < out.Out; o++ {
			for t := 0; t < kk; t++ {
				*at(o, o%taps, t) += scale[o] * inv
			}
			out.Bias[o] += shift[o]
		}
	}
	// The 1x1-KxK branch (III), per group: internal channels m of o's
	// group, W[o][i] = sum_m second[o][m] * first[m][i], and the first's
	// bias through the second's kernel.
	first := foldedCopy(&d.First, &d.FirstBN)
	second := foldedCopy(&d.Second, &d.SecondBN)
	mid := d.First.Out / g // internal channels per group
	outPer := out.Out / g
	for o := 0; o < out.Out; o++ {
		grp := o / outPer
		for m := 0; m < mid; m++ {
			mc := grp*mid + m
			for t := 0; t < kk; t++ {
				w2 := second.Weight[(o*mid+m)*kk+t]
				for i := 0; i < taps; i++ {
					*at(o, i, t) += w2 * first.Weight[mc*taps+i]
				}
				out.Bias[o] += w2 * first.Bias[mc]
			}
		}
		out.Bias[o] += second.Bias[o]
	}
	return out
}

// tensors lists the block's tensors under the official block's keys. The
// 1x1-KxK branch's first kernel is listed with the identity the block
// adds to it (IdentityBasedConv1x1), as the node holds it.
func (d *DBB) tensors() []Param {
	ps := d.Origin.tensors("dbb_origin.conv.")
	ps = append(ps, d.OriginBN.tensors("dbb_origin.bn.")...)
	if d.One != nil {
		ps = append(ps, d.One.tensors("dbb_1x1.conv.")...)
		ps = append(ps, d.OneBN.tensors("dbb_1x1.bn.")...)
		ps = append(ps, d.AvgConv.tensors("dbb_avg.conv.")...)
		ps = append(ps, d.AvgPadBN.tensors("dbb_avg.bn.bn.")...)
	}
	ps = append(ps, d.AvgBN.tensors("dbb_avg.avgbn.")...)
	first := "dbb_1x1_kxk.conv1."
	if d.First.Out == d.First.In {
		first = "dbb_1x1_kxk.idconv1."
	}
	ps = append(ps, d.First.tensors(first)...)
	ps = append(ps, d.FirstBN.tensors("dbb_1x1_kxk.bn1.bn.")...)
	ps = append(ps, d.Second.tensors("dbb_1x1_kxk.conv2.")...)
	return append(ps, d.SecondBN.tensors("dbb_1x1_kxk.bn2.")...)
}
