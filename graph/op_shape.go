package graph

import (
	"github.com/acgen/acgen/internal/diag"
	"github.com/acgen/acgen/spec"
)

var flattenRow = &Row{
	Op: spec.Flatten,
	Build: func(b *builder, n *Node, in []Shape) error {
		n.Shape = Shape{in[0].Len(), 1, 1}
		return nil
	},
	Ref: func(n *Node, in []Tensor) Tensor {
		return Tensor{Shape: n.Shape, Data: in[0].Data}
	},
	FLOPs: func(*Node, []Shape) float64 { return 0 },
	Doc:   "C,H,W reshaped to C*H*W channels of 1x1",
}

// dropoutRow is every dropout: the identity in inference. Build maps the
// layer to its input node, so no later stage sees one.
var dropoutRow = &Row{
	Op: spec.Dropout,
	Build: func(b *builder, n *Node, in []Shape) error {
		if len(n.Inputs) == 0 {
			return diag.Tag(n.Layer.FieldErrorf("op", "a dropout as the first layer: it is the identity in inference, so leave it out"), ErrShape)
		}
		n.Shape = in[0]
		return nil
	},
	Ref:      func(n *Node, in []Tensor) Tensor { return in[0] },
	FLOPs:    func(*Node, []Shape) float64 { return 0 },
	Identity: true,
	Doc:      "nn.Dropout and its kin: the identity in inference",
}
