package spec

import (
	"strconv"
	"strings"

	"github.com/goccy/go-yaml/ast"

	"github.com/acgen/acgen/internal/diag"
)

// checkValues applies the per-layer rules that need no other layer.
// Fields in reported were already reported as wrong or missing, and are
// not checked again.
func (p *parseState) checkValues(l *Layer, reported map[string]bool) {
	bad := func(field, format string, args ...any) {
		p.errs.Add(specError(l.FieldPos(field), l, format, args...))
	}
	info := ops[l.Op]
	for _, f := range []string{"out", "kernel", "stride", "groups", "dilation"} {
		if reported[f] || f == "stride" && !l.Has(f) && reported["kernel"] {
			continue // a pool's default stride is its kernel, already reported
		}
		if info.takes(f) && *l.intField(f) < 1 {
			bad(f, "%s must be at least 1", f)
			reported[f] = true
		}
	}
	switch l.Op {
	case ACBlock:
		if l.Kernel%2 == 0 && !reported["kernel"] {
			bad("kernel", "kernel %d is even; an ACBlock adds its 1xK and Kx1 kernels into the centre row and column of the KxK one, so K must be odd", l.Kernel)
		}
		if l.Dilation != 1 && !reported["dilation"] {
			bad("dilation", "dilation %d: ACNet pads the 1xK and Kx1 branches for dilation 1, so with dilation they do not line up with the KxK kernel's centre row and column and the trained block is not one convolution; use dilation 1 or plain conv layers", l.Dilation)
		}
	case RepVGG:
		if l.Kernel%2 == 0 && !reported["kernel"] {
			bad("kernel", "kernel %d is even; a RepVGG block adds its 1x1 kernel into the centre of the KxK one, so K must be odd", l.Kernel)
		}
		if l.Kernel >= 1 && l.Padding < l.Kernel/2 && !reported["padding"] {
			bad("padding", "padding %d is less than kernel/2 (%d): the 1x1 branch would need a negative padding (p - K/2), which the official block cannot build either", l.Padding, l.Kernel/2)
		}
	case DBB:
		if l.Kernel%2 == 0 && !reported["kernel"] {
			bad("kernel", "kernel %d is even; a DBB adds its branches into the centre of the KxK kernel, so K must be odd", l.Kernel)
		}
		if l.Padding != l.Kernel/2 && !reported["padding"] && !reported["kernel"] {
			bad("padding", "padding %d: a DBB pads by kernel/2 (%d), the only padding the official block takes", l.Padding, l.Kernel/2)
		}
		if l.Has("internal") && (l.Internal < 1 || l.Internal > MaxDim) && !reported["internal"] {
			bad("internal", "internal must be at least 1")
		}
	case MobileOne, QARepVGG, RepVGGDW, DilatedReparam, RepConv, LinearSum:
		p.checkReparam(l, reported)
	case MaxPool, AvgPool:
		if l.Kernel >= 1 && 2*l.Padding > l.Kernel && !reported["kernel"] && !reported["padding"] {
			bad("padding", "padding %d is more than half the kernel (%d), which PyTorch refuses too", l.Padding, l.Kernel)
		}
	}
	if l.Groups >= 1 && l.Out >= 1 && l.Out%l.Groups != 0 && !reported["out"] && !reported["groups"] {
		bad("groups", "out %d is not a multiple of groups %d", l.Out, l.Groups)
	}
}

// link resolves layer names: duplicates, each layer's inputs, the output.
func (p *parseState) link(net *Net) {
	byName := map[string]*Layer{}
	for _, l := range net.Layers {
		if l.Name == "" {
			continue
		}
		if first, dup := byName[l.Name]; dup {
			p.errs.Add(specError(l.FieldPos("name"), l, "the name is already used by the layer at line %d", first.Pos.Line))
			continue
		}
		byName[l.Name] = l
	}
	for i, l := range net.Layers {
		p.linkInputs(net, i, l, byName)
	}
	if net.Output != nil {
		name := net.Output.Name
		net.Output = byName[name]
		if net.Output == nil {
			p.errs.Add(p.unknownName(net.OutputPos, nil, "output", name, byName))
		}
	} else if len(net.Layers) > 0 {
		net.Output = net.Layers[len(net.Layers)-1]
	}
}

