package a64

import (
	"fmt"
	"go/token"
	"go/types"
	"strconv"
)

// slot is one argument word go vet's asmdecl knows by name: a parameter
// or result, or a component of one (s_base, s_len, s_cap of a slice).
type slot struct {
	name string
	off  int
	// load and store are the moves of its size and kind: MOVD, MOVWU,
	// FMOVS... (a load extends, a store does not).
	load, store string
	float       bool
}

// frameSig is a Go signature laid out as ABI0 passes it on arm64:
// arguments and results on the stack from 0(FP), results aligned to 8
// (the layout go vet's asmdecl checks against).
type frameSig struct {
	expr  string // as written, func(...)
	slots []slot
	args  int // bytes of arguments and results (unrounded, as asmdecl counts)
}

var arm64Sizes = types.SizesFor("gc", "arm64")

// parseSig lays out sig, a func type expression of predeclared types,
// pointers to them, slices and strings (what kernels take).
func parseSig(sig string) (*frameSig, error) {
	tv, err := types.Eval(token.NewFileSet(), nil, token.NoPos, sig)
	if err != nil {
		return nil, fmt.Errorf("signature %q: %w", sig, err)
	}
	s, ok := tv.Type.(*types.Signature)
	if !ok || !tv.IsType() {
		return nil, fmt.Errorf("signature %q: not a func type", sig)
	}
	fs := &frameSig{expr: sig}
	off := 0
	add := func(tuple *types.Tuple, unnamed string) error {
		for i := 0; i < tuple.Len(); i++ {
			v := tuple.At(i)
			name := v.Name()
			if name == "" {
				// asmdecl's names for unnamed arguments: arg, arg1, ... and ret, ret1, ...
				name = unnamed
				if i > 0 {
					name += strconv.Itoa(i)
				}
			}
			a := int(arm64Sizes.Alignof(v.Type()))
			off = (off + a - 1) &^ (a - 1)
			parts, err := components(name, v.Type())
			if err != nil {
				return fmt.Errorf("signature %q: %w", sig, err)
			}
			for _, p := range parts {
				p.off += off
				fs.slots = append(fs.slots, p)
			}
			off += int(arm64Sizes.Sizeof(v.Type()))
		}
		return nil
	}
	if err := add(s.Params(), "arg"); err != nil {
		return nil, err
	}
	if s.Results().Len() > 0 {
		off = (off + 7) &^ 7
		if err := add(s.Results(), "ret"); err != nil {
			return nil, err
		}
	}
	fs.args = off
	return fs, nil
}

// components are the named words of an argument of type t.
func components(name string, t types.Type) ([]slot, error) {
	one := func(load, store string) []slot {
		return []slot{{name: name, load: load, store: store, float: load[0] == 'F'}}
	}
	words := func(suffixes ...string) []slot {
		var s []slot
		for i, x := range suffixes {
			s = append(s, slot{name: name + x, off: 8 * i, load: "MOVD", store: "MOVD"})
		}
		return s
	}
	switch u := t.Underlying().(type) {
	case *types.Pointer:
		return one("MOVD", "MOVD"), nil
	case *types.Slice:
		return words("_base", "_len", "_cap"), nil
	case *types.Basic:
		switch u.Kind() {
		case types.Int, types.Uint, types.Int64, types.Uint64, types.Uintptr:
			return one("MOVD", "MOVD"), nil
		case types.String:
			return words("_base", "_len"), nil
		case types.Int32:
			return one("MOVW", "MOVW"), nil
		case types.Uint32:
			return one("MOVWU", "MOVW"), nil
		case types.Int16:
			return one("MOVH", "MOVH"), nil
		case types.Uint16:
			return one("MOVHU", "MOVH"), nil
		case types.Int8:
			return one("MOVB", "MOVB"), nil
		case types.Uint8, types.Bool:
			return one("MOVBU", "MOVB"), nil
		case types.Float32:
			return one("FMOVS", "FMOVS"), nil
		case types.Float64:
			return one("FMOVD", "FMOVD"), nil
		}
	}
	return nil, fmt.Errorf("argument %s: type %s is not supported (kernels take pointers, integers, floats, slices and strings)", name, t)
}
