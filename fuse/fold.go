package fuse

import (
	"github.com/acgen/acgen/graph"
)

// FoldACBlock returns the one convolution equal to an ACBlock in eval
// mode, in float64.
func FoldACBlock(ac *graph.ACBlock) *graph.Conv {
	sq := foldedCopy(&ac.Square, &ac.SquareBN)
	hor := foldedCopy(&ac.Hor, &ac.HorBN)
	ver := foldedCopy(&ac.Ver, &ac.VerBN)
	k := sq.KH
	perOut := len(sq.Weight) / sq.Out // (in/groups)*k*k
	taps := perOut / (k * k)          // in/groups
	for o := 0; o < sq.Out; o++ {
		for i := 0; i < taps; i++ {
			base := (o*taps + i) * k * k
			hv := (o*taps + i) * k // 1xK and Kx1 kernels hold k taps each
			for j := 0; j < k; j++ {
				sq.Weight[base+(k/2)*k+j] += hor.Weight[hv+j] // centre row
				sq.Weight[base+j*k+k/2] += ver.Weight[hv+j]   // centre column
			}
		}
		sq.Bias[o] += hor.Bias[o] + ver.Bias[o]
	}
	return sq
}

// FoldRepVGG folds a RepVGG block into one KxK convolution (the DBB
// paper's transforms I, II and VI): each branch's BN into its conv, the
// 1x1 kernel into the KxK centre tap, and the identity branch as a
// kernel with 1 at the centre tap of each output channel's own input
// channel (within its group), scaled by that BN.
func FoldRepVGG(r *graph.RepVGG) *graph.Conv {
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

// FoldDBB folds a Diverse Branch Block into one KxK convolution with the
// DBB paper's transforms: BN folding (I) in every branch, branch addition
// (II), the 1x1-then-KxK sequence merged into one kernel per group (III,
// exact at the borders because the BN-and-pad layer pads with its BN's
// value for 0), average pooling as a convolution (V) and the 1x1 kernel
// placed at the KxK centre (VI).
func FoldDBB(d *graph.DBB) *graph.Conv {
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

// addCentre adds a 1x1 convolution of the same geometry into dst's
// centre tap, and its bias into dst's (transform VI).
func addCentre(dst, one *graph.Conv) {
	k := dst.KH
	taps := dst.In / dst.Groups
	centre := (k/2)*k + k/2
	for o := 0; o < dst.Out; o++ {
		for i := 0; i < taps; i++ {
			dst.Weight[(o*taps+i)*k*k+centre] += one.Weight[o*taps+i]
		}
		dst.Bias[o] += one.Bias[o]
	}
}

// foldedCopy returns conv with bn folded in: W*t and (b-mean)*t+beta.
// The result always has a bias.
func foldedCopy(conv *graph.Conv, bn *graph.BatchNorm) *graph.Conv {
	c := *conv
	c.Weight = append([]float64(nil), conv.Weight...)
	if conv.Bias != nil {
		c.Bias = append([]float64(nil), conv.Bias...)
	} else {
		c.Bias = make([]float64, c.Out)
	}
	FoldBN(&c, bn)
	return &c
}

// FoldBN folds a BatchNorm that reads c's output into c, in place.
func FoldBN(c *graph.Conv, bn *graph.BatchNorm) {
	scale, shift := bn.ScaleShift()
	if c.Bias == nil {
		c.Bias = make([]float64, c.Out)
	}
	per := len(c.Weight) / c.Out
	for o := 0; o < c.Out; o++ {
		w := c.Weight[o*per : (o+1)*per]
		for i := range w {
			w[i] *= scale[o]
		}
		c.Bias[o] = c.Bias[o]*scale[o] + shift[o]
	}
}

// FoldBNLinear folds a BatchNorm1d that follows a linear layer into it,
// exactly as FoldBN does for a convolution: the linear layer's output
// channels are the BN's.
func FoldBNLinear(l *graph.Linear, bn *graph.BatchNorm) {
	scale, shift := bn.ScaleShift()
	if l.Bias == nil {
		l.Bias = make([]float64, l.Out)
	}
	for o := 0; o < l.Out; o++ {
		w := l.Weight[o*l.In : (o+1)*l.In]
		for i := range w {
			w[i] *= scale[o]
		}
		l.Bias[o] = l.Bias[o]*scale[o] + shift[o]
	}
}

// roundParams rounds every parameter of n to float32 precision: the one
// rounding the fused network gets.
func roundParams(n *graph.Node) {
	r := func(s []float64) {
		for i, v := range s {
			s[i] = float64(float32(v))
		}
	}
	switch {
	case n.Conv != nil:
		r(n.Conv.Weight)
		r(n.Conv.Bias)
	case n.Linear != nil:
		r(n.Linear.Weight)
		r(n.Linear.Bias)
	case n.Affine != nil:
		r(n.Affine.Scale)
		r(n.Affine.Shift)
	}
}
