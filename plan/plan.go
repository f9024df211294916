package plan

import (
	"fmt"
	"strings"

	"github.com/acgen/acgen/act"
	"github.com/acgen/acgen/graph"
	"github.com/acgen/acgen/spec"
	"github.com/acgen/acgen/target"
)

// Options steer the planner; the zero value plans for speed.
type Options struct {
	// NoWinograd computes every convolution directly.
	NoWinograd bool
	// ForceWinograd uses Winograd wherever it applies, even where the
	// planner would not (for tests).
	ForceWinograd bool
	// WinogradM forces the Winograd tile size (2 or 4) when non-zero.
	WinogradM int
	// NoErrorBudget plans Winograd for speed alone, whatever the
	// modelled error (see ErrorBudget): for measuring what the budget
	// costs and saves.
	NoErrorBudget bool
	// KBlock, when non-zero, makes every dense direct convolution of
	// more input channels pass over them KBlock at a time (a multiple of
	// 16), and unroll one channel of its body at a time, a row of taps
	// at a time (for tests: see DirectSchedule).
	KBlock int
	// Bands makes every direct convolution whose output rows a register
	// tile holds two or more of take tiles of whole rows (for tests: see
	// DirectSchedule.Rows).
	Bands bool
	// Caches, when set, are the cache sizes the cost model plans for in
	// place of the target's portable defaults (acgen -tune host), for
	// the targets of the architecture acgen runs on (see planner.cost).
	Caches *target.Caches
	// WinogradMoves, where it holds a target's name, is how many of the
	// accuracy model's moves (each one layer to a more accurate
	// algorithm, the one that saves the most modelled error for its
	// cycles first) that target's program makes, whatever the model's
	// budget: the emulation (see EmulatedError) chooses it.
	WinogradMoves map[string]int
}

// Package is the programs of one generated package, best target first,
// over one set of packed weights; Portable names the one the portable Go
// kernels run.
type Package struct {
	Programs []*Program
	Weights  []float32
	// Bin is Weights with HeadFloats free floats before it: weights.bin's
	// bytes once the header is written into them.
	Bin []float32

	blob     *blob
	portable *Program
}

// Portable is the program the portable Go kernels run, where no assembly
// target does: target.Go's own, or that of the assembly target it shares
// (target.Target.Shares). It is one of Programs, not necessarily the last.
func (pk *Package) Portable() *Program { return pk.portable }

// BuildPackage plans the fused graph g for each target (best first, as
// target.All orders them). The portable Go kernels run the program of
// the target target.Go shares when targets hold it, else a program
// planned for target.Go.
func BuildPackage(g *graph.Graph, targets []*target.Target, opt Options) (*Package, error) {
	var ts []*target.Target
	for _, t := range target.All {
		for _, u := range targets {
			if u == t && t != target.Go {
				ts = append(ts, t)
			}
		}
	}
	b := newBlob()
	pk := &Package{}
	for _, t := range append(ts, target.Go) {
		if t == target.Go && pk.portable != nil {
			break
		}
		p, err := build(g, t, b, opt)
		if err != nil {
			return nil, err
		}
		pk.Programs = append(pk.Programs, p)
		if t == target.Go || t == target.Go.Shares {
			pk.portable = p
		}
	}
	b.alloc()
	pk.blob = b
	pk.Weights = b.weights()
	pk.Bin = b.data
	for _, p := range pk.Programs {
		p.Weights = pk.Weights
	}
	fillLoaded(pk, g)
	return pk, nil
}

// fillLoaded packs the sections of every node of g whose weights are
// read: all of them, unless g was built lazily (see Package.Fill).
func fillLoaded(pk *Package, g *graph.Graph) {
	for _, n := range g.Nodes {
		if n.Loaded() {
			pk.Fill(n)
		}
	}
}

// Build plans g for one target (AVX2 when t is nil), with weights of its
// own.
func Build(g *graph.Graph, t *target.Target, opt Options) (*Program, error) {
	if t == nil {
		t = target.AVX2
	}
	b := newBlob()
	p, err := build(g, t, b, opt)
	if err != nil {
		return nil, err
	}
	b.alloc()
	pk := &Package{Programs: []*Program{p}, portable: p, blob: b}
	fillLoaded(pk, g)
	p.Weights = b.weights()
	return p, nil
}

