package pickle

import (
	"errors"
	"strconv"
	"unicode/utf8"
)

// unquotePython decodes a protocol-0 STRING argument: a Python bytes repr
// in single or double quotes, with Python's escapes (codecs.escape_decode).
func unquotePython(s []byte) ([]byte, error) {
	if len(s) < 2 || (s[0] != '\'' && s[0] != '"') || s[len(s)-1] != s[0] {
		return nil, errors.New("STRING argument is not quoted")
	}
	s = s[1 : len(s)-1]
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 == len(s) {
			out = append(out, c)
			continue
		}
		i++
		switch e := s[i]; e {
		case '\\', '\'', '"':
			out = append(out, e)
		case 'a':
			out = append(out, '\a')
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'v':
			out = append(out, '\v')
		case 'x':
			if i+2 >= len(s) {
				return nil, errors.New("STRING has a truncated \\x escape")
			}
			v, err := strconv.ParseUint(string(s[i+1:i+3]), 16, 8)
			if err != nil {
				return nil, errors.New("STRING has a bad \\x escape")
			}
			out = append(out, byte(v))
			i += 2
		case '0', '1', '2', '3', '4', '5', '6', '7':
			v, n := 0, 0
			for n < 3 && i+n < len(s) && s[i+n] >= '0' && s[i+n] <= '7' {
				v = v*8 + int(s[i+n]-'0')
				n++
			}
			out = append(out, byte(v))
			i += n - 1
		default:
			out = append(out, '\\', e) // Python keeps unknown escapes
		}
	}
	return out, nil
}

// rawUnicodeUnescape decodes a protocol-0 UNICODE argument
// (raw-unicode-escape): \uXXXX and \UXXXXXXXX escapes, other bytes Latin-1.
func rawUnicodeUnescape(s []byte) string {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\\' && i+1 < len(s) && (s[i+1] == 'u' || s[i+1] == 'U') {
			n := 4
			if s[i+1] == 'U' {
				n = 8
			}
			if i+2+n <= len(s) {
				if v, err := strconv.ParseUint(string(s[i+2:i+2+n]), 16, 32); err == nil {
					out = utf8.AppendRune(out, rune(v))
					i += 1 + n
					continue
				}
			}
		}
		out = utf8.AppendRune(out, rune(c))
	}
	return string(out)
}
