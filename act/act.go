package act

import (
	"math"

	"github.com/acgen/acgen/spec"
)

// Func is one activation.
type Func struct {
	Op spec.Op
	// Ref is the activation in float64, as PyTorch defines it; p is the
	// parameter (LeakyReLU's slope), 0 for those without one.
	Ref func(x, p float64) float64
	// Go is the generated package's float32 expression of v (and p),
	// calling only the standard library and the helpers of Helpers.
	Go string
	// ZeroAtZero: f(0) == 0, so padded lanes and halos stay zero without
	// masking. Plan masks the padded lanes of the others.
	ZeroAtZero bool
	// NonNegative: every output is >= 0, which lets max pooling skip its
	// -inf padding.
	NonNegative bool
	// Exp: the vector code calls the vectorised exp, which needs more
	// registers than a kernel's epilogue has spare: the assembly applies
	// it in a second pass over the stored outputs.
	Exp bool
	// Param reads the activation's parameter from its spec layer (nil:
	// it has none, p is 0).
	Param func(l *spec.Layer) float64
	// Doc says what it is, in a few words.
	Doc string
}

// ParamOf is the parameter of f that layer l gives (0 when f takes none).
func (f *Func) ParamOf(l *spec.Layer) float64 {
	if f.Param == nil {
		return 0
	}
	return f.Param(l)
}

// None is the identity: no activation.
var None = &Func{Op: "", Ref: func(x, _ float64) float64 { return x }, Go: "v", ZeroAtZero: true}

// Table lists the activations; a kernel refers to one by its index
// (0 is None), so the order is fixed once generated packages exist.
var Table = []*Func{
	None,
	{Op: spec.ReLU, Ref: func(x, _ float64) float64 { return max(x, 0) }, Go: "max(v, 0)", ZeroAtZero: true, NonNegative: true,
		Doc: "nn.ReLU"},
	{Op: spec.ReLU6, Ref: func(x, _ float64) float64 { return min(max(x, 0), 6) }, Go: "min(max(v, 0), 6)", ZeroAtZero: true, NonNegative: true,
		Doc: "nn.ReLU6"},
	{Op: spec.LeakyReLU, Ref: func(x, p float64) float64 {
		if x < 0 {
			return x * p
		}
		return x
	}, Go: "leaky32(v, p)", ZeroAtZero: true, Param: func(l *spec.Layer) float64 { return l.Slope },
		Doc: "nn.LeakyReLU: x, or x*slope below 0"},
	{Op: spec.Hardswish, Ref: func(x, _ float64) float64 { return x * min(max(x+3, 0), 6) / 6 }, Go: "v * min(max(v+3, 0), 6) / 6", ZeroAtZero: true,
		Doc: "nn.Hardswish"},
	{Op: spec.Hardsigmoid, Ref: func(x, _ float64) float64 { return min(max(x+3, 0), 6) / 6 }, Go: "min(max(v+3, 0), 6) / 6", NonNegative: true,
		Doc: "nn.Hardsigmoid"},
	{Op: spec.Sigmoid, Ref: func(x, _ float64) float64 { return sigmoid(x) }, Go: "sigmoid32(v)", NonNegative: true, Exp: true,
		Doc: "nn.Sigmoid"},
	{Op: spec.SiLU, Ref: func(x, _ float64) float64 { return x * sigmoid(x) }, Go: "v * sigmoid32(v)", ZeroAtZero: true, Exp: true,
		Doc: "nn.SiLU (swish): x*sigmoid(x)"},
	{Op: spec.Tanh, Ref: func(x, _ float64) float64 { return math.Tanh(x) }, Go: "float32(math.Tanh(float64(v)))", ZeroAtZero: true, Exp: true,
		Doc: "nn.Tanh"},
	{Op: spec.GELU, Ref: gelu, Go: "gelu32(v, p)", ZeroAtZero: true, Exp: true, Param: func(l *spec.Layer) float64 {
		if l.Approximate == "tanh" {
			return GELUTanh
		}
		return 0
	}, Doc: "nn.GELU: x/2 (1 + erf(x/sqrt 2)), or with approximate tanh x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))"},
}

// GELUTanh is GELU's parameter for approximate: tanh (0 is the exact
// erf form).
const GELUTanh = 1

// gelu is GELU in float64, written so that it is exact in the tail too,
// where PyTorch's 1 + erf and 1 + tanh cancel: x/2 erfc(-x/sqrt 2), and
// for the tanh form x sigmoid(2u) (0.5 (1 + tanh u) is sigmoid(2u)).
func gelu(x, p float64) float64 {
	if p == GELUTanh {
		u := math.Sqrt(2/math.Pi) * (x + 0.044715*x*x*x)
		return x / (1 + math.Exp(-2*u))
	}
	return 0.5 * x * math.Erfc(-x/math.Sqrt2)
}

// Helpers is Go source the generated package needs for the Go
// expressions above.
const Helpers = `// leaky32 is LeakyReLU with slope p; NaN stays NaN.
func leaky32(v, p float32) float32 {
	if v < 0 {
		return v * p
	}
	return v
}

// sigmoid32 is 1/(1+e^-v), in float64 so that it is exact to float32
// rounding over the whole range.
func sigmoid32(v float32) float32 {
	return float32(1 / (1 + math.Exp(-float64(v))))
}

// gelu32 is GELU, exact (p = 0: x/2 erfc(-x/sqrt 2), which is
// x/2 (1 + erf(x/sqrt 2)) without its cancellation below 0) or PyTorch's
// tanh approximation (p = 1: x sigmoid(2 sqrt(2/pi) (x + 0.044715 x^3))),
// in float64 so that it is exact to float32 rounding.
func gelu32(v, p float32) float32 {
	x := float64(v)
	if p == 1 {
		u := math.Sqrt(2/math.Pi) * (x + 0.044715*x*x*x)
		return float32(x / (1 + math.Exp(-2*u)))
	}
	return float32(0.5 * x * math.Erfc(-x/math.Sqrt2))
}
`

func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

// Of returns the row for op, or nil if op is not an activation.
func Of(op spec.Op) *Func {
	for _, f := range Table[1:] {
		if f.Op == op {
			return f
		}
	}
	return nil
}

// Index is f's position in Table.
func (f *Func) Index() int {
	for i, g := range Table {
		if g == f {
			return i
		}
	}
	panic("act: a Func not in Table")
}

// Name is the op's name, "" for None.
func (f *Func) Name() string { return string(f.Op) }
