package graph

import (
	"fmt"

	"github.com/acgen/acgen/internal/diag"
	"github.com/acgen/acgen/spec"
)

// LinearSum is a training-time block that is a sum of branches, each a
// chain of linear steps of the block's input (convolutions, BatchNorms,
// average pooling, zero padding; no step at all is the input itself),
// then optionally a BatchNorm. Every block after RepVGG that acgen fuses
// is one (MobileOne, QARepVGG, RepViT's RepVGGDW, UniRepLKNet's
// DilatedReparamBlock, RepConv) and so is the spec's linear_sum: each op
// only says which branches its official block has and under which keys.
// The sum is one convolution in eval mode, which Fold computes.
type LinearSum struct {
	Branches []SumBranch
	Post     *BatchNorm // the BatchNorm after the sum, or nil
	PostKey  string

	// Fused is the one convolution the block equals, without weights;
	// the builder works it out from the steps' shapes alone (see finish).
	Fused Conv
}

// SumBranch is one branch: its steps, applied in order.
type SumBranch struct {
	Name  string // for messages: the official branch's key, or "branch i"
	Steps []SumStep
}

// SumStep is one linear step. Exactly one of Conv, BN and Pool is set.
// A convolution whose weights the block defines (zero padding) has Fixed
// set: its weights are not the checkpoint's, and it has no Key.
type SumStep struct {
	Key   string // the checkpoint keys' sub-prefix: KEY.weight, KEY.running_mean...
	Conv  *Conv
	BN    *BatchNorm
	Pool  *Pool // average pooling, counting the padding
	Fixed bool
	Out   Shape // the step's output, for FLOPs
}

// clone copies s so that no step, convolution or BatchNorm is shared;
// the tensors themselves still are (see Node.Clone).
func (s *LinearSum) clone() *LinearSum {
	if s == nil {
		return nil
	}
	c := *s
	c.Post = clonePtr(s.Post)
	c.Branches = make([]SumBranch, len(s.Branches))
	for i, b := range s.Branches {
		c.Branches[i] = SumBranch{Name: b.Name, Steps: make([]SumStep, len(b.Steps))}
		for j, st := range b.Steps {
			st.Conv, st.BN, st.Pool = clonePtr(st.Conv), clonePtr(st.BN), clonePtr(st.Pool)
			c.Branches[i].Steps[j] = st
		}
	}
	return &c
}

// tensors lists the block's checkpoint tensors, branch by branch.
func (s *LinearSum) tensors() []Param {
	var ps []Param
	for _, b := range s.Branches {
		for _, st := range b.Steps {
			switch {
			case st.Fixed:
			case st.Conv != nil:
				ps = append(ps, st.Conv.tensors(st.Key+".")...)
			case st.BN != nil:
				ps = append(ps, st.BN.tensors(st.Key+".")...)
			}
		}
	}
	if s.Post != nil {
		ps = append(ps, s.Post.tensors(s.PostKey+".")...)
	}
	return ps
}

// bns counts the BatchNorms folding the block removes.
func (s *LinearSum) bns() int {
	c := 0
	for _, b := range s.Branches {
		for _, st := range b.Steps {
			if st.BN != nil {
				c++
			}
		}
	}
	if s.Post != nil {
		c++
	}
	return c
}

// flops is the reference runtime's work for the block, step by step.
func (s *LinearSum) flops(out Shape) float64 {
	f := float64(len(s.Branches)) * float64(out.Len())
	for _, b := range s.Branches {
		for _, st := range b.Steps {
			switch {
			case st.Conv != nil:
				f += st.Conv.flops(st.Out)
			case st.Pool != nil:
				f += float64(st.Out.Len() * st.Pool.KH * st.Pool.KW)
			default:
				f += 2 * float64(st.Out.Len())
			}
		}
	}
	if s.Post != nil {
		f += 2 * float64(out.Len())
	}
	return f
}

// run computes the block as trained: each branch step by step, summed,
// then the BatchNorm after the sum.
func (s *LinearSum) run(x Tensor) Tensor {
	outs := make([]Tensor, 0, len(s.Branches))
	for _, b := range s.Branches {
		y := x
		for _, st := range b.Steps {
			switch {
			case st.Conv != nil:
				y = conv(y, st.Conv)
			case st.BN != nil:
				y = batchNorm(y, st.BN)
			default:
				y = avgPool(y, st.Pool)
			}
		}
		outs = append(outs, y)
	}
	y := add(outs)
	if s.Post != nil {
		y = batchNorm(y, s.Post)
	}
	return y
}

