package spec

import "sort"

// Op is a layer's operation, as written in the spec.
type Op string

// The ops a spec may use. Defaults follow PyTorch.
const (
	// ACBlock is an ACNet asymmetric convolution block: KxK, 1xK and Kx1
	// convolutions, each with its own BatchNorm, summed. Fields: out,
	// kernel (odd, 3), stride (1), padding (kernel/2), groups (1),
	// dilation (1; nothing else is equivalent to one conv), eps (1e-5).
	ACBlock Op = "acblock"
	// RepVGG is the official RepVGGBlock without its ReLU: a KxK conv + BN
	// (rbr_dense), a 1x1 conv + BN (rbr_1x1, padded p-K/2) and, when in ==
	// out channels and stride is 1, a BN of the input (rbr_identity),
	// summed. Fields as acblock: out, kernel (3, odd), stride (1), padding
	// (kernel/2, at least kernel/2), groups (1), eps (1e-5).
	RepVGG Op = "repvgg"
	// DBB is the official DiverseBranchBlock without its nonlinearity:
	// dbb_origin (KxK conv + BN), dbb_1x1 (1x1 conv + BN, when groups <
	// out), dbb_avg (1x1 conv, BN-and-pad, KxK average pool, BN; or, for a
	// depthwise block, the pool and BN alone) and dbb_1x1_kxk (1x1 conv,
	// BN-and-pad, KxK conv, BN), summed. Fields: out, kernel (3),
	// stride (1), padding (kernel/2, the only one the block takes),
	// groups (1), internal (the 1x1-KxK branch's channels; default in,
	// or 2*in when groups >= out, as the official block), eps (1e-5).
	DBB Op = "dbb"
	// MobileOne is Apple's MobileOneBlock (apple/ml-mobileone) without its
	// SE and ReLU: conv_branches KxK conv + BN branches (rbr_conv.i), a
	// 1x1 conv + BN (rbr_scale, when kernel > 1) and, when in == out
	// channels and stride is 1, a BN of the input (rbr_skip), summed.
	// The official network uses it twice per layer, depthwise (kernel 3,
	// groups = channels) then pointwise (kernel 1): two layers of this op.
	// Fields: out, kernel (3, odd), stride (1), padding (kernel/2, the only
	// one the block takes), groups (1), conv_branches (1), eps (1e-5).
	MobileOne Op = "mobileone"
	// QARepVGG is YOLOv6's QARepVGGBlock (version 1) or QARepVGGBlockV2
	// (version 2) without its ReLU: a KxK conv + BN (rbr_dense), a 1x1
	// conv without BN or bias (rbr_1x1) and, when in == out channels and
	// stride is 1, the input itself (version 2: and its KxK average
	// pool, rbr_avg), summed, then a BN (bn). Fields: out, kernel (3,
	// odd), stride (1), padding (kernel/2 only), groups (1), version (1),
	// eps (1e-5).
	QARepVGG Op = "qarepvgg"
	// RepVGGDW is RepViT's RepVGGDW: a depthwise 3x3 conv + BN (conv.c,
	// conv.bn), a depthwise 1x1 conv with bias (conv1) and the input,
	// summed, then a BN (bn). Its output has the input's shape. Fields:
	// eps (1e-5).
	RepVGGDW Op = "repvggdw"
	// DilatedReparam is UniRepLKNet's DilatedReparamBlock: a depthwise
	// KxK conv + BN (lk_origin, origin_bn) and, for each k, r of kernels
	// and dilations, a depthwise kxk conv of dilation r + BN
	// (dil_conv_k{k}_{r}, dil_bn_k{k}_{r}), summed; stride 1, the input's
	// shape. Fields: kernel (required, odd), kernels and dilations (lists;
	// the official ones for kernel 5 to 17), eps (1e-5).
	DilatedReparam Op = "dilated_reparam"
	// RepConv is the YOLO families' RepConv (ultralytics nn/modules/conv.py)
	// without its activation: a KxK conv + BN (conv1), a 1x1 conv + BN
	// (conv2, padded p-K/2) and, with identity 1 (RepConv's bn=True) when
	// in == out channels and stride is 1, a BN of the input (bn), summed.
	// Fields: out, kernel (3, odd), stride (1), padding (kernel/2, at
	// least that), groups (1), identity (0), eps (1e-5).
	RepConv Op = "repconv"
	// LinearSum is any sum of branches that are each a chain of linear
	// steps of the layer's input (conv, bn, avgpool, pad; an empty chain
	// is the input itself): one convolution in inference. Fields: out,
	// branches (a list of branches, each a list of steps such as
	// {op: conv, key: dense.conv, kernel: 3, padding: 1}; see
	// steps.go), eps (1e-5, the steps' BatchNorms' default).
	LinearSum Op = "linear_sum"
	// Conv is nn.Conv2d: out, kernel, stride (1), padding (0), groups (1),
	// dilation (1); kernel, stride, padding and dilation are a number or
	// [h, w].
	Conv Op = "conv"
	// BN is nn.BatchNorm2d in eval mode: eps (1e-5).
	BN Op = "bn"
	// Linear is nn.Linear on the input flattened in C,H,W order: out.
	Linear Op = "linear"
	// ReLU and ReLU6 are the activations of the same names.
	ReLU  Op = "relu"
	ReLU6 Op = "relu6"
	// LeakyReLU is nn.LeakyReLU: slope (0.01, positive).
	LeakyReLU Op = "leaky_relu"
	// Hardswish, Hardsigmoid, Sigmoid, SiLU (swish) and Tanh are the
	// activations of the same names (package act has every activation).
	Hardswish   Op = "hardswish"
	Hardsigmoid Op = "hardsigmoid"
	Sigmoid     Op = "sigmoid"
	SiLU        Op = "silu"
	Tanh        Op = "tanh"
	// GELU is nn.GELU: approximate (none, the exact x/2 (1 + erf(x/sqrt 2));
	// or tanh, PyTorch's approximation).
	GELU Op = "gelu"
	// Dropout is nn.Dropout (and Dropout2d, AlphaDropout...): the identity
	// in inference, which graph.Build leaves out; p is accepted and
	// ignored.
	Dropout Op = "dropout"
	// Mul multiplies two inputs of one shape elementwise (hardswish
	// written as x * hardsigmoid(x)), or a C,H,W input by a C,1,1 one
	// channel by channel, in either order: the scaling of a
	// squeeze-and-excitation block.
	Mul Op = "mul"
	// MaxPool is nn.MaxPool2d: kernel, stride (kernel), padding (0),
	// dilation (1), ceil_mode (false). AvgPool is nn.AvgPool2d: kernel,
	// stride (kernel), padding (0), ceil_mode (false) and
	// count_include_pad (true). kernel, stride, padding and dilation are
	// a number or [h, w].
	MaxPool Op = "maxpool"
	AvgPool Op = "avgpool"
	// AdaptiveAvgPool is nn.AdaptiveAvgPool2d: size, the output's height
	// and width (a number or [h, w]); output i of an axis of n inputs
	// averages inputs floor(i*n/size) to ceil((i+1)*n/size)-1.
	AdaptiveAvgPool Op = "adaptive_avgpool"
	// GlobalAvgPool averages each channel to one value.
	GlobalAvgPool Op = "global_avgpool"
	// Flatten reshapes C,H,W to C*H*W channels of 1x1.
	Flatten Op = "flatten"
	// Split is torch.split (and chunk) along channels: sizes, the
	// channels of each output, which a reader names "NAME:i" (i from 0).
	Split Op = "split"
	// ChannelShuffle is nn.ChannelShuffle (ShuffleNet's view, transpose,
	// view): groups; output channel j is input channel
	// (j % groups)*(C/groups) + j/groups.
	ChannelShuffle Op = "channel_shuffle"
	// LayerNorm normalises the channels of each pixel (ConvNeXt's
	// LayerNorm2d; nn.LayerNorm between permutes): eps (1e-5); weight and
	// bias [C], each optional.
	LayerNorm Op = "layernorm"
	// GRN is global response normalisation (ConvNeXt-V2's and
	// UniRepLKNet's GRN on a channels-last tensor): each channel's L2
	// norm over the image, divided by the mean of those norms plus eps
	// (1e-6), gives x*(gamma*N + 1) + beta; gamma and beta [1, 1, 1, C],
	// beta optional.
	GRN Op = "grn"
	// Scale multiplies each channel by a learned parameter whose
	// checkpoint key is the layer's prefix itself, [C, 1, 1] or [C]
	// (ConvNeXt's layer scale).
	Scale Op = "scale"
	// Add sums two or more inputs of one shape.
	Add Op = "add"
	// Concat joins two or more inputs along channels.
	Concat Op = "concat"
)

