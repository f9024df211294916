package spec

import (
	"strings"

	"github.com/goccy/go-yaml/ast"
)

var topFields = []string{"name", "input", "layers", "output", "unread"}

// net reads the top-level mapping. Layer references are resolved by link.
func (p *parseState) net(m *ast.MappingNode) *Net {
	net := &Net{File: p.file}
	seen := map[string]bool{}
	var layers, output ast.Node
	entries, rejected := p.entries(m)
	for key := range rejected {
		seen[key] = true // reported; not also "missing"
	}
	for _, mv := range entries {
		key := keyName(mv)
		if seen[key] {
			p.errorf(mv.Key, "%q is given twice", key)
			continue
		}
		seen[key] = true
		switch key {
		case "name":
			net.NamePos = p.pos(mv.Value)
			net.Name, _ = p.nameValue(mv.Value, "name")
		case "input":
			net.InputPos = p.pos(mv.Value)
			net.Input = p.input(mv.Value)
		case "layers":
			layers = mv.Value
		case "output":
			output = mv.Value
			net.OutputPos = p.pos(mv.Value)
		case "unread":
			net.Unread = p.names(mv.Value, "unread")
		default:
			p.errorf(mv.Key, "unknown field %q; a spec has %s", key, strings.Join(topFields, ", "))
		}
	}
	if !seen["input"] && !rejected[mergeKey] {
		p.errorf(m, "the spec has no `input: [C, H, W]`")
	}
	if layers == nil {
		if !rejected["layers"] && !rejected[mergeKey] {
			p.errorf(m, "the spec has no `layers` list")
		}
		return net
	}
	seq, ok := layers.(*ast.SequenceNode)
	if !ok {
		p.errorf(layers, "`layers` must be a list of layers, not %s", describe(layers))
		return net
	}
	if len(seq.Values) == 0 {
		p.errorf(layers, "`layers` is empty; a spec needs at least one layer")
		return net
	}
	if len(seq.Values) > MaxLayers {
		p.errorf(layers, "%d layers is more than acgen takes (%d)", len(seq.Values), MaxLayers)
		return net
	}
	for i, n := range seq.Values {
		if l := p.layer(i, n); l != nil {
			net.Layers = append(net.Layers, l)
		}
	}
	if output != nil {
		if name, ok := p.nameValue(output, "output"); ok {
			net.Output = &Layer{Name: name} // resolved by link
		}
	}
	return net
}

func (p *parseState) input(n ast.Node) [3]int {
	var in [3]int
	seq, ok := n.(*ast.SequenceNode)
	if !ok {
		p.errorf(n, "input must be [C, H, W], three whole numbers, not %s", describe(n))
		return in
	}
	if len(seq.Values) != 3 {
		p.errorf(n, "input must be [C, H, W], three whole numbers, not %d of them", len(seq.Values))
		return in
	}
	for i, v := range seq.Values {
		x, ok := p.intValue(v, "input "+[]string{"C", "H", "W"}[i])
		if ok && x == 0 {
			p.errorf(v, "input %s must be at least 1", []string{"C", "H", "W"}[i])
		}
		in[i] = x
	}
	return in
}

// layer reads one entry of the layer list.
func (p *parseState) layer(index int, n ast.Node) *Layer {
	if p.unsupported(n) {
		return nil
	}
	m, ok := n.(*ast.MappingNode)
	if !ok {
		p.errorf(n, "layer %d must be a mapping such as {name: relu1, op: relu}, not %s", index, describe(n))
		return nil
	}
	l := &Layer{Index: index, Pos: p.pos(m), fields: map[string]Pos{}}
	p.cur = l // errors about the values below name the layer
	defer func() { p.cur = nil }()
	entries, rejected := p.entries(m)
	values := map[string]ast.Node{}
	for _, mv := range entries {
		key := keyName(mv)
		if _, dup := values[key]; dup {
			p.errs.Add(specError(p.pos(mv.Key), l, "%q is given twice", key))
			continue
		}
		values[key] = mv.Value
		l.fields[key] = p.pos(mv.Value)
	}
	// reported holds the fields already reported as wrong or missing, so
	// that their zero values cause no second message.
	reported := map[string]bool{}
	for key := range rejected {
		reported[key] = true
	}
	if v, ok := values["name"]; ok {
		var ok bool
		if l.Name, ok = p.nameValue(v, "name"); !ok {
			reported["name"] = true
		}
	}
	opNode, ok := values["op"]
	if !ok {
		if !reported["op"] && !rejected[mergeKey] {
			p.errs.Add(specError(l.Pos, l, "no op; known ops: %s", strings.Join(KnownOps(), ", ")))
		}
		return nil
	}
	opName, ok := p.stringValue(opNode, "op")
	if !ok {
		return nil
	}
	l.Op = Op(opName)
	info, known := ops[l.Op]
	if !known {
		p.errs.Add(specError(p.pos(opNode), l, "unknown op %q%s; known ops: %s", opName, didYouMean(opName, KnownOps()), strings.Join(KnownOps(), ", ")))
		return nil
	}
	for _, mv := range entries {
		key := keyName(mv)
		v := mv.Value
		switch {
		case key == "name" || key == "op":
		case key == "inputs":
			l.inputsNode = v // resolved by link
		case key == "prefix":
			if !info.weights {
				p.errs.Add(specError(p.pos(mv.Key), l, "op %s has no weights, so `prefix` means nothing", l.Op))
				continue
			}
			var ok bool
			if l.Prefix, ok = p.nameValue(v, "prefix"); !ok {
				reported["prefix"] = true
			}
		case info.takes(key):
			if !p.readField(l, key, v) {
				reported[key] = true
			}
		default:
			takes := append([]string{"name", "inputs"}, info.fields...)
			if info.weights {
				takes = append(takes, "prefix")
			}
			p.errs.Add(specError(p.pos(mv.Key), l, "op %s has no field %q%s; it takes %s", l.Op, key, didYouMean(key, takes), strings.Join(takes, ", ")))
		}
	}
	for _, f := range info.required {
		if _, ok := values[f]; !ok && !reported[f] {
			p.errs.Add(specError(l.Pos, l, "op %s needs `%s`", l.Op, f))
			reported[f] = true
		}
	}
	applyDefaults(l)
	p.checkValues(l, reported)
	if info.weights && l.Name == "" && l.Prefix == "" && !reported["name"] && !reported["prefix"] {
		p.errs.Add(specError(l.Pos, l, "op %s has weights, so it needs a `name` to find them in the checkpoint", l.Op))
	}
	if l.Prefix == "" {
		l.Prefix = l.Name
	}
	return l
}

// names reads a list of names (a single name is a list of one).
func (p *parseState) names(n ast.Node, what string) []string {
	values := []ast.Node{n}
	if seq, ok := n.(*ast.SequenceNode); ok {
		values = seq.Values
	}
	var out []string
	for _, v := range values {
		if name, ok := p.nameValue(v, what); ok {
			out = append(out, name)
		}
	}
	return out
}
