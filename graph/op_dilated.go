package graph

import (
	"fmt"

	"github.com/acgen/acgen/spec"
)

var dilatedReparamRow = sumRow(spec.DilatedReparam, (*builder).dilatedReparam, "DilatedReparam",
	"UniRepLKNet's DilatedReparamBlock: a large depthwise kernel and dilated small ones, each with a BatchNorm, summed")

// dilatedReparam binds UniRepLKNet's DilatedReparamBlock's keys
// (AILab-CVC/UniRepLKNet unireplknet.py): lk_origin (depthwise KxK,
// padded K/2) and origin_bn, then for each kernel k and dilation r of
// the layer dil_conv_k{k}_{r} (depthwise, padded (r(k-1)+1)/2, so that
// its window is centred in the large one's) and dil_bn_k{k}_{r}. It keeps
// the input's shape. Folding spreads each dilated kernel over the large
// one, r pixels between taps (merge_dilated_into_large_kernel).
func (b *builder) dilatedReparam(n *Node, ins []Shape) error {
	in, l := ins[0], n.Layer
	c := in.C
	dw := func(k, r int) Conv {
		p := (r*(k-1) + 1) / 2
		return Conv{Out: c, KH: k, KW: k, StrideH: 1, StrideW: 1, PadH: p, PadW: p, DilH: r, DilW: r, Groups: c}
	}
	sb := b.sum(n, in, "kernel")
	sb.branch("lk_origin")
	sb.conv("lk_origin", dw(l.Kernel.H, 1), true)
	sb.bn("origin_bn", l.Eps)
	for i, k := range l.Kernels {
		r := l.Dilations[i]
		sb.branch(fmt.Sprintf("dil_conv_k%d_%d", k, r))
		sb.conv(fmt.Sprintf("dil_conv_k%d_%d", k, r), dw(k, r), true)
		sb.bn(fmt.Sprintf("dil_bn_k%d_%d", k, r), l.Eps)
	}
	if err := sb.finish(); err != nil {
		return err
	}
	return sb.w.err()
}
