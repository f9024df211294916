package spec

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml/ast"
)

// The steps of a linear_sum's branches: how the spec writes them, reads
// them and checks them on their own (graph checks how they line up).

// Step is one linear operation of a linear_sum branch, written as a flow
// mapping: {op: conv, key: K, out: N, kernel: K, stride: 1, padding: 0,
// groups: 1, dilation: 1} (nn.Conv2d under the checkpoint keys
// PREFIX.K.weight and, optionally, PREFIX.K.bias; out defaults to the
// layer's), {op: bn, key: K, eps: E} (nn.BatchNorm2d under PREFIX.K.*),
// {op: avgpool, kernel: K, stride: K, padding: 0} (nn.AvgPool2d counting
// the padding) or {op: pad, padding: P} (zeros on every side, F.pad).
type Step struct {
	Pos      Pos
	Op       Op // Conv, BN, AvgPool or Pad
	Key      string
	Out      int
	Kernel   int
	Stride   int
	Padding  int
	Groups   int
	Dilation int
	Eps      float64

	has map[string]bool // the fields written
}

// Pad is a linear_sum step only: zero padding on every side.
const Pad Op = "pad"

// stepFields are the fields each step op takes, besides op.
var stepFields = map[Op][]string{
	Conv:    {"key", "out", "kernel", "stride", "padding", "groups", "dilation"},
	BN:      {"key", "eps"},
	AvgPool: {"kernel", "stride", "padding"},
	Pad:     {"padding"},
}

// stepRequired are the fields a step op has no default for.
var stepRequired = map[Op][]string{
	Conv:    {"key", "kernel"},
	BN:      {"key"},
	AvgPool: {"kernel"},
	Pad:     {"padding"},
}

// branches reads linear_sum's list of branches, each a list of steps.
func (p *parseState) branches(n ast.Node) ([][]Step, bool) {
	seq, ok := n.(*ast.SequenceNode)
	if !ok {
		p.errorf(n, "branches must be a list of branches, each a list of steps such as [{op: conv, key: conv, kernel: 3, padding: 1}, {op: bn, key: bn}], not %s", describe(n))
		return nil, false
	}
	if len(seq.Values) == 0 {
		p.errorf(n, "branches is empty; a linear_sum has at least one branch")
		return nil, false
	}
	all := true
	var out [][]Step
	for i, b := range seq.Values {
		if p.unsupported(b) {
			all = false
			continue
		}
		steps, ok := b.(*ast.SequenceNode)
		if !ok {
			p.errorf(b, "branch %d must be a list of steps ([] for the input itself), not %s", i, describe(b))
			all = false
			continue
		}
		branch := []Step{}
		for _, s := range steps.Values {
			st, ok := p.step(s, i)
			all = all && ok
			branch = append(branch, st)
		}
		out = append(out, branch)
	}
	return out, all
}

// step reads one step of branch i.
func (p *parseState) step(n ast.Node, branch int) (Step, bool) {
	st := Step{Pos: p.pos(n), has: map[string]bool{}}
	if p.unsupported(n) {
		return st, false
	}
	m, ok := n.(*ast.MappingNode)
	if !ok {
		p.errorf(n, "branch %d: a step must be a mapping such as {op: bn, key: bn}, not %s", branch, describe(n))
		return st, false
	}
	entries, rejected := p.entries(m)
	if len(rejected) > 0 {
		return st, false
	}
	values := map[string]ast.Node{}
	for _, mv := range entries {
		key := keyName(mv)
		if _, dup := values[key]; dup {
			p.errorf(mv.Key, "branch %d: %q is given twice", branch, key)
			return st, false
		}
		values[key] = mv.Value
	}
	opNode, ok := values["op"]
	if !ok {
		p.errorf(n, "branch %d: the step has no op (conv, bn, avgpool or pad)", branch)
		return st, false
	}
	name, ok := p.stringValue(opNode, "op")
	if !ok {
		return st, false
	}
	st.Op = Op(name)
	fields, known := stepFields[st.Op]
	if !known {
		p.errorf(opNode, "branch %d: step op %q is not one of conv, bn, avgpool and pad", branch, name)
		return st, false
	}
	all := true
	for _, mv := range entries {
		key, v := keyName(mv), mv.Value
		switch {
		case key == "op":
		case !slices.Contains(fields, key):
			p.errorf(mv.Key, "branch %d: a %s step has no field %q; it takes %s", branch, st.Op, key, strings.Join(fields, ", "))
			all = false
		case key == "key":
			st.Key, ok = p.nameValue(v, "key")
			all = all && ok
		case key == "eps":
			st.Eps, ok = p.floatValue(v, "eps")
			all = all && ok
		default:
			x, ok := p.intValue(v, key)
			all = all && ok
			*st.intField(key) = x
		}
		st.has[key] = true
	}
	for _, f := range stepRequired[st.Op] {
		if !st.has[f] {
			p.errorf(n, "branch %d: a %s step needs `%s`", branch, st.Op, f)
			all = false
		}
	}
	return st, all
}

func (s *Step) intField(name string) *int {
	switch name {
	case "out":
		return &s.Out
	case "kernel":
		return &s.Kernel
	case "stride":
		return &s.Stride
	case "padding":
		return &s.Padding
	case "groups":
		return &s.Groups
	case "dilation":
		return &s.Dilation
	}
	panic(fmt.Sprintf("spec: no step field %q", name)) // stepFields and this switch disagree: a bug in acgen
}

// Has reports whether the spec wrote the step's field.
func (s *Step) Has(field string) bool { return s.has[field] }

// checkBranches checks linear_sum's steps on their own; shapes and how
// the branches line up are graph's to check.
func (p *parseState) checkBranches(l *Layer) {
	keys := map[string]Pos{}
	for i, b := range l.Branches {
		for _, s := range b {
			bad := func(format string, args ...any) {
				p.errs.Add(specError(s.Pos, l, "branch %d: "+format, append([]any{i}, args...)...))
			}
			for _, f := range []string{"out", "kernel", "stride", "groups", "dilation"} {
				if slices.Contains(stepFields[s.Op], f) && *s.intField(f) < 1 {
					bad("a %s step's %s must be at least 1", s.Op, f)
				}
			}
			if s.Op == Conv && s.Groups >= 1 && s.Out%s.Groups != 0 {
				bad("out %d is not a multiple of groups %d", s.Out, s.Groups)
			}
			if s.Op == AvgPool && s.Kernel >= 1 && 2*s.Padding > s.Kernel {
				bad("padding %d is more than half the kernel (%d), which PyTorch refuses too", s.Padding, s.Kernel)
			}
			if s.Key == "" {
				continue
			}
			if first, dup := keys[s.Key]; dup {
				bad("key %q is read by the step at line %d too; each step has its own", s.Key, first.Line)
			}
			keys[s.Key] = s.Pos
		}
	}
}

// String writes the step as a spec would, its fields resolved.
func (s Step) String() string {
	var f []string
	for _, name := range stepFields[s.Op] {
		switch name {
		case "key":
			f = append(f, "key: "+s.Key)
		case "eps":
			f = append(f, "eps: "+strconv.FormatFloat(s.Eps, 'g', -1, 64))
		default:
			f = append(f, fmt.Sprintf("%s: %d", name, *s.intField(name)))
		}
	}
	return "{op: " + string(s.Op) + ", " + strings.Join(f, ", ") + "}"
}