func (p *parseState) linkInputs(net *Net, i int, l *Layer, byName map[string]*Layer) {
	p.cur = l // errors about the names below name the layer
	defer func() { p.cur = nil }()
	info := ops[l.Op]
	node, given := p.inputsNode(l)
	if !given {
		if i > 0 {
			l.Inputs = []*Layer{net.Layers[i-1]}
		}
		if info.minInputs > 1 {
			p.errs.Add(specError(l.Pos, l, "op %s needs `inputs` naming at least %d layers", l.Op, info.minInputs))
		}
		return
	}
	if i == 0 {
		p.errs.Add(specError(l.FieldPos("inputs"), l, "the first layer reads the network input and takes no `inputs`"))
		return
	}
	var names []ast.Node
	switch v := node.(type) {
	case *ast.SequenceNode:
		names = v.Values
	default:
		names = []ast.Node{node}
	}
	for _, n := range names {
		name, ok := p.stringValue(n, "inputs")
		if !ok {
			continue
		}
		in, found := byName[name]
		switch {
		case !found:
			p.errs.Add(p.unknownName(p.pos(n), l, "inputs", name, byName))
		case in == l:
			p.errs.Add(specError(p.pos(n), l, "input %q is this layer itself; a layer reads earlier layers", name))
		case in.Index > l.Index:
			p.errs.Add(specError(p.pos(n), l, "input %q is layer #%d, which runs after this one (layers run in the order written)", name, in.Index))
		default:
			l.Inputs = append(l.Inputs, in)
		}
	}
	if len(l.Inputs) != len(names) {
		return // already reported
	}
	switch {
	case len(l.Inputs) < info.minInputs:
		p.errs.Add(specError(l.FieldPos("inputs"), l, "op %s needs at least %d inputs, got %d", l.Op, info.minInputs, len(l.Inputs)))
	case info.maxInputs > 0 && len(l.Inputs) > info.maxInputs:
		p.errs.Add(specError(l.FieldPos("inputs"), l, "op %s takes one input, got %d", l.Op, len(l.Inputs)))
	}
}

// inputsNode finds the AST node of a layer's `inputs`, which parse left
// unread because names can only be resolved once every layer is known.
func (p *parseState) inputsNode(l *Layer) (ast.Node, bool) {
	return l.inputsNode, l.inputsNode != nil
}

func (p *parseState) unknownName(pos Pos, l *Layer, field, name string, byName map[string]*Layer) error {
	msg := "no layer is named " + quote(name)
	if p.errs.Len() < diag.MaxShown { // a suggestion no one sees costs a scan of every name
		names := make([]string, 0, len(byName))
		for k := range byName {
			names = append(names, k)
		}
		if near := diag.Closest(name, names); near != "" {
			msg += "; did you mean " + quote(near) + "?"
		}
	}
	return specError(pos, l, "%s: %s", field, msg)
}

// quote quotes a name for a message: in backquotes when it holds quotes
// or backslashes (which %q would escape), unless a backquote or a
// non-printable character needs %q's escapes to keep the message on one
// printable line.
func quote(s string) string {
	printable := strings.IndexFunc(s, func(r rune) bool { return !strconv.IsPrint(r) }) < 0
	switch {
	case !printable:
		return strconv.Quote(s)
	case !strings.ContainsAny(s, "\"\\"):
		return `"` + s + `"`
	case !strings.ContainsRune(s, '`'):
		return "`" + s + "`"
	}
	return strconv.Quote(s)
}
