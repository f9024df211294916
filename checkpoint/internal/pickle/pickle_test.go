package pickle

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/big"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"
)

// echo is a Hooks that builds a record of every call instead of refusing,
// so the tests can see exactly what the decoder passed.
type echo struct{}

type global string
type call struct {
	Kind string
	Fn   any
	Args any
}

func (echo) Global(m, n string) (any, error)         { return global(m + "." + n), nil }
func (echo) Reduce(fn any, args Tuple) (any, error)  { return call{"reduce", fn, args}, nil }
func (echo) NewObj(cls any, args Tuple) (any, error) { return call{"newobj", cls, args}, nil }
func (echo) Build(obj, state any) (any, error)       { return call{"build", obj, state}, nil }
func (echo) Persistent(id any) (any, error)          { return call{"persid", nil, id}, nil }
func (g global) String() string                      { return string(g) }
func dict(kv ...any) *Dict {
	d := NewDict()
	for i := 0; i < len(kv); i += 2 {
		if err := d.Set(kv[i], kv[i+1]); err != nil {
			panic(err)
		}
	}
	return d
}

func TestValues(t *testing.T) {
	big1, _ := new(big.Int).SetString("123456789012345678901234567890", 10)
	neg := new(big.Int).Neg(new(big.Int).Lsh(big.NewInt(1), 64))
	cases := []struct {
		pkl  string
		want any
	}{
		// protocol 0 text opcodes
		{"I01\n.", true}, {"I00\n.", false}, {"I-7\n.", int64(-7)},
		{"L123456789012345678901234567890L\n.", big1}, {"L5L\n.", int64(5)},
		{"F-1.25\n.", -1.25}, {"S'a\\'b\\n\\x41\\101\\q'\n.", "a'b\nAA\\q"}, {"S\"q\"\n.", "q"},
		{"V\\u00e9t\\U0001F600\n.", "ét😀"}, {"N.", nil}, {"(I1\nI2\nt.", Tuple{int64(1), int64(2)}},
		{"(I1\nl.", &List{Items: []any{int64(1)}}}, {"(dp0\nI1\n(ds.", dict(int64(1), dict())},
		{"(S'k'\nI2\nd.", dict("k", int64(2))}, {"Np5\ng5\n0.", nil},
		{"cfoo\nbar\n(I1\ntR.", call{"reduce", global("foo.bar"), Tuple{int64(1)}}},
		{"Pkey\n.", call{"persid", nil, "key"}},
		// protocol 1-5 binary opcodes
		{"\x80\x02\x8a\x09\x00\x00\x00\x00\x00\x00\x00\x00\xff.", neg},
		{"\x80\x02\x8a\x00.", int64(0)}, {"\x80\x02\x8a\x01\xff.", int64(-1)},
		{"\x80\x02\x8a\x02\xff\x7f.", int64(32767)},
		{"\x80\x02\x8a\x08\x00\x00\x00\x00\x00\x00\x00\x80.", int64(math.MinInt64)},
		{"\x80\x02\x8b\x01\x00\x00\x00\x05.", int64(5)},
		{"\x80\x02J\xff\xff\xff\xff.", int64(-1)}, {"\x80\x02M\xff\xff.", int64(65535)}, {"\x80\x02K\xff.", int64(255)},
		{"\x80\x03C\x02ab.", []byte("ab")}, {"\x80\x03B\x01\x00\x00\x00a.", []byte("a")},
		{"\x80\x04\x8e\x01\x00\x00\x00\x00\x00\x00\x00a.", []byte("a")},
		{"\x80\x05\x96\x01\x00\x00\x00\x00\x00\x00\x00a.", []byte("a")},
		{"\x80\x02U\x01a.", "a"}, {"\x80\x02T\x01\x00\x00\x00a.", "a"},
		{"\x80\x02X\x02\x00\x00\x00\xc3\xa9.", "é"}, {"\x80\x04\x8c\x01a.", "a"},
		{"\x80\x04\x8d\x01\x00\x00\x00\x00\x00\x00\x00a.", "a"},
		{"\x80\x02G\x3f\xf0\x00\x00\x00\x00\x00\x00.", 1.0},
		{"\x80\x02\x88.", true}, {"\x80\x02\x89.", false},
		{"\x80\x02N\x94h\x00\x86.", Tuple{nil, nil}}, {"\x80\x02(N1N.", nil}, {"\x80\x02N2\x86.", Tuple{nil, nil}},
		{"\x80\x02N2N\x87.", Tuple{nil, nil, nil}}, {"\x80\x02).", Tuple{}},
		{"\x80\x02(NNN0t.", Tuple{nil, nil}}, {"\x80\x02(0N.", nil},
		{"\x80\x02](NNe.", &List{Items: []any{nil, nil}}}, {"\x80\x02]Na.", &List{Items: []any{nil}}},
		{"\x80\x02}(K\x01NK\x01\x88u.", dict(int64(1), true)}, {"\x80\x02}\x88K\x02s.", dict(true, int64(2))},
		{"\x80\x02(K\x01K\x02d.", dict(int64(1), int64(2))},
		{"\x80\x02Nr\x05\x00\x00\x00j\x05\x00\x00\x00\x86.", Tuple{nil, nil}},
		{"\x80\x04\x95\x02\x00\x00\x00\x00\x00\x00\x00N.", nil},
		{"\x80\x04\x8c\x01m\x8c\x01n\x93.", global("m.n")},
		{"\x80\x02cm\nn\n)\x81.", call{"newobj", global("m.n"), Tuple{}}},
		{"\x80\x04cm\nn\n)}\x92.", call{"newobj", global("m.n"), Tuple{}}},
		{"\x80\x02N}b.", call{"build", nil, dict()}},
		{"\x80\x02K\x01Q.", call{"persid", nil, int64(1)}},
		{"\x80\x02N.trailing bytes are ignored", nil},
	}
	for _, c := range cases {
		got, err := Unpickle([]byte(c.pkl), echo{})
		if err != nil {
			t.Errorf("%q: %v", c.pkl, err)
			continue
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%q: got %#v, want %#v", c.pkl, got, c.want)
		}
	}
}

