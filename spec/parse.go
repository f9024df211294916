package spec

import (
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"

	yaml "github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"

	"github.com/acgen/acgen/internal/diag"
)

// Limits on what a spec may declare. They keep a hostile or mistaken spec
// from driving later stages into overflow; real networks are far inside.
const (
	MaxFileBytes = 16 << 20
	MaxLayers    = 1 << 16
	MaxDim       = 1 << 20 // channels, sizes, kernel, stride, padding
)

// Load reads and parses the spec file at path.
func Load(path string) (*Net, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size() > MaxFileBytes {
		return nil, specError(Pos{File: path}, nil, "%d bytes is larger than a spec can be (%d)", st.Size(), MaxFileBytes)
	}
	data := make([]byte, st.Size())
	if _, err := f.ReadAt(data, 0); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return Parse(path, data)
}

// Parse parses a spec held in memory; file names it in positions.
// The error, if any, lists every problem found (at most diag.MaxShown
// are printed), one a line, each with its file:line:col.
func Parse(file string, data []byte) (*Net, error) {
	if len(data) > MaxFileBytes {
		return nil, specError(Pos{File: file}, nil, "%d bytes is larger than a spec can be (%d)", len(data), MaxFileBytes)
	}
	p := &parseState{file: file}
	root, err := p.document(data)
	if err != nil {
		return nil, err
	}
	net := p.net(root)
	if p.errs.Len() == 0 {
		p.link(net)
	}
	if err := p.errs.Err(); err != nil {
		return nil, err
	}
	return net, nil
}

type parseState struct {
	file string
	errs diag.List
}

func (p *parseState) pos(n ast.Node) Pos {
	if n == nil || n.GetToken() == nil {
		return Pos{File: p.file}
	}
	// A block mapping's token is its first value; its first key is where
	// a reader sees it start.
	if m, ok := n.(*ast.MappingNode); ok && !m.IsFlowStyle && len(m.Values) > 0 {
		n = m.Values[0].Key
	}
	tp := n.GetToken().Position
	return Pos{File: p.file, Line: tp.Line, Col: tp.Column}
}

func (p *parseState) errorf(n ast.Node, format string, args ...any) {
	p.errs.Add(specError(p.pos(n), nil, format, args...))
}

// document parses the YAML and returns the top-level mapping.
func (p *parseState) document(data []byte) (*ast.MappingNode, error) {
	f, err := parseYAML(data)
	if err != nil {
		var ye yaml.Error
		if errors.As(err, &ye) && ye.GetToken() != nil {
			tp := ye.GetToken().Position
			return nil, specError(Pos{p.file, tp.Line, tp.Column}, nil, "%s", ye.GetMessage())
		}
		return nil, specError(Pos{File: p.file}, nil, "%v", err)
	}
	var body ast.Node
	docs := 0
	for _, d := range f.Docs {
		if d.Body != nil {
			body = d.Body
			docs++
		}
	}
	if docs > 1 {
		return nil, specError(Pos{File: p.file}, nil, "holds %d YAML documents; a spec is one", docs)
	}
	if body == nil {
		return nil, specError(Pos{File: p.file}, nil, "is empty; a spec needs at least `input` and `layers`")
	}
	m, ok := body.(*ast.MappingNode)
	if !ok {
		return nil, specError(p.pos(body), nil, "the spec must be a mapping with `input` and `layers`, not %s", describe(body))
	}
	return m, nil
}

// parseYAML wraps the YAML parser so that a bug in it surfaces as an
// error about the file rather than a crash of the user's run.
func parseYAML(data []byte) (f *ast.File, err error) {
	defer func() {
		if r := recover(); r != nil {
			f, err = nil, fmt.Errorf("YAML parser failed: %v", r)
		}
	}()
	return parser.ParseBytes(data, 0)
}

// entries returns the key/value pairs of a mapping, reporting keys that are
// not plain strings, and aliases (which the spec format does not use and
// which could otherwise expand without bound).
func (p *parseState) entries(m *ast.MappingNode) []*ast.MappingValueNode {
	var out []*ast.MappingValueNode
	for _, mv := range m.Values {
		if _, ok := mv.Key.(*ast.StringNode); !ok {
			p.errorf(mv.Key, "key %s is not a name", mv.Key)
			continue
		}
		if usesAlias(mv.Value) {
			p.errorf(mv.Value, "anchors and aliases are not supported in a spec")
			continue
		}
		out = append(out, mv)
	}
	return out
}

func usesAlias(n ast.Node) bool {
	switch v := n.(type) {
	case *ast.AliasNode, *ast.AnchorNode, *ast.MergeKeyNode:
		return true
	case *ast.MappingNode:
		for _, mv := range v.Values {
			if usesAlias(mv.Key) || usesAlias(mv.Value) {
				return true
			}
		}
	case *ast.SequenceNode:
		for _, e := range v.Values {
			if usesAlias(e) {
				return true
			}
		}
	case *ast.TagNode:
		return true
	}
	return false
}

func keyName(mv *ast.MappingValueNode) string {
	return mv.Key.(*ast.StringNode).Value
}

// describe names a node's kind for messages.
func describe(n ast.Node) string {
	switch n.(type) {
	case *ast.MappingNode, *ast.MappingValueNode:
		return "a mapping"
	case *ast.SequenceNode:
		return "a list"
	case *ast.NullNode:
		return "nothing"
	case *ast.StringNode:
		return fmt.Sprintf("the string %q", n.(*ast.StringNode).Value)
	}
	return strconv.Quote(n.String())
}

// intValue reads a non-negative integer no larger than MaxDim.
func (p *parseState) intValue(n ast.Node, what string) (int, bool) {
	var v int64
	switch x := n.(type) {
	case *ast.IntegerNode:
		switch i := x.Value.(type) {
		case int64:
			v = i
		case uint64:
			if i > math.MaxInt32 {
				v = math.MaxInt64
			} else {
				v = int64(i)
			}
		}
	default:
		p.errorf(n, "%s must be a whole number, not %s", what, describe(n))
		return 0, false
	}
	if v < 0 || v > MaxDim {
		p.errorf(n, "%s is %d; it must be between 0 and %d", what, v, MaxDim)
		return 0, false
	}
	return int(v), true
}

// floatValue reads a finite positive number. YAML 1.2 reads `1e-5` as a
// string, so strings that parse as numbers are accepted.
func (p *parseState) floatValue(n ast.Node, what string) (float64, bool) {
	var s string
	switch x := n.(type) {
	case *ast.FloatNode:
		s = x.String()
	case *ast.IntegerNode:
		s = x.String()
	case *ast.StringNode:
		s = x.Value
	default:
		p.errorf(n, "%s must be a number, not %s", what, describe(n))
		return 0, false
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f <= 0 {
		p.errorf(n, "%s must be a positive number, not %q", what, s)
		return 0, false
	}
	return f, true
}

// stringValue reads a plain scalar string.
func (p *parseState) stringValue(n ast.Node, what string) (string, bool) {
	var v string
	switch x := n.(type) {
	case *ast.StringNode:
		v = x.Value
	case *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode:
		// Module paths such as nn.Sequential's "0" read as numbers.
		v = x.GetToken().Value
	}
	if v == "" {
		p.errorf(n, "%s must be a name, not %s", what, describe(n))
		return "", false
	}
	return v, true
}