// sumBuilder builds a LinearSum branch by branch, binding each step's
// keys and following the shapes, and then works out the convolution the
// block folds to (finish).
type sumBuilder struct {
	n  *Node
	w  *layerWeights
	in Shape
	s  *LinearSum

	cur   Shape     // the current branch's output so far
	geom  []sumGeom // each branch's composite geometry
	g     *sumGeom  // the current branch's
	errs  diag.List // shape problems
	field string    // the spec field errors point at
	pos   *spec.Pos // or the step being built, when the spec wrote it
}

// sumGeom is a branch as one convolution of the block's input, known
// before any weight: stride, padding (its first tap's offset, in input
// pixels) and extent, and whether what it has computed so far is zero
// wherever its taps all fall in the padding (no shift, one tap wide).
type sumGeom struct {
	stride, pad, extent int
	zeroOutside         bool
	groups              []int // of its convolutions
	out                 Shape
}

func (b *builder) sum(n *Node, in Shape, field string) *sumBuilder {
	n.Sum = &LinearSum{}
	return &sumBuilder{n: n, w: b.weights(n.Layer, ""), in: in, s: n.Sum, field: field}
}

// branch starts a branch at the block's input.
func (sb *sumBuilder) branch(name string) {
	sb.s.Branches = append(sb.s.Branches, SumBranch{Name: name})
	sb.geom = append(sb.geom, sumGeom{stride: 1, extent: 1, zeroOutside: true, out: sb.in})
	sb.g = &sb.geom[len(sb.geom)-1]
	sb.cur = sb.in
}

// fail reports a problem of the current branch.
func (sb *sumBuilder) fail(format string, args ...any) {
	sb.failAt(len(sb.s.Branches)-1, format, args...)
}

func (sb *sumBuilder) failAt(branch int, format string, args ...any) {
	b := sb.s.Branches[branch].Name
	err := sb.n.Layer.FieldErrorf(sb.field, "%s: "+format, append([]any{b}, args...)...)
	if sb.pos != nil && branch == len(sb.s.Branches)-1 {
		err.(*spec.Error).Pos = *sb.pos // the step's own line and column
	}
	sb.errs.Add(diag.Tag(err, ErrShape))
}

func (sb *sumBuilder) push(st SumStep) {
	br := &sb.s.Branches[len(sb.s.Branches)-1]
	br.Steps = append(br.Steps, st)
	sb.g.out = sb.cur
}

// conv adds a convolution under key, its input channels the branch's so
// far. bias: whether it may have one (an optional key).
func (sb *sumBuilder) conv(key string, c Conv, bias bool) {
	c.In = sb.cur.C
	if c.Groups < 1 || c.In%c.Groups != 0 || c.Out%c.Groups != 0 {
		sb.fail("%s reads %d channels into %d in %d groups, which do not divide them", key, c.In, c.Out, c.Groups)
		return
	}
	c.Weight = sb.w.tensor(key+".weight", c.WeightShape())
	if bias {
		c.Bias = sb.w.optional(key+".bias", []int{c.Out})
	}
	if !sb.spatial(key, c.KH, c.StrideH, c.PadH, c.DilH, c.Bias != nil) {
		return
	}
	sb.g.groups = append(sb.g.groups, c.Groups)
	h, w := c.OutSize(sb.cur.H, sb.cur.W)
	sb.cur = Shape{c.Out, h, w}
	sb.push(SumStep{Key: key, Conv: &c, Out: sb.cur})
}

// bn adds a BatchNorm of the branch's channels under key.
func (sb *sumBuilder) bn(key string, eps float64) {
	bn := sb.w.batchNorm(key+".", sb.cur.C, eps)
	sb.g.zeroOutside = false // its shift is not zero in the padding
	sb.push(SumStep{Key: key, BN: &bn, Out: sb.cur})
}

// avgPool adds a KxK average pooling that counts the padding.
func (sb *sumBuilder) avgPool(k, stride, pad int) {
	p := Pool{KH: k, KW: k, StrideH: stride, StrideW: stride, PadH: pad, PadW: pad, DilH: 1, DilW: 1, CountPad: true}
	if !sb.spatial(fmt.Sprintf("a %dx%d average pool", k, k), k, stride, pad, 1, false) {
		return
	}
	h, w := p.OutSize(sb.cur.H, sb.cur.W)
	sb.cur = Shape{sb.cur.C, h, w}
	sb.push(SumStep{Pool: &p, Out: sb.cur})
}

// pad adds p zeros on every side: a 1x1 depthwise convolution of ones,
// padded by p.
func (sb *sumBuilder) pad(p int) {
	c := sb.cur.C
	weight := make([]float64, c)
	for i := range weight {
		weight[i] = 1
	}
	conv := Conv{In: c, Out: c, KH: 1, KW: 1, StrideH: 1, StrideW: 1, PadH: p, PadW: p, DilH: 1, DilW: 1, Groups: c, Weight: weight}
	if !sb.spatial(fmt.Sprintf("padding by %d", p), 1, 1, p, 1, false) {
		return
	}
	sb.cur = Shape{c, sb.cur.H + 2*p, sb.cur.W + 2*p}
	sb.push(SumStep{Conv: &conv, Fixed: true, Out: sb.cur})
}

