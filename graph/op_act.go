package graph

import "github.com/acgen/acgen/act"

// activationRows are one row per activation of package act, whose table
// holds their float64 definitions.
func activationRows() []*Row {
	var rs []*Row
	for _, f := range act.Table[1:] {
		rs = append(rs, &Row{
			Op: f.Op,
			Build: func(b *builder, n *Node, in []Shape) error {
				n.Shape = in[0]
				n.Param = f.ParamOf(n.Layer)
				return nil
			},
			Ref: func(n *Node, in []Tensor) Tensor {
				return mapValues(in[0], func(v float64) float64 { return f.Ref(v, n.Param) })
			},
			FLOPs: elementwiseFLOPs,
			Doc:   f.Doc,
		})
	}
	return rs
}
