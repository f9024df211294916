package graph

import (
	"github.com/acgen/acgen/internal/diag"
	"github.com/acgen/acgen/spec"
)

// splitRow is torch.split along channels: a node per output (Build
// makes one for each size, Port saying which), each taking its range of
// the input's channels.
var splitRow = &Row{
	Op: spec.Split,
	Build: func(b *builder, n *Node, in []Shape) error {
		l := n.Layer
		lo, total := 0, 0
		for i, s := range l.Sizes {
			if i < n.Port {
				lo += s
			}
			total += s
		}
		if total != in[0].C {
			return diag.Tag(l.FieldErrorf("sizes", "sizes %s add up to %d channels; the input has %d", l.FieldValue("sizes"), total, in[0].C), ErrShape)
		}
		n.Gather = &Gather{Channels: channelRange(lo, lo+l.Sizes[n.Port])}
		n.Shape = Shape{len(n.Gather.Channels), in[0].H, in[0].W}
		return nil
	},
	Ref:   func(n *Node, in []Tensor) Tensor { return gather(in[0], n.Gather.Channels) },
	FLOPs: elementwiseFLOPs,
	Doc:   "torch.split along channels: output i of several (NAME:i), a range of the input's channels",
}

// channelShuffleRow is ShuffleNet's channel shuffle (view as
// [groups][C/groups], transpose, view back).
var channelShuffleRow = &Row{
	Op: spec.ChannelShuffle,
	Build: func(b *builder, n *Node, in []Shape) error {
		c, g := in[0].C, n.Layer.Groups
		if c%g != 0 {
			return diag.Tag(n.Layer.FieldErrorf("groups", "the input has %d channels, not a multiple of groups %d", c, g), ErrShape)
		}
		ch := make([]int, c)
		for j := range ch {
			ch[j] = (j%g)*(c/g) + j/g
		}
		n.Gather = &Gather{Channels: ch}
		n.Shape = in[0]
		return nil
	},
	Ref:   func(n *Node, in []Tensor) Tensor { return gather(in[0], n.Gather.Channels) },
	FLOPs: elementwiseFLOPs,
	Doc:   "nn.ChannelShuffle: output channel j is input channel (j % groups)*(C/groups) + j/groups",
}

// Gather is what a split's output and a channel shuffle are: output
// channel j is input channel Channels[j]. Fusion composes gathers, and
// folds one into the convolution that alone reads it; the planner copies
// the others channel by channel.
type Gather struct {
	Channels []int
}

func channelRange(lo, hi int) []int {
	ch := make([]int, hi-lo)
	for i := range ch {
		ch[i] = lo + i
	}
	return ch
}

// gather takes x's channels ch, in that order.
func gather(x Tensor, ch []int) Tensor {
	plane := x.H * x.W
	out := NewTensor(Shape{len(ch), x.H, x.W})
	for j, c := range ch {
		copy(out.Data[j*plane:(j+1)*plane], x.Data[c*plane:(c+1)*plane])
	}
	return out
}
