package graph

import (
	"fmt"

	"github.com/acgen/acgen/spec"
)

var mobileOneRow = sumRow(spec.MobileOne, (*builder).mobileOne, "MobileOne",
	"Apple's MobileOneBlock: k KxK convolutions, a 1x1 and an identity, each with a BatchNorm, summed")

// mobileOne binds a MobileOne block's keys, the official MobileOneBlock's
// (apple/ml-mobileone): rbr_skip (a BN) when in and out channels are equal
// and the stride is 1, rbr_conv.i.{conv,bn} for each of its
// num_conv_branches KxK branches, and rbr_scale.{conv,bn}, 1x1 and
// unpadded, when the kernel is larger than 1: in the order its state_dict
// lists them.
func (b *builder) mobileOne(n *Node, ins []Shape) error {
	in, l := ins[0], n.Layer
	dense := geometry(l, in)
	if err := checkConv(n, &dense, in); err != nil {
		return err
	}
	sb := b.sum(n, in, "out")
	if in.C == l.Out && l.Stride.H == 1 {
		sb.branch("rbr_skip")
		sb.bn("rbr_skip", l.Eps)
	}
	for i := 0; i < l.ConvBranches; i++ {
		key := fmt.Sprintf("rbr_conv.%d", i)
		sb.branch(key)
		sb.conv(key+".conv", dense, true)
		sb.bn(key+".bn", l.Eps)
	}
	if l.Kernel.H > 1 {
		scale := dense
		scale.KH, scale.KW, scale.PadH, scale.PadW = 1, 1, 0, 0
		sb.branch("rbr_scale")
		sb.conv("rbr_scale.conv", scale, true)
		sb.bn("rbr_scale.bn", l.Eps)
	}
	if err := sb.finish(); err != nil {
		return err
	}
	return sb.w.err()
}
