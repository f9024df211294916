package graph

import "github.com/acgen/acgen/spec"

var qaRepVGGRow = sumRow(spec.QARepVGG, (*builder).qaRepVGG, "QARepVGG",
	"YOLOv6's QARepVGGBlock (V2: with an average pool): KxK conv + BN, a 1x1 conv and the identity, summed, then a BatchNorm")

// qaRepVGG binds a QARepVGG block's keys, YOLOv6's QARepVGGBlock's and
// QARepVGGBlockV2's (meituan/YOLOv6 yolov6/layers/common.py):
// rbr_dense.{conv,bn}, rbr_1x1 (a bare 1x1 convolution, unpadded) and the
// BN after the sum (bn). When in and out channels are equal and the
// stride is 1 the input itself is a branch (rbr_identity, an
// nn.Identity), and version 2 adds its KxK average pool (rbr_avg, the
// block's stride and padding, counting the padding).
func (b *builder) qaRepVGG(n *Node, ins []Shape) error {
	in, l := ins[0], n.Layer
	dense := geometry(l, in)
	if err := checkConv(n, &dense, in); err != nil {
		return err
	}
	sb := b.sum(n, in, "out")
	sb.branch("rbr_dense")
	sb.conv("rbr_dense.conv", dense, true)
	sb.bn("rbr_dense.bn", l.Eps)
	one := dense
	one.KH, one.KW, one.PadH, one.PadW = 1, 1, 0, 0
	sb.branch("rbr_1x1")
	sb.conv("rbr_1x1", one, true)
	if in.C == l.Out && l.Stride.H == 1 {
		sb.branch("rbr_identity")
		if l.Version == 2 {
			sb.branch("rbr_avg")
			sb.avgPool(l.Kernel.H, l.Stride.H, l.Padding.H)
		}
	}
	if err := sb.finish(); err != nil {
		return err
	}
	sb.post("bn", l.Eps)
	return sb.w.err()
}
