package fuse

import "github.com/acgen/acgen/graph"

// Channel gathers (a split's outputs, a channel shuffle) cost a copy of
// their channels at run time. Fusion removes the ones it can:
//
//   - a gather of a gather is one gather of the first's input (a split
//     of a shuffle, ShuffleNet's), and a gather that takes every channel
//     in order is its input;
//   - a gather that permutes its input's channels (a shuffle) and is
//     read by a convolution of groups 1 alone folds into that
//     convolution's input channels: the weights are reordered, and the
//     step costs nothing. A gather that takes some channels only is not
//     folded: the convolution would then read every channel of the
//     gather's input, its unused ones with zero weights, and multiply-adds
//     over them cost more than the copy saves.
//
// What is left is copied channel by channel (Report.KeptGathers).

// gatherNode is the fused form of gather node n whose input fused to in:
// composed with in when in is a gather too, or, when the result takes
// every channel of its input in order, that input (nil, and in or nil
// for the network input, of shape input).
func gatherNode(n, in *graph.Node, input graph.Shape, rep *Report) (m *graph.Node, same []*graph.Node) {
	ch, src := n.Gather.Channels, []*graph.Node{in}
	if in.Gather != nil {
		composed := make([]int, len(ch))
		for j, c := range ch {
			composed[j] = in.Gather.Channels[c]
		}
		ch, src = composed, in.Inputs
		rep.ComposedGathers++
	}
	if len(src) == 1 {
		input = src[0].Shape
	}
	if len(ch) == input.C && isRange(ch) {
		return nil, src
	}
	m = n.Clone()
	m.Gather.Channels = ch
	m.Inputs = src
	return m, nil
}

func isRange(ch []int) bool {
	for j, c := range ch {
		if c != j {
			return false
		}
	}
	return true
}

// isPermutation reports whether ch takes each of c channels once.
func isPermutation(ch []int, c int) bool {
	if len(ch) != c {
		return false
	}
	seen := make([]bool, c)
	for _, x := range ch {
		if seen[x] {
			return false
		}
		seen[x] = true
	}
	return true
}

// foldGather folds into convolution node m the gather it reads, when the
// gather permutes its input's channels and m alone reads it (sole says
// so): m reads the gather's input (of shape input when that is the
// network input), and Materialize moves m's weights for input channel j
// to channel Channels[j] (Node.PermuteIn). It reports whether it did.
func foldGather(m *graph.Node, input graph.Shape, sole bool) bool {
	if len(m.Inputs) != 1 || m.Conv == nil || m.Inputs[0].Gather == nil || !sole {
		return false
	}
	gn := m.Inputs[0]
	if len(gn.Inputs) == 1 {
		input = gn.Inputs[0].Shape
	}
	if m.Conv.Groups != 1 || !isPermutation(gn.Gather.Channels, input.C) {
		return false
	}
	m.PermuteIn = gn.Gather.Channels
	m.Inputs = gn.Inputs
	return true
}

// permuteIn moves c's weights for input channel j to channel perm[j].
func permuteIn(c *graph.Conv, perm []int) {
	taps := c.KH * c.KW
	w := make([]float64, len(c.Weight))
	for o := 0; o < c.Out; o++ {
		for j, src := range perm {
			copy(w[(o*c.In+src)*taps:(o*c.In+src+1)*taps], c.Weight[(o*c.In+j)*taps:(o*c.In+j+1)*taps])
		}
	}
	c.Weight = w
}

// dropDeadGathers removes the gathers nothing reads any more (folded or
// composed away) from g, and lists the ones left.
func dropDeadGathers(g *graph.Graph, rep *Report) {
	readers := g.Readers()
	nodes := g.Nodes[:0]
	for _, n := range g.Nodes {
		if n.Gather != nil {
			if readers[n] == 0 {
				continue
			}
			rep.KeptGathers = append(rep.KeptGathers, n.Name)
		}
		nodes = append(nodes, n)
	}
	g.Nodes = nodes
}

// channels is 0 to c-1.
func channels(c int) []int {
	ch := make([]int, c)
	for i := range ch {
		ch[i] = i
	}
	return ch
}