// opInfo is what the parser knows about an op.
type opInfo struct {
	fields    []string // hyper-parameters it takes, besides name/op/inputs/prefix
	required  []string // of those, the ones without a default
	weights   bool     // reads checkpoint keys under its prefix
	minInputs int
	maxInputs int // 0: no limit
}

var ops = map[Op]opInfo{
	ACBlock:         {fields: []string{"out", "kernel", "stride", "padding", "groups", "dilation", "eps"}, required: []string{"out"}, weights: true, minInputs: 1, maxInputs: 1},
	Conv:            {fields: []string{"out", "kernel", "stride", "padding", "groups", "dilation"}, required: []string{"out", "kernel"}, weights: true, minInputs: 1, maxInputs: 1},
	RepVGG:          {fields: []string{"out", "kernel", "stride", "padding", "groups", "eps"}, required: []string{"out"}, weights: true, minInputs: 1, maxInputs: 1},
	DBB:             {fields: []string{"out", "kernel", "stride", "padding", "groups", "internal", "eps"}, required: []string{"out"}, weights: true, minInputs: 1, maxInputs: 1},
	BN:              {fields: []string{"eps"}, weights: true, minInputs: 1, maxInputs: 1},
	Linear:          {fields: []string{"out"}, required: []string{"out"}, weights: true, minInputs: 1, maxInputs: 1},
	ReLU:            {minInputs: 1, maxInputs: 1},
	ReLU6:           {minInputs: 1, maxInputs: 1},
	LeakyReLU:       {fields: []string{"slope"}, minInputs: 1, maxInputs: 1},
	Hardswish:       {minInputs: 1, maxInputs: 1},
	Hardsigmoid:     {minInputs: 1, maxInputs: 1},
	Sigmoid:         {minInputs: 1, maxInputs: 1},
	SiLU:            {minInputs: 1, maxInputs: 1},
	Tanh:            {minInputs: 1, maxInputs: 1},
	GELU:            {fields: []string{"approximate"}, minInputs: 1, maxInputs: 1},
	Mul:             {minInputs: 2, maxInputs: 2},
	Dropout:         {fields: []string{"p"}, minInputs: 1, maxInputs: 1},
	MaxPool:         {fields: []string{"kernel", "stride", "padding", "dilation", "ceil_mode"}, required: []string{"kernel"}, minInputs: 1, maxInputs: 1},
	AvgPool:         {fields: []string{"kernel", "stride", "padding", "ceil_mode", "count_include_pad"}, required: []string{"kernel"}, minInputs: 1, maxInputs: 1},
	GlobalAvgPool:   {minInputs: 1, maxInputs: 1},
	AdaptiveAvgPool: {fields: []string{"size"}, required: []string{"size"}, minInputs: 1, maxInputs: 1},
	Flatten:         {minInputs: 1, maxInputs: 1},
	Split:           {fields: []string{"sizes"}, required: []string{"sizes"}, minInputs: 1, maxInputs: 1},
	ChannelShuffle:  {fields: []string{"groups"}, required: []string{"groups"}, minInputs: 1, maxInputs: 1},
	LayerNorm:       {fields: []string{"eps"}, weights: true, minInputs: 1, maxInputs: 1},
	GRN:             {fields: []string{"eps"}, weights: true, minInputs: 1, maxInputs: 1},
	Scale:           {weights: true, minInputs: 1, maxInputs: 1},
	Add:             {minInputs: 2},
	Concat:          {minInputs: 2},
}

