package plan

import (
	"github.com/acgen/acgen/act"
	"github.com/acgen/acgen/graph"
	"github.com/acgen/acgen/spec"
	"github.com/acgen/acgen/target"
)

// Program is what the emitters generate: run Steps in order over one
// workspace of WorkspaceLen floats, reading weights from Weights.
type Program struct {
	Name   string
	Target *target.Target // what the program is planned for
	Graph  *graph.Graph   // the fused graph it implements
	Input  graph.Shape
	Output graph.Shape

	Values       []*Value
	Buffers      []*Buffer
	Steps        []*Step
	WorkspaceLen int // floats
	// ScratchLen is the floats of Winograd scratch space at the end of
	// the workspace; each further goroutine sharing a step needs as much
	// again.
	ScratchLen int

	// Weights is the packed weights, shared with the other programs of
	// the package; every section starts 64-byte aligned.
	Weights []float32

	// StreamsWeights: the network's weights exceed what the last-level
	// cache keeps between inferences, so every inference reads them from
	// memory.
	StreamsWeights bool

	// ModelledError is the accuracy model's estimate of the program's
	// relative error against float64, in multiples of PyTorch's float32
	// error (see ErrorBudget).
	ModelledError float64
	// EmulatedError is the same estimate from emulating the program's
	// Winograd layers on a sample (see EmulatedError), or 0 where acgen
	// did not emulate them.
	EmulatedError float64
	// WinogradMoves is how many moves the accuracy model made (see
	// Options.WinogradMoves).
	WinogradMoves int
	// Emulation is what the emulation measured of the program's plan,
	// when it ran.
	Emulation Emulation

	// WinogradLen is the floats of transformed Winograd weights: the
	// package computes them from Weights when it loads (see
	// ConvStep.KernelsOff), so that they cost no space in the binary,
	// where they would be (m+2)^2/9 times the size of the 3x3 kernels.
	WinogradLen int
}

// Act is an activation applied as a step writes its output: a row of
// package act and its parameter. The zero value is no activation.
type Act struct {
	F     *act.Func // nil: none
	Param float32   // LeakyReLU's slope
}

// ActNone is no activation.
var ActNone = Act{}

// ActOf is the activation of a graph node of an activation op.
func ActOf(n *graph.Node) Act { return Act{F: act.Of(n.Op), Param: float32(n.Param)} }

// None reports whether a is no activation.
func (a Act) None() bool { return a.F == nil || a.F == act.None }

// Func is a's row of the act table, act.None for none.
func (a Act) Func() *act.Func {
	if a.F == nil {
		return act.None
	}
	return a.F
}

// Clamp reports whether a is none, ReLU or ReLU6: a clamp, which every
// kernel applies in the accumulators' registers. The assembly applies the
// others in a second pass over the stored outputs, which the Winograd
// kernels do not have, so steps with them run directly.
func (a Act) Clamp() bool { return a.None() || a.Is(spec.ReLU) || a.Is(spec.ReLU6) }

// Is reports whether a is the activation of op.
func (a Act) Is(op spec.Op) bool { return a.F != nil && a.F.Op == op }

func (a Act) String() string {
	if a.None() {
		return ""
	}
	return a.F.Name()
}

// Step is one kernel call.
type Step struct {
	Name  string // names of the graph nodes it computes, joined by "+"
	Kind  Kind
	Nodes []*graph.Node // the fused-graph nodes it computes, first the main one
	In    []*Value
	Out   *Value
	Act   Act

	Conv   *ConvStep   // Kind Conv; for MaxPool, the window's geometry when an assembly kernel may run it
	Linear *LinearStep // Kind Linear
	Pool   *graph.Pool // Kind MaxPool, AvgPool
	Affine *AffineStep // Kind Affine
	Norm   *NormStep   // Kind LayerNorm
	GRN    *GRNStep    // Kind GRN
	// Channels are what a Gather step's output channels take of its
	// input's: output channel j is input channel Channels[j].
	Channels []int
	// MaskOff locates an elementwise step's lane mask when it
	// NeedsLaneMask.
	MaskOff int

	FLOPs int64 // multiply-adds count two
}

// Residual is the value a Conv step adds before its activation, or nil.
func (s *Step) Residual() *Value {
	if s.Kind == Conv && len(s.In) == 2 {
		return s.In[1]
	}
	return nil
}

