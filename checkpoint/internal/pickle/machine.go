package pickle

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

// MaxDepth bounds how many MARKs may be open at once. A state_dict pickle
// nests a handful deep; the bound keeps a hostile one from growing the
// mark stack without limit.
const MaxDepth = 1000

// WorkPerByte bounds the dict-key bytes a pickle may make the decoder hash,
// per byte of pickle. A state_dict pickle hashes each key once, plus short
// memoized keys such as 'version' in _metadata: a few bytes per byte.
const WorkPerByte = 32

// MaxMemory bounds what decoding one pickle may allocate. Each opcode
// makes at most one value (a few dozen bytes with its place on the stack,
// in the memo or in a container: opCost), so a pickle of nothing but
// EMPTY_DICT or MEMOIZE opcodes, which costs 30 to 100 bytes of memory
// per byte of input, is refused once it has made MaxMemory/opCost
// values, as it reaches the budget rather than after. A state_dict's
// pickle takes about ten opcodes per tensor: this allows hundreds of
// thousands of tensors.
const MaxMemory = 256 << 20

// opCost is what an opcode's value costs with its slot on the stack
// (which grows by doubling); a dict costs dictCost more.
const (
	opCost   = 48
	dictCost = 100
)

// MaxLongBytes bounds the two's-complement length of LONG1/LONG4
// integers and the digits of a text LONG: big enough for any integer a
// checkpoint holds, small enough that converting one costs nothing.
const MaxLongBytes = 1024

// Hooks gives meaning to the opcodes that would make Python import or call
// something. Each method either returns the one harmless value that the
// caller allows or an error refusing it; the error is returned by Unpickle
// unchanged, so it should read as a complete sentence about the pickle.
type Hooks interface {
	// Global resolves GLOBAL and STACK_GLOBAL.
	Global(module, name string) (any, error)
	// Reduce resolves REDUCE: callable is a value Global returned, or
	// whatever else the pickle put there.
	Reduce(callable any, args Tuple) (any, error)
	// NewObj resolves NEWOBJ and NEWOBJ_EX (without keyword arguments).
	NewObj(class any, args Tuple) (any, error)
	// Build resolves BUILD; it returns the object that replaces obj.
	Build(obj, state any) (any, error)
	// Persistent resolves PERSID and BINPERSID.
	Persistent(id any) (any, error)
}

// Error is a malformed pickle: where it went wrong and why.
type Error struct {
	Offset int    // byte offset of the opcode
	Op     string // opcode name
	Err    error
}

