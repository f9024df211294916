package spec

import (
	"fmt"
	"strconv"

	"github.com/goccy/go-yaml/ast"
)

// Pos is a position in a spec file.
type Pos struct {
	File      string
	Line, Col int
}

func (p Pos) String() string {
	switch {
	case p.Line == 0:
		return p.File
	case p.Col == 0:
		return p.File + ":" + strconv.Itoa(p.Line)
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

// Net is a parsed spec with every default resolved.
type Net struct {
	File string // as given to Parse; used in positions

	Name    string // Go package name wanted by the spec author; may be empty
	NamePos Pos

	Input    [3]int // C, H, W of one sample
	InputPos Pos

	Layers []*Layer

	// Output is the layer whose result the network returns: the spec's
	// `output`, or the last layer; OutputPort is which of its outputs
	// (the i of "NAME:i").
	Output     *Layer
	OutputPort int
	OutputPos  Pos

	// Unread are the checkpoint prefixes of modules the network does not
	// run in eval mode (an Inception's auxiliary classifiers, which only
	// training uses): their keys are not reported as unread.
	Unread []string
}

// HW is a hyper-parameter with a value per axis, height and width. A
// spec writes one number for both or a list [h, w], as PyTorch takes an
// int or a tuple.
type HW struct{ H, W int }

// Square reports whether both axes have the same value.
func (v HW) Square() bool { return v.H == v.W }

// String writes v as a spec would: one number when square, else [h, w].
func (v HW) String() string {
	if v.Square() {
		return strconv.Itoa(v.H)
	}
	return fmt.Sprintf("[%d, %d]", v.H, v.W)
}

// Layer is one entry of the spec's layer list.
type Layer struct {
	Index int // position in Net.Layers
	Pos   Pos // where the layer's entry starts

	Name   string // may be empty for layers without weights
	Prefix string // checkpoint key prefix; Name unless the spec says `prefix:`
	Op     Op

	// Inputs are the layers this one reads, in order. Empty only for the
	// first layer, which reads the network input.
	Inputs []*Layer
	// InputPorts are which output of each input this layer reads: i for
	// an input written "NAME:i" (a split's), else 0. As long as Inputs.
	InputPorts []int

	// Hyper-parameters; only those that Op takes are meaningful, and each
	// holds its PyTorch default when the spec leaves it out.
	Out      int
	Kernel   HW // per axis: a spec writes one number for both, or [h, w]
	Stride   HW
	Padding  HW
	Dilation HW
	Groups   int
	Eps      float64
	Slope    float64 // LeakyReLU's negative slope
	Internal int     // a DBB's 1x1-KxK channels; 0: the official default
	Size     HW      // an adaptive pool's output
	Sizes    []int   // a split's outputs' channels
	// Approximate is GELU's form: "none" (erf) or "tanh".
	Approximate string
	// CeilMode rounds a pool's output size up, as PyTorch's ceil_mode.
	CeilMode bool
	// CountIncludePad: average pooling divides by the window's size
	// including its padding (PyTorch's default), else by the values
	// inside the input.
	CountIncludePad bool

	fields     map[string]Pos // where each field was written
	inputsNode ast.Node       // `inputs` as written, resolved by link
}

// Outputs is how many values the layer gives: a split's one per size,
// which readers name "NAME:i"; 1 for every other op.
func (l *Layer) Outputs() int {
	if l.Op == Split {
		return len(l.Sizes)
	}
	return 1
}

// FieldPos is the position of the named field, or of the layer when the
// field was left to its default.
func (l *Layer) FieldPos(field string) Pos {
	if p, ok := l.fields[field]; ok {
		return p
	}
	return l.Pos
}

// Has reports whether the spec wrote the field (rather than defaulting it).
func (l *Layer) Has(field string) bool {
	_, ok := l.fields[field]
	return ok
}

// String names the layer for messages: "conv1" (quoted), or for an
// unnamed layer its index and op: #3 (relu).
func (l *Layer) String() string {
	switch {
	case l.Name != "":
		return strconv.Quote(l.Name)
	case l.Op == "":
		return fmt.Sprintf("#%d", l.Index)
	}
	return fmt.Sprintf("#%d (%s)", l.Index, l.Op)
}