// TestMemoIdentity: GET returns the same object, so a dict can hold
// itself; the decoder must not copy or walk it.
func TestMemoIdentity(t *testing.T) {
	got, err := Unpickle([]byte("(dp0\nI1\ng0\ns."), echo{})
	if err != nil {
		t.Fatal(err)
	}
	d := got.(*Dict)
	if v, _ := d.Get(int64(1)); v != any(d) {
		t.Errorf("memo GET did not return the same dict")
	}
}

func TestDictKeys(t *testing.T) {
	d := dict("a", int64(1), int64(1), "one", []byte("a"), "bytes", nil, "none", 2.0, "two", 2.5, "x")
	for _, c := range []struct {
		key  any
		want any
	}{{"a", int64(1)}, {true, "one"}, {1.0, "one"}, {[]byte("a"), "bytes"}, {nil, "none"}, {int64(2), "two"}, {2.5, "x"}} {
		if got, ok := d.Get(c.key); !ok || got != c.want {
			t.Errorf("Get(%#v) = %#v, %v; want %#v", c.key, got, ok, c.want)
		}
	}
	if d.Len() != 6 || d.Key(0) != "a" || d.Value(5) != "x" {
		t.Errorf("order or length wrong: %d", d.Len())
	}
	if _, ok := d.Get(Tuple{}); ok {
		t.Error("tuple key found")
	}
	if err := d.Set(&List{}, 1); err == nil {
		t.Error("list key accepted")
	}
}

func TestErrors(t *testing.T) {
	refuse := errors.New("refused by hook")
	_, err := Unpickle([]byte("cos\nsystem\n."), refusing{refuse})
	if err != refuse {
		t.Errorf("hook error not returned unchanged: %v", err)
	}
	_, err = Unpickle([]byte("\x80\x02X\xff\xff\xff\x7f"), echo{})
	var pe *Error
	if !errors.As(err, &pe) || pe.Offset != 2 || pe.Op != "BINUNICODE" || !ErrTruncated(err) {
		t.Errorf("got %v", err)
	}
	if !strings.HasPrefix(err.Error(), "byte 2 (BINUNICODE): string of 2147483647 bytes but only 0 left") {
		t.Errorf("message %q", err)
	}
	for _, c := range []string{"", "(", "N", "\x80", "X\x01", "\x95\x01\x00"} {
		if _, err := Unpickle([]byte(c), echo{}); !ErrTruncated(err) {
			t.Errorf("%q: %v is not truncation", c, err)
		}
	}
}

type refusing struct{ err error }

func (r refusing) Global(m, n string) (any, error)         { return nil, r.err }
func (r refusing) Reduce(fn any, args Tuple) (any, error)  { return nil, r.err }
func (r refusing) NewObj(cls any, args Tuple) (any, error) { return nil, r.err }
func (r refusing) Build(obj, state any) (any, error)       { return nil, r.err }
func (r refusing) Persistent(id any) (any, error)          { return nil, r.err }

func TestTypeName(t *testing.T) {
	for v, want := range map[any]string{nil: "None", true: "bool", int64(1): "int", 1.5: "float", "s": "str", global("a.b"): "a.b"} {
		if got := TypeName(v); got != want {
			t.Errorf("TypeName(%#v) = %q", v, got)
		}
	}
	for _, c := range []struct {
		v    any
		want string
	}{{[]byte{}, "bytes"}, {Tuple{}, "tuple"}, {&List{}, "list"}, {NewDict(), "dict"}, {big.NewInt(1), "int"}, {struct{}{}, "struct {}"}} {
		if got := TypeName(c.v); got != c.want {
			t.Errorf("TypeName(%T) = %q", c.v, got)
		}
	}
	_ = fmt.Sprint
}

// TestOpcodeFlood: pickles of nothing but value-making opcodes are
// refused once they pass the memory budget, having allocated about that
// much, and quickly.
func TestOpcodeFlood(t *testing.T) {
	for _, op := range []byte{opEmptyList, opEmptyDict, opNone} {
		n := MaxMemory/opCost + 1000
		p := append(bytes.Repeat([]byte{op}, n), opStop)
		if op == opNone {
			// MEMOIZE after each value: a memo flood.
			p = append(bytes.Repeat([]byte{opNone, opMemoize}, n/2), opStop)
		}
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		start := time.Now()
		_, err := Unpickle(p, echo{})
		runtime.ReadMemStats(&after)
		if err == nil || !strings.Contains(err.Error(), "memory budget") {
			t.Fatalf("op %#x flood: %v", op, err)
		}
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 3*MaxMemory {
			t.Errorf("op %#x flood: allocated %d MiB before refusing", op, alloc>>20)
		}
		t.Logf("op %#x flood: %v to refuse", op, time.Since(start)) // logged, not asserted: the machine is shared
	}
}