func build(g *graph.Graph, t *target.Target, b *blob, opt Options) (*Program, error) {
	for _, n := range g.Nodes {
		if n.Op == spec.ACBlock || n.Op == spec.BN {
			return nil, fmt.Errorf("plan: node %s: the graph is not fused", n)
		}
	}
	p := &planner{
		g:       g,
		opt:     opt,
		target:  t,
		blob:    b,
		prog:    &Program{Name: g.Name, Target: t, Graph: g, Input: g.Input, Output: g.Output.Shape},
		valueOf: map[*graph.Node]*Value{},
		readers: g.Readers(),
		index:   map[*graph.Node]int{},
	}
	for i, n := range g.Nodes {
		p.index[n] = i
	}
	p.lower()
	p.prog.StreamsWeights = p.directWeightBytes() > 16<<20
	p.chooseKernels()
	p.setHalos()
	p.allocate()
	p.pack()
	return p.prog, nil
}

type planner struct {
	g       *graph.Graph
	opt     Options
	target  *target.Target
	blob    *blob
	prog    *Program
	valueOf map[*graph.Node]*Value // each node's output (shared by fused nodes)
	readers map[*graph.Node]int
	index   map[*graph.Node]int
	done    map[*graph.Node]bool // nodes computed by an earlier step
	input   *Value
}

func (p *planner) newValue(name string, s graph.Shape) *Value {
	v := &Value{Name: name, Layout: Layout{C: s.C, H: s.H, W: s.W, Block: p.target.Lanes}}
	p.prog.Values = append(p.prog.Values, v)
	return v
}

func (p *planner) emit(s *Step) {
	names := make([]string, len(s.Nodes))
	for i, n := range s.Nodes {
		names[i] = n.Name
	}
	if s.Name == "" {
		s.Name = strings.Join(names, "+")
	}
	p.prog.Steps = append(p.prog.Steps, s)
}

// args returns the values a node reads.
func (p *planner) args(n *graph.Node) []*Value {
	if len(n.Inputs) == 0 {
		return []*Value{p.input}
	}
	vs := make([]*Value, len(n.Inputs))
	for i, in := range n.Inputs {
		vs[i] = p.valueOf[in]
	}
	return vs
}

// soleReader returns the one node that reads n, if n has exactly one
// reader and is not the network output.
func (p *planner) soleReader(n *graph.Node) *graph.Node {
	if p.readers[n] != 1 || n == p.g.Output {
		return nil
	}
	for _, m := range p.g.Nodes[p.index[n]+1:] {
		for _, in := range m.Inputs {
			if in == n {
				return m
			}
		}
	}
	return nil
}

// absorbAct extends step s, whose last node is n, with an activation that
// alone reads n. One with f(0) != 0 (sigmoid) is absorbed only when the
// output fills its channel blocks: the kernels compute padded lanes as
// real ones, and only an Activation step masks them back to zero.
func (p *planner) absorbAct(s *Step, n *graph.Node) *graph.Node {
	r := p.soleReader(n)
	if r == nil || !s.Act.None() {
		return n
	}
	f := act.Of(r.Op)
	if f == nil || !f.ZeroAtZero && r.Shape.C%p.target.Lanes != 0 || p.target.Asm() && !p.target.Fuses(string(f.Op)) {
		return n
	}
	s.Act = ActOf(r)
	s.Nodes = append(s.Nodes, r)
	p.done[r] = true
	return r
}

// lower turns nodes into steps, fusing as it goes.
func (p *planner) lower() {
	p.done = map[*graph.Node]bool{}
	p.input = p.newValue("input", p.g.Input)
	p.input.first = -1
	p.emit(&Step{Name: "input", Kind: Pack, Out: p.input})
	for _, n := range p.g.Nodes {
		if p.done[n] {
			continue
		}
		s := &Step{Nodes: []*graph.Node{n}, In: p.args(n)}
		lower := lowerings[n.Op]
		if lower == nil {
			panic(fmt.Sprintf("plan: no lowering for op %q", n.Op)) // TestLowerings: every op of a fused graph has one
		}
		last := lower(p, s, n)
		if last == nil {
			continue // the op needs no step (see lowering)
		}
		s.Out = p.newValue(last.Name, last.Shape)
		for _, m := range s.Nodes {
			p.valueOf[m] = s.Out
		}
		p.emit(s)
	}
	out := p.valueOf[p.g.Output]
	p.emit(&Step{Name: "output", Kind: Unpack, In: []*Value{out}})
}

