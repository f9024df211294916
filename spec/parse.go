package spec

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	yaml "github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/lexer"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"

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
		// data may be a file's first MaxFileBytes+1 bytes (see Load's
		// callers), so its length is not the file's.
		return nil, specError(Pos{File: file}, nil, "is larger than a spec can be (%d bytes)", MaxFileBytes)
	}
	// A UTF-8 byte order mark, which some Windows editors write, is not
	// part of the YAML; positions stay those of the file's characters.
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
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
	cur  *Layer // the layer being read, named by errorf's messages
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
	p.errs.Add(specError(p.pos(n), p.cur, format, args...))
}

// document parses the YAML and returns the top-level mapping.
func (p *parseState) document(data []byte) (*ast.MappingNode, error) {
	tokens := lexer.Tokenize(string(data))
	if tk := deepToken(tokens); tk != nil {
		return nil, specError(Pos{p.file, tk.Position.Line, tk.Position.Column}, nil,
			"nested more than %d levels deep; a spec needs three or four", MaxNesting)
	}
	f, err := parseYAML(tokens)
	if err != nil {
		var ye yaml.Error
		if errors.As(err, &ye) && ye.GetToken() != nil {
			tp := ye.GetToken().Position
			return nil, specError(Pos{p.file, tp.Line, tp.Column}, nil, "%s", oneLine(ye.GetMessage()))
		}
		return nil, specError(Pos{File: p.file}, nil, "%s", oneLine(err.Error()))
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

// oneLine keeps the first line of a message (the YAML parser's longer
// errors go on to quote the source).
func oneLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

// parseYAML wraps the YAML parser so that a bug in it surfaces as an
// error about the file rather than a crash of the user's run.
func parseYAML(tokens token.Tokens) (f *ast.File, err error) {
	defer func() {
		if r := recover(); r != nil {
			f, err = nil, fmt.Errorf("YAML parser failed: %v", r)
		}
	}()
	return parser.Parse(tokens, 0)
}

// entries returns the key/value pairs of a mapping, reporting keys that are
// not plain strings, and values that are anchors, aliases or tags (which
// the spec format does not use; an alias would also let a small file name
// a large tree). rejected holds the names of the keys reported, so that
// callers do not report them missing as well.
func (p *parseState) entries(m *ast.MappingNode) (out []*ast.MappingValueNode, rejected map[string]bool) {
	rejected = map[string]bool{}
	for _, mv := range m.Values {
		if _, ok := mv.Key.(*ast.MergeKeyNode); ok {
			p.unsupported(mv.Key)
			rejected[mergeKey] = true // it could have given any field
			continue
		}
		if _, ok := mv.Key.(*ast.StringNode); !ok {
			p.errorf(mv.Key, "key %s is not a name", describe(mv.Key))
			continue
		}
		if p.unsupported(mv.Value) {
			rejected[keyName(mv)] = true
			continue
		}
		out = append(out, mv)
	}
	return out, rejected
}

// mergeKey in entries' rejected set means a merge key was refused.
const mergeKey = "<<"

// unsupported reports n if it is an anchor, an alias, a merge key or a
// tag. Values below n need no check: each is read by a function that
// takes only the node types it expects.
func (p *parseState) unsupported(n ast.Node) bool {
	switch n.(type) {
	case *ast.TagNode:
		p.errorf(n, "YAML tags (%s) are not supported in a spec", n.GetToken().Value)
	case *ast.AliasNode, *ast.AnchorNode, *ast.MergeKeyNode:
		p.errorf(n, "YAML anchors, aliases and merge keys are not supported in a spec")
	default:
		return false
	}
	return true
}

func keyName(mv *ast.MappingValueNode) string {
	return mv.Key.(*ast.StringNode).Value
}

// describe names a node's kind for messages.
func describe(n ast.Node) string {
	switch x := n.(type) {
	case *ast.MappingNode, *ast.MappingValueNode:
		return "a mapping"
	case *ast.SequenceNode:
		return "a list"
	case *ast.NullNode:
		return "nothing"
	case *ast.StringNode:
		return fmt.Sprintf("the string %q", x.Value)
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
		// The value as written: a uint64 beyond int64 was clamped above.
		p.errorf(n, "%s is %s; it must be between 0 and %d", what, n.GetToken().Value, MaxDim)
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
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || !(f > 0) {
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

// nameValue is stringValue for names that reach the generated Go: layer
// names, prefixes and the network's name appear in its comments, so a
// newline or a "*/" in one would end the comment and let the spec inject
// code. Real module paths never hold those; they are refused.
func (p *parseState) nameValue(n ast.Node, what string) (string, bool) {
	v, ok := p.stringValue(n, what)
	if !ok {
		return "", false
	}
	if why := badName(v); why != "" {
		p.errorf(n, "%s %s %s; names are printable text", what, strconv.Quote(v), why)
		return "", false
	}
	return v, true
}

func badName(s string) string {
	if !utf8.ValidString(s) {
		return "is not valid UTF-8"
	}
	for _, r := range s {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029' {
			return fmt.Sprintf("holds the control character %U", r)
		}
	}
	if strings.Contains(s, "*/") || strings.Contains(s, "/*") {
		return "holds a comment marker (\"/*\" or \"*/\")"
	}
	return ""
}

// didYouMean suggests the candidate name is probably a typo of, or "".
func didYouMean(name string, candidates []string) string {
	for _, c := range candidates {
		if strings.EqualFold(c, name) {
			return fmt.Sprintf(" (did you mean %q?)", c)
		}
	}
	if near := diag.Closest(name, candidates); near != "" {
		return fmt.Sprintf(" (did you mean %q?)", near)
	}
	return ""
}
