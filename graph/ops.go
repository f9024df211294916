package graph

import (
	"fmt"
	"sort"

	"github.com/acgen/acgen/spec"
)

// Row is what acgen knows about one op of the spec, besides how a spec
// writes it (package spec's vocabulary) and how the planner lowers it to
// kernels (package plan's lowerings, which name a kernel kind per op).
// Every stage that needs a fact about an op reads it from here; a stage
// that meets an op without its row is a bug that TestRows and
// tests/ops_test.go catch, not a case a switch forgets in silence.
//
// Adding an op is a row in Rows (its own file here: op_<name>.go), its
// syntax in spec, its lowering in plan and, if it needs a new kind of
// step, that kind's kernels.
type Row struct {
	Op spec.Op

	// Build sets n.Shape from the shapes of n's inputs and binds n's
	// weights through b: with a checkpoint it reads and checks them; with
	// none it records the keys and shapes a checkpoint must hold (Wants).
	// Errors name the layer and field or checkpoint key; an error tagged
	// ErrShape stops the layer's readers from being checked.
	Build func(b *builder, n *Node, in []Shape) error

	// Ref computes n in float64 as PyTorch does in eval mode, from the
	// values of its inputs (the network input for the first layer).
	Ref func(n *Node, in []Tensor) Tensor

	// Tensors lists n's parameters and buffers, aliasing n's slices, in
	// the order the checkpoint's keys would list them. Parameter counts,
	// the conditioning check's perturbation, the finiteness check and the
	// rounding to float32 all walk it, so an op cannot be left out of one.
	Tensors func(n *Node) []Param

	// FLOPs is n's floating-point operations for one sample in the
	// reference runtime (a multiply-add counts two), which bounds the
	// check stage's work.
	FLOPs func(n *Node, in []Shape) float64

	// Fold, for a training-time block (ACBlock, RepVGG, DBB), returns the
	// one convolution it equals in eval mode, in float64, with a bias.
	// Nil for an op that runs as it is.
	Fold func(n *Node) *Conv
	// Folded is the geometry of the convolution Fold returns, without
	// weights, which it knows before the block's weights are read (a
	// lazy graph's); FoldedBNs is how many BatchNorms folding it removes.
	Folded    func(n *Node) Conv
	FoldedBNs func(n *Node) int

	// Fused ops exist only in training form: fusion removes every node
	// of them (a block by its Fold, a BatchNorm into the convolution
	// before it or an affine op), so the planner never sees one.
	Fused bool

	// Identity ops (dropout) are their input in inference: Build maps
	// the layer to its input node and no node is made for it.
	Identity bool

	// Block names a training-time block's family for reports
	// ("ACBlock"); empty for other ops.
	Block string

	// Doc is a one-line description for dumps and docs.
	Doc string
}

// Param is one tensor of a node: a parameter (learnable, counted as
// PyTorch's model.parameters() counts) or a buffer (a BatchNorm's running
// statistics).
type Param struct {
	Name   string     // as the checkpoint names it below the layer's prefix; "": the prefix itself (see Key)
	Data   *[]float64 // the node's slice (nil inside in a graph built without a checkpoint)
	Shape  []int      // PyTorch's shape
	Buffer bool       // running statistics, not a parameter
}

// Key is p's checkpoint key for a layer of prefix: prefix.Name, or the
// prefix itself for a parameter that is the layer's own (a scale's).
func (p Param) Key(prefix string) string {
	if p.Name == "" {
		return prefix
	}
	return prefix + "." + p.Name
}

// Len is the number of values p holds (by its shape when its data is not
// read: in a graph built without a checkpoint, or lazily).
func (p Param) Len() int {
	if len(*p.Data) > 0 {
		return len(*p.Data)
	}
	n := 1
	for _, d := range p.Shape {
		n *= d
	}
	return n
}

// rows holds every row by op; built from Rows at start-up.
var rows = map[spec.Op]*Row{}

func init() {
	for _, r := range Rows() {
		if rows[r.Op] != nil {
			panic(fmt.Sprintf("graph: op %q has two rows", r.Op)) // a bug in the table
		}
		rows[r.Op] = r
	}
}

// Rows lists every op's row, the ops of the spec and the ones fusion
// makes (affine), sorted by op.
func Rows() []*Row {
	all := []*Row{convRow, acblockRow, repvggRow, dbbRow, bnRow, affineRow, linearRow,
		maxPoolRow, avgPoolRow, globalAvgPoolRow, adaptiveAvgPoolRow, addRow, mulRow, concatRow, flattenRow, dropoutRow,
		splitRow, channelShuffleRow, scaleRow, layerNormRow, grnRow}
	all = append(all, mobileOneRow, qaRepVGGRow, repVGGDWRow, dilatedReparamRow, repConvRow, linearSumRow)
	all = append(all, activationRows()...)
	sort.Slice(all, func(i, j int) bool { return all[i].Op < all[j].Op })
	return all
}

// Deployed reports whether nodes of r's op reach the planner: it is
// neither removed by fusion nor the identity.
func (r *Row) Deployed() bool { return !r.Fused && r.Fold == nil && !r.Identity }

// RowOf returns op's row, or nil for an op acgen does not know.
func RowOf(op spec.Op) *Row { return rows[op] }

// Row is the row of n's op. Every node Build makes has one.
func (n *Node) Row() *Row {
	r := rows[n.Op]
	if r == nil {
		panic(fmt.Sprintf("graph: node %s: op %q has no row", n.Name, n.Op)) // Build makes no such node
	}
	return r
}

// Tensors lists n's parameters and buffers (see Row.Tensors).
func (n *Node) Tensors() []Param {
	if f := n.Row().Tensors; f != nil {
		return f(n)
	}
	return nil
}

// Params counts n's learnable parameters as PyTorch's model.parameters()
// would: weights, biases, BatchNorm gammas and betas, not running
// statistics.
func (n *Node) Params() int {
	c := 0
	for _, p := range n.Tensors() {
		if !p.Buffer {
			c += p.Len()
		}
	}
	return c
}

// Params counts the learnable parameters of every node of g.
func (g *Graph) Params() int {
	c := 0
	for _, n := range g.Nodes {
		c += n.Params()
	}
	return c
}

// FLOPs is the reference runtime's work for node n of g on one sample
// (see Row.FLOPs).
func (g *Graph) FLOPs(n *Node) float64 { return n.Row().FLOPs(n, g.InputShapes(n)) }

// elementwiseFLOPs is the FLOPs of an op that touches each output value
// once.
func elementwiseFLOPs(n *Node, _ []Shape) float64 { return float64(n.Shape.Len()) }

// param is a Param for a slice a node holds.
func param(name string, data *[]float64, shape ...int) Param {
	return Param{Name: name, Data: data, Shape: shape}
}

// optional appends p unless its slice is nil: a bias or a BatchNorm's
// affine parameters that the checkpoint lacks.
func optional(ps []Param, p Param) []Param {
	if *p.Data == nil {
		return ps
	}
	return append(ps, p)
}