func (e *Error) Error() string {
	return fmt.Sprintf("byte %d (%s): %v", e.Offset, e.Op, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// errTruncated is wrapped by every error about input that ends too soon,
// so callers can tell a cut-off download from a forged one.
var errTruncated = errors.New("pickle truncated")

// ErrTruncated reports whether err says the pickle ended too soon.
func ErrTruncated(err error) bool { return errors.Is(err, errTruncated) }

// Unpickle decodes one pickle from data; bytes after its STOP are ignored,
// as Python does.
func Unpickle(data []byte, h Hooks) (any, error) {
	v, _, err := UnpickleNext(data, h)
	return v, err
}

// UnpickleNext decodes the pickle at the start of data and also returns
// its length (the offset after its STOP), for files that hold several
// pickles one after another.
func UnpickleNext(data []byte, h Hooks) (any, int, error) {
	m := &machine{data: data, hooks: h, memo: map[uint64]any{}, maxWork: WorkPerByte*len(data) + 1<<20}
	for {
		if m.mem += opCost; m.mem > MaxMemory {
			return nil, 0, &Error{Offset: m.pos, Op: "budget", Err: fmt.Errorf("the pickle's values pass the %d MiB memory budget for decoding one (an opcode flood?)", MaxMemory>>20)}
		}
		if m.pos >= len(m.data) {
			m.op = m.pos
			return nil, 0, &Error{Offset: m.pos, Op: "end", Err: fmt.Errorf("no STOP opcode: %w", errTruncated)}
		}
		m.op = m.pos
		code := m.data[m.pos]
		m.pos++
		done, err := m.step(code)
		if err != nil {
			var hook hookError
			if errors.As(err, &hook) {
				return nil, 0, hook.err
			}
			return nil, 0, &Error{Offset: m.op, Op: opName(code), Err: err}
		}
		if done {
			return m.result, m.pos, nil
		}
	}
}

// machine is the decoder state. stack holds every open frame; marks holds
// the stack length at each open MARK, so the current frame is
// stack[marks[len(marks)-1]:].
type machine struct {
	data   []byte
	pos    int // next byte to read
	op     int // offset of the opcode being decoded
	stack  []any
	marks  []int
	memo   map[uint64]any
	hooks  Hooks
	result any
	// work counts the key bytes hashed by SETITEM(S). The memo lets a
	// pickle name one huge string again and again for two bytes each, so
	// hashing is the one cost not already bounded by the input's size.
	work, maxWork int
	// mem estimates the bytes the values made so far take (see MaxMemory).
	mem int
}

// hookError marks an error from Hooks so Unpickle returns it unwrapped.
type hookError struct{ err error }

func (e hookError) Error() string { return e.err.Error() }

func (m *machine) hook(v any, err error) error {
	if err != nil {
		return hookError{err}
	}
	m.push(v)
	return nil
}

// take returns the next n bytes, refusing before any slicing or allocation
// when fewer are left. n is unsigned so that a negative length read from
// the file cannot slip past the check.
func (m *machine) take(n uint64, what string) ([]byte, error) {
	left := uint64(len(m.data) - m.pos)
	if n > left {
		return nil, fmt.Errorf("%s of %d bytes but only %d left: %w", what, n, left, errTruncated)
	}
	b := m.data[m.pos : m.pos+int(n)]
	m.pos += int(n)
	return b, nil
}

func (m *machine) u8() (uint64, error) {
	b, err := m.take(1, "argument")
	if err != nil {
		return 0, err
	}
	return uint64(b[0]), nil
}

func (m *machine) u16() (uint64, error) {
	b, err := m.take(2, "argument")
	if err != nil {
		return 0, err
	}
	return uint64(binary.LittleEndian.Uint16(b)), nil
}

func (m *machine) u32() (uint64, error) {
	b, err := m.take(4, "argument")
	if err != nil {
		return 0, err
	}
	return uint64(binary.LittleEndian.Uint32(b)), nil
}

func (m *machine) u64() (uint64, error) {
	b, err := m.take(8, "argument")
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(b), nil
}

// line returns the text argument of a protocol-0 opcode, without its
// newline. The newline must be in the input: a missing one is truncation.
func (m *machine) line() ([]byte, error) {
	i := bytes.IndexByte(m.data[m.pos:], '\n')
	if i < 0 {
		return nil, fmt.Errorf("text argument has no newline: %w", errTruncated)
	}
	b := m.data[m.pos : m.pos+i]
	m.pos += i + 1
	return b, nil
}

func (m *machine) push(v any) { m.stack = append(m.stack, v) }

// base is where the current MARK frame starts.
func (m *machine) base() int {
	if len(m.marks) == 0 {
		return 0
	}
	return m.marks[len(m.marks)-1]
}

func (m *machine) pop() (any, error) {
	if len(m.stack) <= m.base() {
		return nil, errors.New("stack underflow")
	}
	v := m.stack[len(m.stack)-1]
	m.stack[len(m.stack)-1] = nil
	m.stack = m.stack[:len(m.stack)-1]
	return v, nil
}

func (m *machine) peek() (any, error) {
	if len(m.stack) <= m.base() {
		return nil, errors.New("stack underflow")
	}
	return m.stack[len(m.stack)-1], nil
}

func (m *machine) mark() error {
	if len(m.marks) >= MaxDepth {
		return fmt.Errorf("more than %d nested MARKs", MaxDepth)
	}
	m.marks = append(m.marks, len(m.stack))
	return nil
}

// popMark removes the current MARK frame and returns a copy of its items.
func (m *machine) popMark() ([]any, error) {
	if len(m.marks) == 0 {
		return nil, errors.New("no MARK to pop to")
	}
	b := m.marks[len(m.marks)-1]
	m.marks = m.marks[:len(m.marks)-1]
	items := append([]any(nil), m.stack[b:]...)
	clear(m.stack[b:])
	m.stack = m.stack[:b]
	return items, nil
}

// setItems stores key/value pairs into the dict on top of the stack.
func (m *machine) setItems(kv []any) error {
	if len(kv)%2 != 0 {
		return fmt.Errorf("odd number of items (%d) for a dict", len(kv))
	}
	top, err := m.peek()
	if err != nil {
		return err
	}
	d, ok := top.(*Dict)
	if !ok {
		return fmt.Errorf("setting items on a %s, not a dict", TypeName(top))
	}
	for i := 0; i < len(kv); i += 2 {
		m.work += keyCost(kv[i])
		if m.work > m.maxWork {
			return fmt.Errorf("dict keys cost more to hash than a %d-byte pickle can justify (a huge key reused through the memo?)", len(m.data))
		}
		if err := d.Set(kv[i], kv[i+1]); err != nil {
			return err
		}
	}
	return nil
}

// keyCost is what hashing a key costs, in bytes.
func keyCost(k any) int {
	switch k := k.(type) {
	case string:
		return len(k) + 8
	case []byte:
		return len(k) + 8
	}
	return 8
}

// appendItems appends to the list on top of the stack.
func (m *machine) appendItems(items []any) error {
	top, err := m.peek()
	if err != nil {
		return err
	}
	l, ok := top.(*List)
	if !ok {
		return fmt.Errorf("appending to a %s, not a list", TypeName(top))
	}
	l.Items = append(l.Items, items...)
	return nil
}

func (m *machine) memoGet(i uint64) error {
	v, ok := m.memo[i]
	if !ok {
		return fmt.Errorf("memo entry %d was never stored", i)
	}
	m.push(v)
	return nil
}

func (m *machine) memoPut(i uint64) error {
	v, err := m.peek()
	if err != nil {
		return err
	}
	m.memo[i] = v
	return nil
}
