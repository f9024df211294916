package pickle

import (
	"errors"
	"fmt"
	"unicode/utf8"
)

// callOp decodes the opcodes whose meaning Hooks decides. The machine
// itself never imports, calls or constructs anything.
func (m *machine) callOp(code byte) error {
	switch code {
	case opGlobal:
		module, err := m.line()
		if err != nil {
			return err
		}
		name, err := m.line()
		if err != nil {
			return err
		}
		if !utf8.Valid(module) || !utf8.Valid(name) {
			return errors.New("name is not valid UTF-8")
		}
		return m.hook(m.hooks.Global(string(module), string(name)))
	case opStackGlobal:
		name, err := m.pop()
		if err != nil {
			return err
		}
		module, err := m.pop()
		if err != nil {
			return err
		}
		ms, ok1 := module.(string)
		ns, ok2 := name.(string)
		if !ok1 || !ok2 {
			return fmt.Errorf("module and name are %s and %s, not str", TypeName(module), TypeName(name))
		}
		return m.hook(m.hooks.Global(ms, ns))
	case opReduce:
		args, err := m.popTuple()
		if err != nil {
			return err
		}
		fn, err := m.pop()
		if err != nil {
			return err
		}
		return m.hook(m.hooks.Reduce(fn, args))
	case opNewObj, opNewObjEx:
		if code == opNewObjEx {
			kw, err := m.pop()
			if err != nil {
				return err
			}
			if d, ok := kw.(*Dict); !ok || d.Len() != 0 {
				return errors.New("keyword arguments: refused")
			}
		}
		args, err := m.popTuple()
		if err != nil {
			return err
		}
		cls, err := m.pop()
		if err != nil {
			return err
		}
		return m.hook(m.hooks.NewObj(cls, args))
	case opBuild:
		state, err := m.pop()
		if err != nil {
			return err
		}
		obj, err := m.pop()
		if err != nil {
			return err
		}
		return m.hook(m.hooks.Build(obj, state))
	case opPersID:
		id, err := m.line()
		if err != nil {
			return err
		}
		if !utf8.Valid(id) {
			return errors.New("persistent id is not valid UTF-8")
		}
		return m.hook(m.hooks.Persistent(string(id)))
	case opBinPersID:
		id, err := m.pop()
		if err != nil {
			return err
		}
		return m.hook(m.hooks.Persistent(id))
	}
	return errors.New("unknown call opcode")
}

func (m *machine) popTuple() (Tuple, error) {
	v, err := m.pop()
	if err != nil {
		return nil, err
	}
	t, ok := v.(Tuple)
	if !ok {
		return nil, fmt.Errorf("arguments are a %s, not a tuple", TypeName(v))
	}
	return t, nil
}
