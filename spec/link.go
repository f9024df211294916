package spec

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml/ast"

	"github.com/acgen/acgen/internal/diag"
)

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
		net.Output, net.OutputPort = p.resolve(net.OutputPos, nil, "output", net.Output.Name, byName)
	} else if n := len(net.Layers); n > 0 {
		net.Output = net.Layers[n-1]
		if outs := net.Output.Outputs(); outs > 1 {
			p.errs.Add(specError(net.Output.Pos, net.Output, "the network returns the last layer, which has %d outputs: name one in `output`, as %s", outs, quote(net.Output.Name+":0")))
		}
	}
}

func (p *parseState) linkInputs(net *Net, i int, l *Layer, byName map[string]*Layer) {
	p.cur = l // errors about the names below name the layer
	defer func() { p.cur = nil }()
	info := ops[l.Op]
	node, given := p.inputsNode(l)
	if !given {
		if i > 0 {
			prev := net.Layers[i-1]
			l.Inputs, l.InputPorts = []*Layer{prev}, []int{0}
			if outs := prev.Outputs(); outs > 1 {
				p.errs.Add(specError(l.Pos, l, "the layer before, %s, has %d outputs: name the one this layer reads in `inputs`, as %s", prev, outs, quote(prev.Name+":0")))
			}
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
		name, pos, ok := p.refValue(n, "inputs")
		if !ok {
			continue
		}
		in, port := p.resolve(pos, l, "inputs", name, byName)
		switch {
		case in == nil:
			// reported
		case in == l:
			p.errs.Add(specError(pos, l, "input %q is this layer itself; a layer reads earlier layers", name))
		case in.Index > l.Index:
			p.errs.Add(specError(pos, l, "input %q is layer #%d, which runs after this one (layers run in the order written)", name, in.Index))
		default:
			l.Inputs = append(l.Inputs, in)
			l.InputPorts = append(l.InputPorts, port)
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

// refValue reads a reader's name of a layer, and where it is. Inside a
// flow mapping (`{op: relu, inputs: [s:1]}`) the YAML parser reads
// "s:1" as a mapping of s to 1; that is taken as the name it was
// written as (written so: the value right after the colon).
func (p *parseState) refValue(n ast.Node, what string) (string, Pos, bool) {
	if m, ok := n.(*ast.MappingNode); ok && len(m.Values) == 1 {
		k, v := m.Values[0].Key.GetToken(), m.Values[0].Value.GetToken()
		_, scalar := m.Values[0].Value.(ast.ScalarNode)
		if k != nil && v != nil && scalar && v.Position.Line == k.Position.Line && v.Position.Column == k.Position.Column+len(k.Value)+1 {
			return k.Value + ":" + v.Value, p.pos(m.Values[0].Key), true
		}
	}
	name, ok := p.stringValue(n, what)
	return name, p.pos(n), ok
}

// resolve finds the layer a reader names, and which of its outputs:
// "NAME", or "NAME:i" for output i of a layer of several (a split's). A
// layer whose own name holds a colon is found by it first. nil after
// reporting a name that names none, or a layer of several outputs
// without saying which.
func (p *parseState) resolve(pos Pos, l *Layer, field, name string, byName map[string]*Layer) (*Layer, int) {
	if in, ok := byName[name]; ok {
		if outs := in.Outputs(); outs > 1 {
			p.errs.Add(specError(pos, l, "%s: layer %s has %d outputs: name one, as %s", field, in, outs, quote(name+":0")))
			return nil, 0
		}
		return in, 0
	}
	base, index, found := strings.Cut(name, ":")
	in, ok := byName[base]
	if !found || !ok {
		p.errs.Add(p.unknownName(pos, l, field, name, byName))
		return nil, 0
	}
	port, err := strconv.Atoi(index)
	outs := in.Outputs()
	switch {
	case outs == 1:
		p.errs.Add(specError(pos, l, "%s: layer %s has one output; name it %s", field, in, quote(base)))
	case err != nil || port < 0 || port >= outs || index != strconv.Itoa(port):
		p.errs.Add(specError(pos, l, "%s: layer %s has outputs %s to %s, not %s", field, in, quote(base+":0"), quote(fmt.Sprintf("%s:%d", base, outs-1)), quote(name)))
	default:
		return in, port
	}
	return nil, 0
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
