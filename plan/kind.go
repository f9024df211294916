package plan

import "fmt"

// Kind is what a step does: a row of kinds.
type Kind int

const (
	Pack            Kind = iota // the caller's C,H,W input -> Out
	Unpack                      // In[0] -> the caller's C,H,W output
	Conv                        // convolution with bias, optional residual add and activation
	Linear                      // fully connected layer with bias and optional activation
	MaxPool                     // max over windows; padding is -inf
	AvgPool                     // mean over windows, by PyTorch's divisors
	GlobalAvgPool               // mean of each channel
	Add                         // elementwise sum of In, then Act
	Concat                      // In joined along channels
	Affine                      // per-channel scale and shift (an unfoldable BatchNorm), then Act
	Activation                  // Act alone
	Flatten                     // C,H,W -> C*H*W channels of 1x1
	Mul                         // In[0] times In[1] elementwise, or scaled channel by channel by In[1] (C x 1 x 1)
	AdaptiveAvgPool             // mean over windows from floor(i*in/out) to ceil((i+1)*in/out)
	Gather                      // output channel j is In[0]'s channel Channels[j]: a split's output, a shuffle
	LayerNorm                   // each pixel's channels normalised, then scaled and shifted per channel
	GRN                         // each channel scaled by gamma times its L2 norm over the mean norm, plus 1; then shifted
	numKinds
)

// KindRow is what the planner knows about one kind of step; the emitters
// keep their kernels for each kind beside it (gen's Go calls, asm's
// kernels), and their tests check that every kind has them.
type KindRow struct {
	Name string
	// Halo is the zero border the step's kernel reads around In[0]
	// (nil: none).
	Halo func(s *Step) int
	// SignKeeping: the output is non-negative when every input is (so a
	// ReLU before it lets max pooling after it pad with zeros).
	SignKeeping bool
	// Pack stores the step's parameters in the weight blob, in the order
	// its kernels read them (nil: it has none).
	Pack func(p *planner, s *Step)
	// Weights are the offsets into the blob the step reads, for Check
	// (nil: none).
	Weights func(s *Step) []int
	// Kernel says a step of the kind is a hot path that every assembly
	// target runs in a kernel of its own (nil: never; the Go helper runs
	// it in every program). gen refuses a program whose emitter lacks one.
	Kernel func(s *Step) bool
}

