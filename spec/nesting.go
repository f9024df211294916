package spec

import "github.com/goccy/go-yaml/token"

// MaxNesting bounds how deeply a spec's YAML may nest collections. A real
// spec nests three levels (the top mapping, `layers`, a layer), but the
// YAML parser's time and memory grow with the square of the depth: a
// 32 KB file of "[[[[..." takes it 1.6 GB. Its lexer is linear, so the
// depth is measured on the tokens, before the parser sees them.
const MaxNesting = 64

// deepToken returns the first token at which tokens nest collections more
// than MaxNesting deep, or nil. Flow collections count their brackets;
// block collections count the distinct indentations open at a line's
// first token, and the entries ("- ", "? ") that open one inside another
// on one line ("- - - x").
func deepToken(tokens token.Tokens) *token.Token {
	flow := 0
	var block []int // columns of the open block collections
	line := 0
	for _, tk := range tokens {
		switch tk.Type {
		case token.CommentType:
			continue
		case token.SequenceStartType, token.MappingStartType:
			flow++
		case token.SequenceEndType, token.MappingEndType:
			if flow > 0 {
				flow--
			}
		}
		first := tk.Position.Line != line
		line = tk.Position.Line
		if flow == 0 && (first || tk.Type == token.SequenceEntryType || tk.Type == token.MappingKeyType) {
			col := tk.Position.Column
			for len(block) > 0 && block[len(block)-1] >= col {
				block = block[:len(block)-1]
			}
			block = append(block, col)
		}
		if flow+len(block) > MaxNesting {
			return tk
		}
	}
	return nil
}
