package spec

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml/ast"
)

// fieldKind is how a hyper-parameter is written and stored.
type fieldKind int

const (
	intKind   fieldKind = iota // a whole number: out, groups
	hwKind                     // a whole number for both axes, or [h, w]: kernel, stride
	floatKind                  // a positive number: eps, slope
	boolKind                   // true or false: ceil_mode
	listKind                   // a list of whole numbers: sizes
	wordKind                   // one of a few names: approximate
)

// words are the names a wordKind field may take, the default first.
var words = map[string][]string{"approximate": {"none", "tanh"}}

// fieldKinds holds every hyper-parameter an op's fields may name.
var fieldKinds = map[string]fieldKind{
	"out":               intKind,
	"groups":            intKind,
	"internal":          intKind,
	"kernel":            hwKind,
	"stride":            hwKind,
	"padding":           hwKind,
	"dilation":          hwKind,
	"size":              hwKind,
	"eps":               floatKind,
	"slope":             floatKind,
	"p":                 floatKind,
	"ceil_mode":         boolKind,
	"count_include_pad": boolKind,
	"sizes":             listKind,
	"approximate":       wordKind,
}

// readField reads the value n of field key into l, reporting a value of
// the wrong kind; false when it did.
func (p *parseState) readField(l *Layer, key string, n ast.Node) bool {
	switch fieldKinds[key] {
	case intKind:
		v, ok := p.intValue(n, key)
		*l.intField(key) = v
		return ok
	case hwKind:
		v, ok := p.hwValue(n, key)
		*l.hwField(key) = v
		return ok
	case floatKind:
		var ignored float64 // dropout's p
		dst := map[string]*float64{"eps": &l.Eps, "slope": &l.Slope, "p": &ignored}[key]
		v, ok := p.floatValue(n, key)
		*dst = v
		return ok
	case boolKind:
		v, ok := p.boolValue(n, key)
		*l.boolField(key) = v
		return ok
	case listKind:
		v, ok := p.intList(n, key)
		l.Sizes = v
		return ok
	case wordKind:
		v, ok := p.stringValue(n, key)
		if ok && !slices.Contains(words[key], v) {
			p.errorf(n, "%s must be %s, not %q", key, strings.Join(words[key], " or "), v)
			ok = false
		}
		l.Approximate = v
		return ok
	}
	panic(fmt.Sprintf("spec: field %q has no kind", key)) // the ops table and fieldKinds disagree: a bug in acgen
}

// hwValue reads a whole number for both axes, or a list [h, w] of them.
func (p *parseState) hwValue(n ast.Node, what string) (HW, bool) {
	seq, ok := n.(*ast.SequenceNode)
	if !ok {
		if _, isInt := n.(*ast.IntegerNode); !isInt {
			p.errorf(n, "%s must be a whole number or [h, w], not %s", what, describe(n))
			return HW{}, false
		}
		v, ok := p.intValue(n, what)
		return HW{v, v}, ok
	}
	if len(seq.Values) != 2 {
		p.errorf(n, "%s must be a whole number or [h, w], two of them, not %d", what, len(seq.Values))
		return HW{}, false
	}
	h, okH := p.intValue(seq.Values[0], what+" h")
	w, okW := p.intValue(seq.Values[1], what+" w")
	return HW{h, w}, okH && okW
}

// intList reads a non-empty list of whole numbers, each at least 1.
func (p *parseState) intList(n ast.Node, what string) ([]int, bool) {
	seq, ok := n.(*ast.SequenceNode)
	switch {
	case !ok:
		p.errorf(n, "%s must be a list of whole numbers, not %s", what, describe(n))
		return nil, false
	case len(seq.Values) == 0:
		p.errorf(n, "%s is empty; it must list at least one", what)
		return nil, false
	}
	vs := make([]int, len(seq.Values))
	good := true
	for i, v := range seq.Values {
		x, ok := p.intValue(v, what)
		if ok && x < 1 {
			p.errorf(v, "%s must be at least 1", what)
			ok = false
		}
		vs[i], good = x, good && ok
	}
	return vs, good
}

// boolValue reads true or false.
func (p *parseState) boolValue(n ast.Node, what string) (bool, bool) {
	b, ok := n.(*ast.BoolNode)
	if !ok {
		p.errorf(n, "%s must be true or false, not %s", what, describe(n))
		return false, false
	}
	return b.Value, true
}

func (l *Layer) intField(name string) *int {
	switch name {
	case "out":
		return &l.Out
	case "groups":
		return &l.Groups
	case "internal":
		return &l.Internal
	}
	panic(fmt.Sprintf("spec: no int field %q", name)) // fieldKinds and this switch disagree: a bug in acgen
}

func (l *Layer) hwField(name string) *HW {
	switch name {
	case "kernel":
		return &l.Kernel
	case "stride":
		return &l.Stride
	case "padding":
		return &l.Padding
	case "dilation":
		return &l.Dilation
	case "size":
		return &l.Size
	}
	panic(fmt.Sprintf("spec: no [h, w] field %q", name)) // fieldKinds and this switch disagree: a bug in acgen
}

func (l *Layer) boolField(name string) *bool {
	switch name {
	case "ceil_mode":
		return &l.CeilMode
	case "count_include_pad":
		return &l.CountIncludePad
	}
	panic(fmt.Sprintf("spec: no bool field %q", name)) // fieldKinds and this switch disagree: a bug in acgen
}

// FieldValue is the value of hyper-parameter name of l's op, written as a
// spec would write it; "" for a field the op takes but acgen ignores
// (dropout's p).
func (l *Layer) FieldValue(name string) string {
	switch name {
	case "eps":
		return strconv.FormatFloat(l.Eps, 'g', -1, 64)
	case "slope":
		return strconv.FormatFloat(l.Slope, 'g', -1, 64)
	case "p":
		return ""
	}
	switch fieldKinds[name] {
	case hwKind:
		return l.hwField(name).String()
	case boolKind:
		return strconv.FormatBool(*l.boolField(name))
	case listKind:
		return strings.ReplaceAll(fmt.Sprint(l.Sizes), " ", ", ")
	case wordKind:
		return l.Approximate
	}
	return strconv.Itoa(*l.intField(name))
}
