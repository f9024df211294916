package graph

import "github.com/acgen/acgen/spec"

var acblockRow = &Row{
	Op:    spec.ACBlock,
	Build: (*builder).acblock,
	Ref:   func(n *Node, in []Tensor) Tensor { return acblock(in[0], n.AC) },
	Tensors: func(n *Node) []Param {
		ac := n.AC
		var ps []Param
		for _, br := range ac.branches() {
			ps = append(ps, br.conv.tensors(br.name+"_conv.")...)
			ps = append(ps, br.bn.tensors(br.name+"_bn.")...)
		}
		return ps
	},
	FLOPs: func(n *Node, _ []Shape) float64 {
		ac := n.AC
		return ac.Square.flops(n.Shape) + ac.Hor.flops(n.Shape) + ac.Ver.flops(n.Shape) + 3*elementwiseFLOPs(n, nil)
	},
	Fold:      func(n *Node) *Conv { return n.AC.Fold() },
	Folded:    func(n *Node) Conv { return geometryOf(&n.AC.Square) },
	FoldedBNs: func(*Node) int { return 3 },
	Block:     "ACBlock",
	Doc:       "ACNet's asymmetric convolution block: KxK, 1xK and Kx1 convolutions, each with a BatchNorm, summed",
}

// ACBlock is ACNet's asymmetric convolution block in training form: the
// sum of a KxK, a 1xK (Hor) and a Kx1 (Ver) convolution, each followed by
// its own BatchNorm. Hor and Ver carry the official block's asymmetric
// padding; when padding < K/2 they read the input cropped by Crop rows
// (Hor) or columns (Ver) on each side.
type ACBlock struct {
	Square, Hor, Ver       Conv
	SquareBN, HorBN, VerBN BatchNorm
	Crop                   int
}

type branch struct {
	name string
	conv *Conv
	bn   *BatchNorm
}

// branches are the block's convolutions and BatchNorms under the official
// block's key names, in its state_dict's order.
func (ac *ACBlock) branches() []branch {
	return []branch{{"square", &ac.Square, &ac.SquareBN}, {"ver", &ac.Ver, &ac.VerBN}, {"hor", &ac.Hor, &ac.HorBN}}
}

func (b *builder) acblock(n *Node, in []Shape) error {
	sq := geometry(n.Layer, in[0])
	if err := checkConv(n, &sq, in[0]); err != nil {
		return err
	}
	k, p := sq.KH, sq.PadH
	ac := &ACBlock{Square: sq, Hor: sq, Ver: sq}
	// The official block pads the 1xK branch by [p-K/2, p] and the Kx1 by
	// [p, p-K/2], so both slide along the KxK window's centre row and
	// column; a negative pad there is a crop of the input instead.
	ac.Hor.KH, ac.Ver.KW = 1, 1
	if p >= k/2 {
		ac.Hor.PadH, ac.Ver.PadW = p-k/2, p-k/2
	} else {
		ac.Crop = k/2 - p
		ac.Hor.PadH, ac.Ver.PadW = 0, 0
	}
	w := b.weights(n.Layer, "")
	for _, br := range ac.branches() {
		br.conv.Weight = w.tensor(br.name+"_conv.weight", br.conv.WeightShape())
		br.conv.Bias = w.optional(br.name+"_conv.bias", []int{sq.Out})
		*br.bn = w.batchNorm(br.name+"_bn.", sq.Out, n.Layer.Eps)
	}
	n.AC = ac
	return w.err()
}

// acblock runs an ACBlock in training form, eval mode: the three branches
// as the official ACNet block computes them, summed.
func acblock(x Tensor, ac *ACBlock) Tensor {
	square := batchNorm(conv(x, &ac.Square), &ac.SquareBN)
	horIn, verIn := x, x
	if ac.Crop > 0 {
		// input[:, :, crop:-crop, :] for the 1xK branch and
		// input[:, :, :, crop:-crop] for the Kx1 branch.
		horIn = crop(x, ac.Crop, 0)
		verIn = crop(x, 0, ac.Crop)
	}
	hor := batchNorm(conv(horIn, &ac.Hor), &ac.HorBN)
	ver := batchNorm(conv(verIn, &ac.Ver), &ac.VerBN)
	return add([]Tensor{square, ver, hor})
}

// crop removes dy rows and dx columns from each side.
func crop(x Tensor, dy, dx int) Tensor {
	out := NewTensor(Shape{C: x.C, H: x.H - 2*dy, W: x.W - 2*dx})
	for c := 0; c < out.C; c++ {
		for y := 0; y < out.H; y++ {
			for xx := 0; xx < out.W; xx++ {
				out.Data[(c*out.H+y)*out.W+xx] = x.at(c, y+dy, xx+dx)
			}
		}
	}
	return out
}

// Fold returns the one convolution equal to the block in eval mode, in
// float64: each branch's BatchNorm folded into its convolution, the 1xK
// kernel added into the centre row of the KxK one and the Kx1 kernel into
// its centre column, the biases summed.
func (ac *ACBlock) Fold() *Conv {
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
