package checkpoint

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"testing"
)

// pk writes pickles opcode by opcode, so tests can build exactly the
// hostile input they mean without running Python.
type pk struct{ bytes.Buffer }

func (p *pk) op(b ...byte) *pk { p.Write(b); return p }

func (p *pk) proto(v byte) *pk { return p.op(0x80, v) }

func (p *pk) global(module, name string) *pk {
	p.WriteString("c" + module + "\n" + name + "\n")
	return p
}

func (p *pk) str(s string) *pk {
	p.op('X')
	binary.Write(&p.Buffer, binary.LittleEndian, uint32(len(s)))
	p.WriteString(s)
	return p
}

func (p *pk) int(i int64) *pk {
	if i >= math.MinInt32 && i <= math.MaxInt32 {
		p.op('J')
		binary.Write(&p.Buffer, binary.LittleEndian, int32(i))
		return p
	}
	p.op(0x8a, 8)
	binary.Write(&p.Buffer, binary.LittleEndian, i)
	return p
}

func (p *pk) ints(v ...int64) *pk {
	p.op('(')
	for _, i := range v {
		p.int(i)
	}
	return p.op('t')
}

func (p *pk) emptyOrderedDict() *pk {
	return p.global("collections", "OrderedDict").op(')', 'R')
}

// pkTensor is one entry of a synthetic state_dict.
type pkTensor struct {
	key, storage, class string // class: "FloatStorage", ...
	numel, offset       int64
	size, stride        []int64
}

// tensor writes _rebuild_tensor_v2 exactly as torch 1.13 does.
func (p *pk) tensor(t pkTensor) *pk {
	p.global("torch._utils", "_rebuild_tensor_v2").op('(')
	p.op('(').str("storage").global("torch", t.class).str(t.storage).str("cpu").int(t.numel).op('t', 'Q')
	p.int(t.offset).ints(t.size...).ints(t.stride...).op(0x89).emptyOrderedDict()
	return p.op('t', 'R')
}

// stateDictPickle is a protocol-2 pickle of an OrderedDict of tensors.
func stateDictPickle(ts ...pkTensor) []byte {
	p := new(pk).proto(2).emptyOrderedDict().op('(')
	for _, t := range ts {
		p.str(t.key).tensor(t)
	}
	return p.op('u', '.').Bytes()
}

// f32Tensor is a contiguous float32 tensor with its own storage.
func f32Tensor(key, storage string, shape ...int64) pkTensor {
	n := int64(1)
	stride := make([]int64, len(shape))
	for i := len(shape) - 1; i >= 0; i-- {
		stride[i] = n
		n *= shape[i]
	}
	return pkTensor{key: key, storage: storage, class: "FloatStorage", numel: n, size: shape, stride: stride}
}

// zipEntry is one member of a synthetic archive.
type zipEntry struct {
	name   string
	data   []byte
	method uint16
}

func makeZip(t testing.TB, entries ...zipEntry) []byte {
	t.Helper()
	var b bytes.Buffer
	w := zip.NewWriter(&b)
	for _, e := range entries {
		f, err := w.CreateHeader(&zip.FileHeader{Name: e.name, Method: e.method})
		if err != nil {
			t.Fatal(err)
		}
		f.Write(e.data)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// makePth is a torch-style archive: archive/data.pkl plus one entry per
// storage.
func makePth(t testing.TB, pkl []byte, storages map[string][]byte) []byte {
	entries := []zipEntry{{name: "archive/data.pkl", data: pkl}}
	keys := make([]string, 0, len(storages))
	for k := range storages {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		entries = append(entries, zipEntry{name: "archive/data/" + k, data: storages[k]})
	}
	entries = append(entries, zipEntry{name: "archive/version", data: []byte("3\n")})
	return makeZip(t, entries...)
}

func f32Bytes(v ...float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

// stEntry is one tensor of a synthetic safetensors header.
type stTest struct {
	DType       string  `json:"dtype"`
	Shape       []int64 `json:"shape"`
	DataOffsets []int64 `json:"data_offsets"`
}

// makeSafetensors writes a header (any JSON value) and a data section.
func makeSafetensors(header any, body []byte) []byte {
	h, err := json.Marshal(header)
	if err != nil {
		panic(err)
	}
	for len(h)%8 != 0 {
		h = append(h, ' ')
	}
	out := binary.LittleEndian.AppendUint64(nil, uint64(len(h)))
	return append(append(out, h...), body...)
}

// mustRead reads data and fails the test on error.
func mustRead(t testing.TB, name string, data []byte) *File {
	t.Helper()
	f, err := Read(name, data, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func describe(f *File) string {
	var b bytes.Buffer
	for _, k := range f.Keys() {
		fmt.Fprintf(&b, "%s %s %v %v\n", k, f.Tensors[k].DType, f.Tensors[k].Shape, f.Tensors[k].Data)
	}
	return b.String()
}
