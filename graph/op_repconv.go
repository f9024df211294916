package graph

import (
	"github.com/acgen/acgen/internal/diag"
	"github.com/acgen/acgen/spec"
)

var repConvRow = sumRow(spec.RepConv, (*builder).repConv, "RepConv",
	"the YOLO families' RepConv: KxK and 1x1 convolutions with BatchNorms and an optional identity BatchNorm, summed")

// repConv binds RepConv's keys (ultralytics nn/modules/conv.py): conv1
// and conv2, each a Conv (conv, bn; the 1x1 padded p-K/2), and with
// identity 1 the identity branch's BN (bn), which RepConv has when built
// with bn=True on equal in and out channels and stride 1.
func (b *builder) repConv(n *Node, ins []Shape) error {
	in, l := ins[0], n.Layer
	dense := geometry(l, in)
	if err := checkConv(n, &dense, in); err != nil {
		return err
	}
	if l.Identity == 1 && (in.C != l.Out || l.Stride.H != 1) {
		return diag.Tag(l.FieldErrorf("identity", "identity 1 with %d input channels, out %d and stride %d: RepConv has its identity BatchNorm only for equal channels and stride 1", in.C, l.Out, l.Stride.H), ErrShape)
	}
	sb := b.sum(n, in, "out")
	if l.Identity == 1 {
		sb.branch("bn")
		sb.bn("bn", l.Eps)
	}
	sb.branch("conv1")
	sb.conv("conv1.conv", dense, true)
	sb.bn("conv1.bn", l.Eps)
	one := dense
	one.KH, one.KW = 1, 1
	one.PadH, one.PadW = dense.PadH-dense.KH/2, dense.PadW-dense.KW/2
	sb.branch("conv2")
	sb.conv("conv2.conv", one, true)
	sb.bn("conv2.bn", l.Eps)
	if err := sb.finish(); err != nil {
		return err
	}
	return sb.w.err()
}