// Algo is how a convolution is computed (see target.Algo: each target
// lists the algorithms its kernels implement).
type Algo = target.Algo

const (
	// Direct broadcasts one input value against a vector of output
	// channels' weights; it serves every dense or grouped convolution.
	Direct = target.Direct
	// Depthwise multiplies input and weight vectors lane by lane; for
	// convolutions whose every output channel reads one input channel.
	Depthwise = target.Depthwise
	// Winograd computes 3x3 stride-1 convolutions as F(m x m, 3 x 3)
	// (WinogradM output pixels per tile side).
	Winograd = target.Winograd
)

// ConvStep is a convolution's geometry and kernel plan. Weight is nil:
// the packed weights are in the program's blob.
type ConvStep struct {
	graph.Conv
	OutH, OutW int
	Block      int // the program's channel block
	Algo       Algo
	WinogradM  int // 2 or 4 when Algo is Winograd

	// Tiles cover the output channels: each computes Blocks channel
	// blocks for Pixels adjacent output pixels per kernel iteration (for
	// Winograd: Pixels output tiles in the products of one transform
	// element).
	Tiles  []OCTile
	Pixels int
	// Direct: the loop order, passes and row split of a direct
	// convolution's kernel (see DirectSchedule).
	Direct DirectSchedule

	// ByTiles says a direct convolution is split by (tile, output
	// row) pairs, tile-major, rather than by output rows: unit u is row
	// u%OutH of tile u/OutH, so that goroutines sharing the step each
	// read only their tiles' weights, and a step with few rows still
	// splits evenly (see Step.Units).
	ByTiles bool

	// Winograd: the output is TilesY x TilesX tiles of WinogradM x
	// WinogradM pixels, processed BlockRows rows of tiles at a time;
	// the packed weights hold XiStride floats per transform element;
	// ScratchOff is where in the workspace the step keeps V, M and a
	// transform temporary (see WinogradScratch).
	TilesY, TilesX, BlockRows int
	XiStride                  int
	ScratchOff                int

	BiasOff int // Out rounded up to Group floats

	// Cycles is the cost model's estimate for the chosen algorithm.
	Cycles float64
	// Why says what the cost model weighed in choosing the algorithm and
	// schedule: its estimates of the choice and the runner-up.
	Why string

	// weights gives the convolution's weights and bias when its sections
	// are filled (see Package.Fill): the fused node's, or a pooling's
	// constants. Conv holds the geometry alone.
	weights func() (w, b []float64)

	// WeightOff is where the packed weights start: for Direct and
	// Winograd, in WeightGroups (see BlockWeights); for Depthwise,
	// [KH*KW][DepthwiseRow()].
	WeightOff    int
	WeightGroups []WeightGroupRange

	// Winograd: the tiles' WeightOff and BiasOff index the transformed
	// weights, not Weights. Weights holds, at KernelsOff (= WeightOff),
	// the fused 3x3 kernels in WeightGroups and, at RawBiasOff, the bias
	// the package copies to BiasOff when it transforms them.
	KernelsOff, RawBiasOff int
}

// OCTile is a group of output channel blocks computed together, and the
// contiguous range of input channels they read.
type OCTile struct {
	Block0, Blocks int // first output channel block, how many
	ICLo, ICHi     int // input channels read: [ICLo, ICHi)
	// WeightOff is where the tile's packed weights start: for Direct,
	// BlockWeights(Block0, ICLo); for Depthwise, block Block0's first
	// tap; for Winograd, its transformed weights.
	WeightOff int
}

// LinearStep is a fully connected layer over the interior of its input,
// in the input's blocked order (the weights are permuted to match).
type LinearStep struct {
	In, Out   int // logical sizes
	K         int // padded input length: the input layout's CB*H*W*Block
	WeightOff int // [Out][K]
	BiasOff   int // [Out]
}

// NormStep locates a LayerNorm's weight and bias, each padded to a whole
// block with zeros (so padded lanes stay 0); for the assembly, MaskOff
// is 1 in the lanes of the last channel block that are channels and 0
// in the others, and ConstOff Group copies each of 1/C, eps and 1.
type NormStep struct {
	WeightOff, BiasOff int
	MaskOff, ConstOff  int
	Eps                float32
}

