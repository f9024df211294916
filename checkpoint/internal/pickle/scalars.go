package pickle

import (
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"
)

// binString decodes the length-prefixed string and bytes opcodes. Python 3
// decodes protocol-2 str (BINSTRING) to str, as torch.load does.
func (m *machine) binString(code byte) error {
	var n uint64
	var err error
	switch code {
	case opShortBinString, opShortBinUnicode, opShortBinBytes:
		n, err = m.u8()
	case opBinString:
		n, err = m.u32()
		if err == nil && n >= 1<<31 {
			return fmt.Errorf("negative length %d", int32(uint32(n)))
		}
	case opBinUnicode, opBinBytes:
		n, err = m.u32()
	default: // the 8-byte lengths
		n, err = m.u64()
	}
	if err != nil {
		return err
	}
	b, err := m.take(n, "string")
	if err != nil {
		return err
	}
	switch code {
	case opShortBinBytes, opBinBytes, opBinBytes8, opByteArray8:
		m.push(b) // aliases the input, which is never written
		return nil
	}
	if !utf8.Valid(b) {
		return errors.New("string is not valid UTF-8")
	}
	m.push(string(b))
	return nil
}

// binLong decodes LONG1 and LONG4: a little-endian two's-complement integer.
func (m *machine) binLong(code byte) error {
	var n uint64
	var err error
	if code == opLong1 {
		n, err = m.u8()
	} else {
		n, err = m.u32()
		if err == nil && n >= 1<<31 {
			return fmt.Errorf("negative length %d", int32(uint32(n)))
		}
	}
	if err != nil {
		return err
	}
	if n > MaxLongBytes {
		return fmt.Errorf("integer of %d bytes is larger than the %d this reader accepts", n, MaxLongBytes)
	}
	b, err := m.take(n, "integer")
	if err != nil {
		return err
	}
	m.push(decodeLong(b))
	return nil
}

// decodeLong returns an int64 when the value fits, else a *big.Int.
func decodeLong(b []byte) any {
	if len(b) <= 8 {
		var u uint64
		for i := len(b) - 1; i >= 0; i-- {
			u = u<<8 | uint64(b[i])
		}
		if len(b) == 0 {
			return int64(0)
		}
		shift := 64 - 8*uint(len(b))
		return int64(u<<shift) >> shift // sign-extend
	}
	be := make([]byte, len(b))
	for i, c := range b {
		be[len(b)-1-i] = c
	}
	x := new(big.Int).SetBytes(be)
	if b[len(b)-1]&0x80 != 0 {
		x.Sub(x, new(big.Int).Lsh(big.NewInt(1), uint(8*len(b))))
	}
	if x.IsInt64() {
		return x.Int64()
	}
	return x
}

// textScalar decodes the protocol-0 opcodes whose argument is a line.
func (m *machine) textScalar(code byte) error {
	line, err := m.line()
	if err != nil {
		return err
	}
	s := string(line)
	switch code {
	case opInt:
		switch s {
		case "00":
			m.push(false)
			return nil
		case "01":
			m.push(true)
			return nil
		}
		return m.pushInt(s)
	case opLong:
		return m.pushInt(strings.TrimSuffix(s, "L"))
	case opFloat:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return fmt.Errorf("bad float %q", clip(s))
		}
		m.push(f)
	case opString:
		b, err := unquotePython(line)
		if err != nil {
			return err
		}
		if !utf8.Valid(b) {
			return errors.New("string is not valid UTF-8")
		}
		m.push(string(b))
	case opUnicode:
		m.push(rawUnicodeUnescape(line))
	}
	return nil
}

func (m *machine) pushInt(s string) error {
	if len(s) > 2*MaxLongBytes {
		return fmt.Errorf("integer of %d digits is larger than this reader accepts", len(s))
	}
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		m.push(i)
		return nil
	}
	x, ok := new(big.Int).SetString(s, 10)
	if !ok {
		return fmt.Errorf("bad integer %q", clip(s))
	}
	m.push(x)
	return nil
}

// parseIndex parses the decimal memo index of GET and PUT.
func parseIndex(line []byte) (uint64, error) {
	i, err := strconv.ParseUint(string(line), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("bad memo index %q", clip(string(line)))
	}
	return i, nil
}

// clip shortens file text quoted in an error so the error stays one line
// of sensible length.
func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}
