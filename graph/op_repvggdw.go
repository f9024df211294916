package graph

import "github.com/acgen/acgen/spec"

var repVGGDWRow = sumRow(spec.RepVGGDW, (*builder).repVGGDW, "RepVGGDW",
	"RepViT's RepVGGDW: a depthwise 3x3 conv + BN, a depthwise 1x1 conv and the identity, summed, then a BatchNorm")

// repVGGDW binds RepViT's RepVGGDW's keys (THU-MIG/RepViT model/repvit.py):
// conv.c and conv.bn (its Conv2d_BN: depthwise 3x3, padded 1), conv1 (a
// depthwise 1x1 convolution with its bias), the input itself, and the BN
// after the sum (bn). It keeps the input's shape.
func (b *builder) repVGGDW(n *Node, ins []Shape) error {
	in, l := ins[0], n.Layer
	c := in.C
	dw := Conv{Out: c, KH: 3, KW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1, DilH: 1, DilW: 1, Groups: c}
	one := Conv{Out: c, KH: 1, KW: 1, StrideH: 1, StrideW: 1, DilH: 1, DilW: 1, Groups: c}
	sb := b.sum(n, in, "op")
	sb.branch("conv")
	sb.conv("conv.c", dw, true)
	sb.bn("conv.bn", l.Eps)
	sb.branch("conv1")
	sb.conv("conv1", one, true)
	sb.branch("the identity")
	if err := sb.finish(); err != nil {
		return err
	}
	sb.post("bn", l.Eps)
	return sb.w.err()
}