// GRNStep locates a GRN's gamma and beta (zeros when absent or folded
// into the next layer), each padded to a whole block with zeros, and
// for the assembly ConstOff, Group copies each of 1/C, eps and 1.
// ScratchOff is where in the workspace the kernel keeps its per-channel
// norms and then scales between its passes (padded(C) floats).
type GRNStep struct {
	GammaOff, BetaOff, ConstOff int
	ScratchOff                  int
	Eps                         float32
}

// AffineStep locates the scale and shift of an Affine step, each padded
// to a whole block with zeros.
type AffineStep struct {
	ScaleOff, ShiftOff int
}

// Reach is how far c's windows read past an h x w input on either side:
// its padding, or further where ceil_mode pooling windows reach past the
// padded input. The input's halo must be as wide.
func (c *ConvStep) Reach(h, w int) int {
	past := func(in, out, k, stride, pad, dil int) int { return (out-1)*stride - pad + dil*(k-1) + 1 - in }
	return max(c.PadH, c.PadW, past(h, c.OutH, c.KH, c.StrideH, c.PadH, c.DilH), past(w, c.OutW, c.KW, c.StrideW, c.PadW, c.DilW))
}

// InBlocks and OutBlocks are the input and output channel blocks.
func (c *ConvStep) InBlocks() int  { return (c.In + c.Block - 1) / c.Block }
func (c *ConvStep) OutBlocks() int { return (c.Out + c.Block - 1) / c.Block }

// weightFloats is the size of the step's kernel, unpacked.
func (c *ConvStep) weightFloats() int { return c.Out * c.In / c.Groups * c.KH * c.KW }

// Cycles is the cost model's estimate of the step on target t: the
// convolution's own, packing's stores, max pooling's loads, else its
// FLOPs at the target's arithmetic rate.
func (s *Step) Cycles(t *target.Target) float64 {
	if s.Kind == Conv && s.Conv.Cycles > 0 {
		return s.Conv.Cycles
	}
	if s.Kind == Pack {
		// Bound by writing the layout out.
		return float64(s.Out.Layout.Len()*4) / t.Cost.MemoryBytesPerCycle
	}
	if s.Kind.Elementwise() {
		return s.elemCycles(t)
	}
	if s.Kind == MaxPool {
		// Comparisons, which FLOPs do not count: a vector load and max
		// per window tap of every output vector.
		out := s.Out.Layout
		taps := s.Pool.KH * s.Pool.KW
		return float64(out.CB()*out.H*out.W*taps) / (t.Cost.LoadsPerCycle * t.Cost.Efficiency)
	}
	return float64(s.FLOPs) / (2 * float64(t.Lanes) * t.Cost.FMAsPerCycle * t.Cost.Efficiency)
}

// maxParts is how many goroutines units of work of the given cycles are
// worth: as many as each get at least the target's SyncCycles, at most
// units, at least one.
func maxParts(t *target.Target, units int, cycles float64) int {
	return max(1, min(units, int(cycles/t.Cost.SyncCycles)))
}

// Units is how many independent parts a step's kernel can be run in: its
// output rows (the input's, packing it; a LayerNorm's or an elementwise step's), its tiles' rows (ByTiles),
// Winograd's blocks of tile rows, or 1 for the steps that run whole.
func (s *Step) Units() int {
	switch {
	case s.Kind == Conv && s.Conv.Algo == Winograd:
		return s.Conv.TilesY / s.Conv.BlockRows
	case s.Kind == Conv && s.Conv.ByTiles:
		return len(s.Conv.Tiles) * s.Conv.OutH
	case s.Kind == Conv, s.Kind == MaxPool && s.Conv != nil:
		return s.Conv.OutH
	case s.Kind == Pack, s.Kind == LayerNorm, s.Kind.Elementwise():
		return s.Out.Layout.H
	}
	return 1
}

// MaxParts is how many goroutines may share the step on target t: as
// many as have each at least SyncCycles of work by the cost model's
// estimate (its units at most).
func (s *Step) MaxParts(t *target.Target) int { return maxParts(t, s.Units(), s.Cycles(t)) }

// weightBandwidth is the bytes of weights a cycle a core reads: from
// memory if the program streams them, else from the last-level cache.
func (p *Program) weightBandwidth() float64 {
	if p.StreamsWeights {
		return p.Target.Cost.MemoryBytesPerCycle
	}
	return p.Target.Cost.CacheBytesPerCycle
}