// spatial composes a window (k taps of dilation dil, stride, padding) onto
// the branch's geometry. Padding is exact only where what the branch has
// computed so far is zero outside the input: the step's zeros must be what
// the steps before it would have given on a zero-padded input.
func (sb *sumBuilder) spatial(what string, k, stride, pad, dil int, bias bool) bool {
	g := sb.g
	if pad > 0 && !g.zeroOutside {
		sb.fail("%s pads what the steps before it computed, which is not zero outside the input (a BatchNorm's shift, a bias, or a window wider than one pixel): the branch is not one convolution", what)
		return false
	}
	h, w := convOut(sb.cur.H, k, stride, pad, dil), convOut(sb.cur.W, k, stride, pad, dil)
	if h < 1 || w < 1 {
		sb.fail("%s (kernel %d, dilation %d, padding %d) does not fit its %dx%d input", what, k, dil, pad, sb.cur.H, sb.cur.W)
		return false
	}
	g.pad += pad * g.stride
	g.extent += (k - 1) * dil * g.stride
	g.stride *= stride
	g.zeroOutside = g.zeroOutside && k == 1 && !bias
	return true
}

// post sets the BatchNorm after the sum; after finish.
func (sb *sumBuilder) post(key string, eps float64) {
	bn := sb.w.batchNorm(key+".", sb.n.Shape.C, eps)
	sb.s.Post, sb.s.PostKey = &bn, key
}

// finish checks that the branches give one shape and line up into one
// convolution, and sets the node's shape and the convolution's geometry:
// the branches' common stride, the largest padding, a kernel that holds
// every branch's window at its offset, and as many groups as every
// convolution of the block keeps apart (each branch's steps connect
// input and output channels only within them; a block of per-channel
// steps alone is depthwise). Its error names the branch that does not
// fit.
func (sb *sumBuilder) finish() error {
	if err := sb.errs.Err(); err != nil {
		return err
	}
	in, out := sb.in, sb.geom[0].out
	stride, pad := sb.geom[0].stride, 0
	groups := 0
	for i, g := range sb.geom {
		if g.out != out {
			sb.failAt(i, "gives %s, and %s gives %s: the branches of a sum give one shape", g.out, sb.s.Branches[0].Name, out)
		} else if g.stride != stride {
			sb.failAt(i, "has stride %d, and %s stride %d", g.stride, sb.s.Branches[0].Name, stride)
		}
		pad = max(pad, g.pad)
		for _, c := range g.groups {
			groups = gcd(groups, c)
		}
	}
	if err := sb.errs.Err(); err != nil {
		return err
	}
	k := 0
	for _, g := range sb.geom {
		k = max(k, pad-g.pad+g.extent)
	}
	if h, w := convOut(in.H, k, stride, pad, 1), convOut(in.W, k, stride, pad, 1); h != out.H || w != out.W {
		sb.errs.Add(diag.Tag(sb.n.Layer.FieldErrorf(sb.field, "the branches do not line up into one convolution: their windows fit a %dx%d kernel padded by %d, which gives %dx%d, not their %dx%d",
			k, k, pad, h, w, out.H, out.W), ErrShape))
		return sb.errs.Err()
	}
	if groups == 0 {
		groups = in.C // per-channel steps only, and so in = out channels
	}
	sb.s.Fused = Conv{In: in.C, Out: out.C, KH: k, KW: k, StrideH: stride, StrideW: stride, PadH: pad, PadW: pad, DilH: 1, DilW: 1, Groups: groups}
	sb.n.Shape = out
	return nil
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// sumRow is the row of an op whose node is a LinearSum: everything but
// how its branches are built is the same.
func sumRow(op spec.Op, build func(*builder, *Node, []Shape) error, block, doc string) *Row {
	return &Row{
		Op:        op,
		Build:     build,
		Ref:       func(n *Node, in []Tensor) Tensor { return n.Sum.run(in[0]) },
		Tensors:   func(n *Node) []Param { return n.Sum.tensors() },
		FLOPs:     func(n *Node, _ []Shape) float64 { return n.Sum.flops(n.Shape) },
		Fold:      func(n *Node) *Conv { return n.Sum.Fold() },
		Folded:    func(n *Node) Conv { return geometryOf(&n.Sum.Fused) },
		FoldedBNs: func(n *Node) int { return n.Sum.bns() },
		Block:     block,
		Doc:       doc,
	}
}
