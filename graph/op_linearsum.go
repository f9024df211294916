package graph

import (
	"fmt"

	"github.com/acgen/acgen/spec"
)

var linearSumRow = sumRow(spec.LinearSum, (*builder).linearSum, "linear_sum",
	"a sum of branches, each a chain of linear steps of the input (conv, bn, avgpool, pad): one convolution")

// linearSum builds the branches the spec lists (spec.Step), each step's
// keys under the layer's prefix and its own key. A convolution whose
// output a later step of its branch pads reads no bias: the padding
// would hold zeros where its bias is, and the branch would not be one
// convolution; a checkpoint that has one is refused, naming the key.
func (b *builder) linearSum(n *Node, ins []Shape) error {
	in, l := ins[0], n.Layer
	sb := b.sum(n, in, "branches")
	for i, br := range l.Branches {
		sb.branch(fmt.Sprintf("branch %d", i))
		padded := make([]bool, len(br)) // a later step pads
		for j := len(br) - 2; j >= 0; j-- {
			padded[j] = padded[j+1] || br[j+1].Padding > 0
		}
		for j, st := range br {
			sb.pos = &br[j].Pos
			switch st.Op {
			case spec.Conv:
				c := Conv{Out: st.Out, KH: st.Kernel, KW: st.Kernel, StrideH: st.Stride, StrideW: st.Stride,
					PadH: st.Padding, PadW: st.Padding, DilH: st.Dilation, DilW: st.Dilation, Groups: st.Groups}
				if padded[j] && b.ck != nil {
					if _, ok := b.ck.Tensors[sb.w.prefix+st.Key+".bias"]; ok {
						sb.w.fail(sb.w.prefix+st.Key+".bias", "a later step of branch %d pads this convolution's output with zeros where its bias would be, so the branch is not one convolution; fold the bias into the step after the padding", i)
					}
				}
				sb.conv(st.Key, c, !padded[j])
			case spec.BN:
				sb.bn(st.Key, st.Eps)
			case spec.AvgPool:
				sb.avgPool(st.Kernel, st.Stride, st.Padding)
			case spec.Pad:
				sb.pad(st.Padding)
			}
		}
		sb.pos = nil
	}
	if err := sb.finish(); err != nil {
		return err
	}
	return sb.w.err()
}
