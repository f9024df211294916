package pickle

import (
	"fmt"
	"math"
	"math/big"
)

// Tuple is a Python tuple.
type Tuple []any

// List is a Python list. It is a pointer type because APPEND and APPENDS
// change a list after it may already have been stored in the memo.
type List struct{ Items []any }

// Dict is a Python dict or OrderedDict; it keeps insertion order, which is
// the order PyTorch wrote the state_dict in.
type Dict struct {
	keys   []any
	values []any
	index  map[any]int
}

// NewDict returns an empty Dict. Its index is made on first Set, so that
// a pickle of a million EMPTY_DICT opcodes costs as little as possible.
func NewDict() *Dict { return &Dict{} }

// Len is the number of entries.
func (d *Dict) Len() int { return len(d.keys) }

// Key returns the i-th key in insertion order.
func (d *Dict) Key(i int) any { return d.keys[i] }

// Value returns the i-th value in insertion order.
func (d *Dict) Value(i int) any { return d.values[i] }

// Get returns the value stored under key.
func (d *Dict) Get(key any) (any, bool) {
	h, err := hashKey(key)
	if err != nil {
		return nil, false
	}
	i, ok := d.index[h]
	if !ok {
		return nil, false
	}
	return d.values[i], true
}

// Set stores value under key, replacing an equal key in place as Python
// does. Only the key types a state_dict pickle uses are accepted.
func (d *Dict) Set(key, value any) error {
	h, err := hashKey(key)
	if err != nil {
		return err
	}
	if i, ok := d.index[h]; ok {
		d.values[i] = value
		return nil
	}
	if d.index == nil {
		d.index = map[any]int{}
	}
	d.index[h] = len(d.keys)
	d.keys = append(d.keys, key)
	d.values = append(d.values, value)
	return nil
}

// bytesKey keeps bytes keys apart from equal-looking str keys, as Python does.
type bytesKey string

// hashKey maps a key to a comparable Go value with Python's equality for
// the scalar types (True == 1 == 1.0). Tuples, lists, dicts and integers
// beyond int64 are refused rather than hashed: hashing them would mean
// walking arbitrarily large values, and state_dict pickles never use them
// as keys.
func hashKey(k any) (any, error) {
	switch k := k.(type) {
	case nil, string, int64:
		return k, nil
	case bool:
		if k {
			return int64(1), nil
		}
		return int64(0), nil
	case float64:
		if k == math.Trunc(k) && math.Abs(k) < 1<<63 {
			return int64(k), nil
		}
		return k, nil
	case []byte:
		return bytesKey(k), nil
	}
	return nil, fmt.Errorf("dict key of type %s is not supported", TypeName(k))
}

// TypeName names a decoded value's Python type for error messages without
// looking inside it (values may be cyclic or deeply nested).
func TypeName(v any) string {
	switch v := v.(type) {
	case nil:
		return "None"
	case bool:
		return "bool"
	case int64, *big.Int:
		return "int"
	case float64:
		return "float"
	case string:
		return "str"
	case []byte:
		return "bytes"
	case Tuple:
		return "tuple"
	case *List:
		return "list"
	case *Dict:
		return "dict"
	case fmt.Stringer:
		return v.String()
	}
	return fmt.Sprintf("%T", v)
}