// kinds holds every kind's row; its length is the number of kinds, so a
// kind without a row does not compile.
var kinds = [numKinds]KindRow{
	Pack:   {Name: "pack"},
	Unpack: {Name: "unpack"},
	Conv: {Name: "conv",
		Halo: func(s *Step) int { return s.Conv.Reach(s.In[0].Layout.H, s.In[0].Layout.W) },
		Pack: (*planner).packConv,
		Weights: func(s *Step) []int {
			if s.Conv.Algo == Winograd {
				return []int{s.Conv.KernelsOff, s.Conv.RawBiasOff}
			}
			return []int{s.Conv.WeightOff, s.Conv.BiasOff}
		},
		Kernel: func(*Step) bool { return true }},
	Linear: {Name: "linear",
		Pack:    (*planner).packLinear,
		Weights: func(s *Step) []int { return []int{s.Linear.WeightOff, s.Linear.BiasOff} }},
	MaxPool: {Name: "maxpool", SignKeeping: true,
		Halo: func(s *Step) int {
			if s.Conv != nil { // the assembly kernel reads the halo
				return s.Conv.Reach(s.In[0].Layout.H, s.In[0].Layout.W)
			}
			return 0
		},
		Kernel: func(s *Step) bool { return s.Conv != nil }}, // a window the halo serves
	AvgPool:       {Name: "avgpool"}, // the Go kernel reads the input values of each window only
	GlobalAvgPool: {Name: "global_avgpool"},
	Add:           {Name: "add", Pack: packLaneMask, Weights: laneMaskWeights, Kernel: elemKernel},
	Concat:        {Name: "concat", SignKeeping: true},
	Affine: {Name: "affine",
		Pack: func(p *planner, s *Step) {
			n := s.Nodes[0]
			s.Affine.ScaleOff = p.reserveVector(n, "scale", n.Shape.C, func() []float64 { return n.Affine.Scale })
			s.Affine.ShiftOff = p.reserveVector(n, "shift", n.Shape.C, func() []float64 { return n.Affine.Shift })
			packLaneMask(p, s)
		},
		Weights: func(s *Step) []int { return append([]int{s.Affine.ScaleOff, s.Affine.ShiftOff}, laneMaskWeights(s)...) },
		Kernel:  elemKernel},
	Activation: {Name: "activation", Pack: packLaneMask, Weights: laneMaskWeights, Kernel: elemKernel},
	Flatten:    {Name: "flatten"},
	Mul:        {Name: "mul", Pack: packLaneMask, Weights: laneMaskWeights, Kernel: elemKernel},
	// Windows of different sizes, overlapping or repeating values: the
	// Go kernel reads each one's values (others lower to AvgPool).
	AdaptiveAvgPool: {Name: "adaptive_avgpool"},
	// A copy of channels fusion could not fold into a convolution.
	Gather: {Name: "gather", SignKeeping: true},
	LayerNorm: {Name: "layernorm",
		Pack: func(p *planner, s *Step) {
			n := s.Nodes[0]
			c, eps := n.Norm.C, n.Norm.Eps
			if n.Norm.Weight == nil { // not affine: a weight of ones
				s.Norm.WeightOff = p.blob.reserve(n, "ones", padded(c), func(dst []float32) {
					for i := range c {
						dst[i] = 1
					}
				})
			} else {
				s.Norm.WeightOff = p.reserveVector(n, "weight", c, func() []float64 { return n.Norm.Weight })
			}
			s.Norm.BiasOff = p.reserveVector(n, "bias", c, func() []float64 { return n.Norm.Bias })
			// For the assembly: which lanes of the last channel block are
			// channels, then 1/C, eps and 1, each in a whole vector.
			s.Norm.MaskOff = p.reserveLaneMask(n, c)
			s.Norm.ConstOff = p.blob.reserve(n, "consts", 3*Group, func(dst []float32) {
				for i := 0; i < Group; i++ {
					dst[i], dst[Group+i], dst[2*Group+i] = float32(1/float64(c)), float32(eps), 1
				}
			})
		},
		Weights: func(s *Step) []int { return []int{s.Norm.WeightOff, s.Norm.BiasOff, s.Norm.MaskOff, s.Norm.ConstOff} },
		Kernel:  func(*Step) bool { return true }}, // ConvNeXt's and the transformers' per-pixel norm
	GRN: {Name: "grn",
		Pack: func(p *planner, s *Step) {
			// The closures read n.GRN when the sections are filled:
			// materialising a streamed node gives it its struct then.
			n := s.Nodes[0]
			c, eps := n.GRN.C, n.GRN.Eps
			s.GRN.GammaOff = p.reserveVector(n, "gamma", c, func() []float64 { return n.GRN.Gamma })
			s.GRN.BetaOff = p.reserveVector(n, "beta", c, func() []float64 { return n.GRN.Beta })
			// For the assembly: 1/C, eps and 1, each in a whole vector.
			s.GRN.ConstOff = p.blob.reserve(n, "consts", 3*Group, func(dst []float32) {
				for i := 0; i < Group; i++ {
					dst[i], dst[Group+i], dst[2*Group+i] = float32(1/float64(c)), float32(eps), 1
				}
			})
		},
		Weights: func(s *Step) []int { return []int{s.GRN.GammaOff, s.GRN.BetaOff, s.GRN.ConstOff} },
		Kernel:  func(*Step) bool { return true }}, // ConvNeXt-V2's and UniRepLKNet's every block
}

// Kinds lists every kind, for the emitters' tests.
func Kinds() []Kind {
	ks := make([]Kind, numKinds)
	for i := range ks {
		ks[i] = Kind(i)
	}
	return ks
}

// Row is k's row.
func (k Kind) Row() *KindRow {
	if k < 0 || k >= numKinds {
		panic(fmt.Sprintf("plan: no kind %d", int(k))) // a bug: steps hold only the kinds above
	}
	return &kinds[k]
}

func (k Kind) String() string { return k.Row().Name }

// NeedsKernel reports whether every assembly program runs step s in a
// kernel of its own (see KindRow.Kernel).
func (s *Step) NeedsKernel() bool {
	k := s.Kind.Row().Kernel
	return k != nil && k(s)
}
