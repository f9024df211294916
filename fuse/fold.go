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
