package graph

import ()

// unloaded is a lazy graph's tensor before Bind: empty, so that nothing
// can compute with it, but not nil, so that an optional tensor the
// checkpoint holds (a bias) is counted and listed as present.
var unloaded = []float64{}

// Loaded reports whether n's tensors hold their values: always, in a graph
// built with a checkpoint and without Options.Lazy.
func (n *Node) Loaded() bool {
	for _, p := range n.Tensors() {
		if len(*p.Data) == 0 && p.Len() > 0 {
			return false
		}
	}
	return true
}

// Bind reads the weights of node n of a lazily built graph (see
// Options.Lazy) and checks their values; a node already loaded is left
// as it is. Its error names the layer and key, as Build's do.
func (g *Graph) Bind(n *Node) error {
	if !g.lazy || n.Loaded() {
		return nil
	}
	b := &builder{net: g.Spec, ck: g.ck, used: map[string]bool{}, lazy: true, loading: true}
	if err := n.Row().Build(b, n, g.InputShapes(n)); err != nil {
		b.errs.Add(err)
	}
	return b.errs.Err()
}

// Release lets go of the weights Bind read for n of a lazy graph, and of
// the checkpoint's copies of them: n is as the lazy build left it, and
// Bind reads them again. In a graph that is not lazy it does nothing.
func (g *Graph) Release(n *Node) {
	if !g.lazy {
		return
	}
	for _, p := range n.Tensors() {
		if t := g.ck.Tensors[n.Layer.Prefix+"."+p.Name]; t != nil {
			t.Release()
		}
	}
	n.Unload()
}

// Unload sets every tensor of n to the unloaded state of a lazy graph,
// letting go of its values.
func (n *Node) Unload() {
	for _, p := range n.Tensors() {
		*p.Data = unloaded
	}
}
