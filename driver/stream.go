package driver

import (
	"fmt"
	"math"
	"runtime/debug"

	"github.com/acgen/acgen/fuse"
	"github.com/acgen/acgen/graph"
)

// A stream runs the network as trained and as fused, side by side, on
// the golden samples, one training-form node at a time in order: it reads
// the node's weights from the checkpoint (graph.Bind), computes it, and
// once the last node a fused node comes from is done, computes that fused
// node's weights (fuse.Materialize), runs it, packs it into the plan's
// sections (plan.Package.Fill) and lets go of both layers' weights. So
// acgen holds the packed weights, one layer's float64 weights and the
// activations still to be read, never the whole network in float64.
type stream struct {
	r    *Result
	keep bool // hold every weight (a small network, or -run's)

	samples [][]float64 // the golden inputs

	// The values of each node on every sample, kept until their last
	// reader has run (step index into r.Unfused.Nodes).
	unfused, fused       map[*graph.Node][][]float64
	unfusedEnd, fusedEnd map[*graph.Node]int

	// fusedOf is the fused node each training-form node is part of, due
	// once its last From node has run.
	fusedOf map[*graph.Node]*graph.Node

	// same holds the fused nodes whose values are their last From node's:
	// their weights are that node's own (fuse.Shares) and so are their
	// inputs' values. The stream takes those values rather than compute
	// them again: a network without BatchNorms (VGG) costs one run.
	same map[*graph.Node]bool
}

func newStream(r *Result, samples [][]float64, keep bool) *stream {
	s := &stream{
		r: r, keep: keep, samples: samples,
		unfused: map[*graph.Node][][]float64{}, fused: map[*graph.Node][][]float64{},
		unfusedEnd: map[*graph.Node]int{}, fusedEnd: map[*graph.Node]int{},
		fusedOf: map[*graph.Node]*graph.Node{},
		same:    map[*graph.Node]bool{},
	}
	step := map[*graph.Node]int{} // when a training-form node runs
	for i, n := range r.Unfused.Nodes {
		step[n] = i
		for _, in := range n.Inputs {
			s.unfusedEnd[in] = i
		}
	}
	for _, m := range r.Fused.Nodes {
		for _, u := range m.From {
			s.fusedOf[u] = m
		}
		due := step[m.From[len(m.From)-1]]
		for _, in := range m.Inputs {
			s.fusedEnd[in] = max(s.fusedEnd[in], due)
		}
	}
	end := len(r.Unfused.Nodes)
	s.unfusedEnd[r.Unfused.Output] = end
	s.fusedEnd[r.Fused.Output] = end
	return s
}

// run streams the whole network; the outputs are then in s.unfused and
// s.fused under each graph's output node.
func (s *stream) run() error {
	for i, u := range s.r.Unfused.Nodes {
		if s.streamsBig(u) {
			// Collect the last layers' garbage before a large one is
			// read: the heap would otherwise grow by it first.
			debug.FreeOSMemory()
		}
		if err := s.r.Unfused.Bind(u); err != nil {
			return err
		}
		out, err := s.eval(u, s.unfused, s.r.Unfused)
		if err != nil {
			return err
		}
		s.unfused[u] = out
		// (A node fusion removed, such as a gather folded into the
		// convolution after it, is part of no fused node.)
		if m := s.fusedOf[u]; m != nil && u == m.From[len(m.From)-1] {
			if err := s.fuse(m); err != nil {
				return err
			}
		}
		s.free(i)
	}
	if pending := s.r.Plan.Unfilled(); len(pending) > 0 {
		return fmt.Errorf("%w: the weights of %s were never packed", ErrInternal, pending[0])
	}
	return nil
}

// fuse computes fused node m, all of whose training-form nodes have run:
// its weights, its values, its packed sections; then both forms' weights
// may go.
func (s *stream) fuse(m *graph.Node) error {
	fuse.Materialize(m)
	if err := fuse.FiniteNode(m); err != nil {
		return err
	}
	last := m.From[len(m.From)-1]
	s.same[m] = fuse.Shares(m)
	for _, in := range m.Inputs {
		s.same[m] = s.same[m] && s.same[in]
	}
	if s.same[m] {
		s.fused[m] = s.unfused[last]
	} else {
		out, err := s.eval(m, s.fused, s.r.Fused)
		if err != nil {
			return err
		}
		s.fused[m] = out
	}
	s.r.Plan.Fill(m)
	s.letGo(m)
	return nil
}

// letGo lets go of fused node m's weights and those of the nodes it
// comes from, unless the stream keeps them.
func (s *stream) letGo(m *graph.Node) {
	if s.keep {
		return
	}
	big := weightBytes(m) > bigLayer
	m.Unload()
	for _, u := range m.From {
		s.r.Unfused.Release(u)
	}
	if big {
		debug.FreeOSMemory() // give its float64 weights back now
	}
}