// Inputs are how many inputs the op takes: at least min, at most max (0:
// no limit).
func (o Op) Inputs() (min, max int) { return ops[o].minInputs, ops[o].maxInputs }

// HasWeights reports whether the op reads weights from the checkpoint.
func (o Op) HasWeights() bool { return ops[o].weights }

// Known reports whether o is an op acgen knows.
func (o Op) Known() bool { _, ok := ops[o]; return ok }

// KnownOps lists the ops a spec may use, sorted.
func KnownOps() []string {
	var names []string
	for o := range ops {
		names = append(names, string(o))
	}
	sort.Strings(names)
	return names
}

func (o opInfo) takes(field string) bool {
	for _, f := range o.fields {
		if f == field {
			return true
		}
	}
	return false
}

// applyDefaults fills the fields the spec left out with PyTorch's defaults.
func applyDefaults(l *Layer) {
	def := func(field string, v *HW, d HW) {
		if !l.Has(field) {
			*v = d
		}
	}
	def("stride", &l.Stride, HW{1, 1})
	def("dilation", &l.Dilation, HW{1, 1})
	if !l.Has("groups") {
		l.Groups = 1
	}
	if !l.Has("eps") {
		l.Eps = 1e-5
		if l.Op == GRN {
			l.Eps = 1e-6 // ConvNeXt-V2's constant
		}
	}
	if !l.Has("slope") {
		l.Slope = 0.01
	}
	if !l.Has("count_include_pad") {
		l.CountIncludePad = true
	}
	if !l.Has("approximate") {
		l.Approximate = "none"
	}
	switch l.Op {
	case ACBlock, RepVGG, DBB, MobileOne, QARepVGG, RepConv:
		def("kernel", &l.Kernel, HW{3, 3})
		def("padding", &l.Padding, HW{l.Kernel.H / 2, l.Kernel.W / 2})
	case MaxPool, AvgPool:
		def("stride", &l.Stride, l.Kernel)
	}
	reparamDefaults(l)
}

// Fields lists the hyper-parameters op takes, in the spec's order (not
// name, inputs and prefix, which every op may have).
func (o Op) Fields() []string { return append([]string(nil), ops[o].fields...) }
