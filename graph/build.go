package graph

import (
	"errors"
	"fmt"
	"math"

	"github.com/acgen/acgen/checkpoint"
	"github.com/acgen/acgen/internal/diag"
	"github.com/acgen/acgen/spec"
)

// DefaultMaxActivationBytes bounds the float32 activations of one sample
// summed over all layers, so that a mistaken spec (input: [3, 100000,
// 100000]) is refused before anything is allocated for it.
const DefaultMaxActivationBytes = 1 << 30

// Options tune Build.
type Options struct {
	// AllowUnusedKeys accepts checkpoint keys that no layer reads.
	AllowUnusedKeys bool
	// MaxActivationBytes overrides DefaultMaxActivationBytes when > 0.
	MaxActivationBytes int64
	// Lazy checks every key's presence, shape and dtype but reads no
	// value: each node's tensors are unloaded (empty, not nil) until
	// Graph.Bind reads them, and Graph.Release lets them go, so that a
	// caller holds one layer's weights at a time. Values (NaN, negative
	// variances) are checked by Bind.
	Lazy bool
}

// Errors that Build wraps, for callers that branch on the kind of problem.
var (
	ErrShape   = errors.New("shapes do not agree")
	ErrWeights = errors.New("checkpoint does not match the spec")
	ErrTooBig  = errors.New("network too large")
)

// Build infers every shape of net, binds each layer's weights from ck, and
// checks them. All problems found are returned together.
func Build(net *spec.Net, ck *checkpoint.File, opt Options) (*Graph, error) {
	if ck == nil {
		return nil, fmt.Errorf("%s: no checkpoint", net.File)
	}
	// What the spec reads, to leave those keys out of suggestions for
	// missing ones; its shape errors are reported by the build below.
	wants, _ := Wants(net, opt)
	wanted := map[string]bool{}
	for _, w := range wants {
		wanted[w.Key] = true
	}
	g, _, err := build(net, ck, wanted, opt)
	return g, err
}

// build is Build, or with a nil ck the shape inference alone, collecting
// the tensors a checkpoint would need.
func build(net *spec.Net, ck *checkpoint.File, wanted map[string]bool, opt Options) (*Graph, []Want, error) {
	limit := opt.MaxActivationBytes
	if limit <= 0 {
		limit = DefaultMaxActivationBytes
	}
	// Sizes saturate at MaxInt64 (see shapeBytes), so that value must
	// exceed even the highest limit.
	limit = min(limit, math.MaxInt64-1)
	b := &builder{
		net:    net,
		ck:     ck,
		wanted: wanted,
		used:   map[string]bool{},
		nodes:  map[*spec.Layer][]*Node{},
		lazy:   opt.Lazy && ck != nil,
	}
	g := &Graph{
		ck:    ck,
		lazy:  b.lazy,
		Name:  net.Name,
		Input: Shape{net.Input[0], net.Input[1], net.Input[2]},
		Spec:  net,
	}
	// Sizes are summed with saturating arithmetic: a raised limit must
	// not let a product or a sum wrap around to a small number.
	total := shapeBytes(g.Input)
	if total > limit {
		err := &spec.Error{Pos: net.InputPos, Err: fmt.Errorf("input %v is %s for one sample, more than the limit of %s%s",
			net.Input, mib(total), mib(limit), raiseLimit)}
		return nil, nil, diag.Tag(err, ErrTooBig)
	}
	for _, l := range net.Layers {
		g.Nodes = append(g.Nodes, b.layer(g, l)...)
		// Count the layer if its shape is known, even if its weights
		// were wrong; readers of a layer whose shape is not are
		// skipped.
		for _, n := range b.nodes[l] {
			total = addSat(total, shapeBytes(n.Shape))
			if total > limit {
				b.errs.Add(diag.Tag(l.Errorf("the activations of one sample reach %s by this layer (%s), more than the limit of %s%s",
					mib(total), n.Shape, mib(limit), raiseLimit), ErrTooBig))
				return nil, nil, b.errs.Err()
			}
		}
	}
	if outs := b.nodes[net.Output]; net.Output != nil && outs != nil {
		g.Output = outs[net.OutputPort]
	}
	if b.errs.Len() == 0 && !opt.AllowUnusedKeys && ck != nil {
		b.unusedKeys()
	}
	if err := b.errs.Err(); err != nil {
		return nil, nil, err
	}
	if g.Output == nil {
		return nil, nil, fmt.Errorf("%s: the spec has no output layer", net.File)
	}
	return g, b.wants, nil
}

type builder struct {
	net    *spec.Net
	ck     *checkpoint.File
	wanted map[string]bool // keys the spec reads, when known
	used   map[string]bool
	nodes  map[*spec.Layer][]*Node // by output
	errs   diag.List

	sortedKeys []string // of ck, computed once
	wants      []Want   // with no checkpoint: what it would need

	lazy    bool // Options.Lazy: check the keys, leave the values unread
	loading bool // Graph.Bind: read them
}

// Want is a checkpoint tensor a spec reads.
type Want struct {
	Key      string
	Shape    []int
	Optional bool // a bias, or a BatchNorm's affine parameters
}

// Wants lists, in spec order, every checkpoint tensor net reads and its
// shape: what a checkpoint for it must hold.
func Wants(net *spec.Net, opt Options) ([]Want, error) {
	_, wants, err := build(net, nil, nil, opt)
	return wants, err
}

// layer builds the nodes of l, one for each of its outputs (a split's
// several), or returns none after reporting why not.
func (b *builder) layer(g *Graph, l *spec.Layer) []*Node {
	var inputs []*Node
	for i, in := range l.Inputs {
		outs := b.nodes[in]
		if outs == nil {
			return nil // its problem is already reported
		}
		inputs = append(inputs, outs[l.InputPorts[i]])
	}
	row := RowOf(l.Op)
	if row == nil {
		b.errs.Add(l.FieldErrorf("op", "op %q is not supported by this version of acgen", l.Op))
		return nil
	}
	name := l.Name
	if name == "" {
		name = fmt.Sprintf("%s_%d", l.Op, l.Index)
	}
	nodes := make([]*Node, l.Outputs())
	for port := range nodes {
		n := &Node{Name: name, Op: l.Op, Layer: l, Inputs: append([]*Node(nil), inputs...), Port: port}
		if len(nodes) > 1 {
			n.Name = fmt.Sprintf("%s:%d", name, port) // as readers name it
		}
		err := row.Build(b, n, g.InputShapes(n))
		if err == nil && row.Identity {
			// The identity in inference: the layer is its input node, and
			// no later stage sees it.
			b.nodes[l] = []*Node{n.Inputs[0]}
			return nil
		}
		if err != nil {
			b.errs.Add(err)
			if n.Shape.Len() > 0 && !errors.Is(err, ErrShape) && len(nodes) == 1 {
				// Its weights are wrong but its shape is known: the layers
				// that read it can still be checked, so that one run
				// reports every layer's problems.
				b.nodes[l] = []*Node{n}
			}
			return nil
		}
		nodes[port] = n
	}
	b.nodes[l] = nodes
	return nodes
}