// elided reports whether a flatten needs no step: its only reader is a
// linear layer, which can read the unflattened layout directly.
//
// Only when the layout's channel blocks are (nearly) full: a linear layer
// reading a blocked layout packs a weight for every lane, so that a
// 3-channel image's 16-lane blocks would take 5x the weights (3 GB for a
// 400 MB layer). Flattened first, it reads C*H*W channels of 1x1, and
// its weights are packed once for every target.
func (p *planner) elided(flatten *graph.Node) bool {
	r := p.soleReader(flatten)
	if r == nil || r.Op != spec.Linear {
		return false
	}
	c := p.g.InputShapes(flatten)[0].C
	lanes := (c + p.target.Lanes - 1) / p.target.Lanes * p.target.Lanes
	return 8*lanes <= 9*c // at most an eighth of the weights for padded lanes
}

// absorbResidual fuses into conv step s an add that alone reads the conv,
// when the add's other operand is ready before the conv runs.
func (p *planner) absorbResidual(s *Step, conv *graph.Node) *graph.Node {
	add := p.soleReader(conv)
	if add == nil || add.Op != spec.Add || len(add.Inputs) != 2 {
		return conv
	}
	other := add.Inputs[0]
	if other == conv {
		other = add.Inputs[1]
	}
	if other == conv || p.valueOf[other] == nil {
		return conv // x+x, or the other operand is computed later
	}
	s.In = append(s.In, p.valueOf[other])
	s.Nodes = append(s.Nodes, add)
	p.done[add] = true
	return add
}

// maxLoweredTaps bounds the kernel window of an op computed as a
// convolution: kernels unroll their taps.
const maxLoweredTaps = 64

// lowered is the convolution c (its geometry; In is the input's
// channels) that another op is computed as; weights gives its weights
// and bias when they are packed (nil: a geometry no weights are packed
// for).
func lowered(in Layout, c graph.Conv, weights func() (w, b []float64)) *ConvStep {
	c.In = in.C
	cs := &ConvStep{Conv: c, Block: in.Block, weights: weights}
	cs.OutH, cs.OutW = c.OutSize(in.H, in.W)
	return cs
}

// window is a square window's convolution geometry: out channels, a
// kh x kw kernel, stride and padding on both axes, no dilation.
func window(out, kh, kw, stride, pad, groups int) graph.Conv {
	return graph.Conv{Out: out, KH: kh, KW: kw, StrideH: stride, StrideW: stride, PadH: pad, PadW: pad, DilH: 1, DilW: 1, Groups: groups}
}

// poolWindow is a pooling window's geometry as a depthwise convolution
// of c channels.
func poolWindow(c int, pl *graph.Pool) graph.Conv {
	return graph.Conv{Out: c, KH: pl.KH, KW: pl.KW, StrideH: pl.StrideH, StrideW: pl.StrideW,
		PadH: pl.PadH, PadW: pl.PadW, DilH: pl.DilH, DilW: pl.DilW, Groups: c}
}

// sameDivisor reports whether average pooling pl of input x to out
// divides every window by KH*KW, as a convolution does: with
// count_include_pad, when no ceil_mode window reaches past the padded
// input; without, when there is no padding either.
func sameDivisor(pl *graph.Pool, x Layout, out graph.Shape) bool {
	if !pl.CountPad && (pl.PadH > 0 || pl.PadW > 0) {
		return false
	}
	return graph.Overhang(x.H, out.H, pl.KH, pl.StrideH, pl.PadH, 1) == 0 &&
		graph.Overhang(x.W, out.W, pl.KW, pl.StrideW, pl.PadW, 1) == 0
}

// constantWeights is the weights of a convolution every one of whose n
// weights is v, with no bias: pooling computed as a convolution.
func constantWeights(n int, v float64) func() ([]float64, []float64) {
	return func() ([]float64, []float64) { return constant(n, v), nil }
}

func constant(n int, v float64) []float64 {
	s := make([]float64, n)
	for i := range s {
		s[i] = v
	}
	return s
}

// directWeightBytes is the size of the network's weights as float32.
func (p *planner) directWeightBytes() int {
	n := 0
	for _, s := range p.prog.Steps {
		if s.Conv != nil {
			n += s.Conv.weightFloats()
		}
	}
	return 4 * n
}