// bigLayer is the float64 size of a layer's weights past which the
// stream returns memory to the OS around it.
const bigLayer = 64 << 20

// nodeBytes is the float64 size of n's weights.
func nodeBytes(n *graph.Node) float64 {
	var b float64
	for _, p := range n.Tensors() {
		b += 8 * float64(p.Len())
	}
	return b
}

// eval computes node n of g on every sample from the values in acts.
func (s *stream) eval(n *graph.Node, acts map[*graph.Node][][]float64, g *graph.Graph) ([][]float64, error) {
	shapes := g.InputShapes(n)
	out := make([][]float64, len(s.samples))
	for k, in := range s.samples {
		t := n.Row().Ref(n, nodeArgs(n, shapes, acts, in, k))
		if t.Shape != n.Shape {
			return nil, fmt.Errorf("%w: node %s computed %s, the graph says %s", ErrInternal, n, t.Shape, n.Shape)
		}
		out[k] = t.Data
	}
	return out, nil
}

// nodeArgs are node n's inputs, of shapes shapes, on sample k: the
// sample itself (in) for a node that reads the network's input, else
// its input nodes' values in acts.
func nodeArgs(n *graph.Node, shapes []graph.Shape, acts map[*graph.Node][][]float64, in []float64, k int) []graph.Tensor {
	args := make([]graph.Tensor, len(shapes))
	for j, sh := range shapes {
		args[j] = graph.Tensor{Shape: sh, Data: in}
		if len(n.Inputs) > 0 {
			args[j].Data = acts[n.Inputs[j]][k]
		}
	}
	return args
}

// free lets go of the values no node after step i reads.
func (s *stream) free(i int) {
	dropRead(s.unfused, s.unfusedEnd, i)
	dropRead(s.fused, s.fusedEnd, i)
}

// dropRead deletes from acts the values whose last reader runs at step
// end[n] <= i.
func dropRead(acts map[*graph.Node][][]float64, end map[*graph.Node]int, i int) {
	for n := range acts {
		if end[n] <= i {
			delete(acts, n)
		}
	}
}

// streamsBig reports whether u is a large layer whose weights the stream
// reads and lets go: the heap is collected around it.
func (s *stream) streamsBig(u *graph.Node) bool { return !s.keep && nodeBytes(u) > bigLayer }

// perturbedOutput runs the training form on sample i with every
// parameter moved by half a float32 ulp at random (see perturbed) and
// every layer's outputs rounded to float32, again one node at a time:
// what float32 storage of the weights and of the activations does to
// the network. (Weights alone miss a network that loses its accuracy in
// its activations: EfficientNet-B5 with random BatchNorm statistics moved
// 4e-4 by its weights while PyTorch's float32 was 1.2 from its float64.)
func (s *stream) perturbedOutput(i int, move func([]float64)) ([]float64, error) {
	g := s.r.Unfused
	acts := map[*graph.Node][][]float64{}
	one := &stream{samples: s.samples[i : i+1]}
	for i, u := range g.Nodes {
		big := s.streamsBig(u)
		if big {
			debug.FreeOSMemory() // as in run: collect before a large layer is read
		}
		if err := g.Bind(u); err != nil {
			return nil, err
		}
		m := u
		if s.keep {
			// The kept weights stay as read. A streamed layer's are
			// moved where they lie: they are let go below, and read
			// again from the checkpoint whenever the layer is bound next
			// (a clone would hold VGG-16's fc6 twice, 1.6 GB).
			m = u.Clone()
		}
		for _, p := range m.Tensors() {
			move(*p.Data)
		}
		out, err := one.eval(m, acts, g)
		if err != nil {
			return nil, err
		}
		for _, sample := range out {
			for j, v := range sample {
				sample[j] = float64(float32(v))
			}
		}
		acts[u] = out
		if !s.keep {
			g.Release(u)
		}
		if big {
			debug.FreeOSMemory()
		}
		dropRead(acts, s.unfusedEnd, i)
	}
	return acts[g.Output][0], nil
}

// weightBytes is the float64 size of the weights of the nodes fused node
// m comes from, and of m's own when it does not share them: what the
// stream holds while it computes m.
func weightBytes(m *graph.Node) float64 {
	var n float64
	for _, u := range m.From {
		for _, p := range u.Tensors() {
			n += 8 * float64(p.Len())
		}
	}
	if len(m.From) > 1 || m.From[0].Row().Fold != nil {
		for _, p := range m.Tensors() {
			n += 8 * float64(p.Len())
		}
	}
	return n
}

// finite reports whether every value of v is within float32's range.
func finite(v []float64) bool {
	for _, x := range v {
		if !(math.Abs(x) <= math.MaxFloat32) {
			return false
		}
	}
	return true
}
