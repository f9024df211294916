package checkpoint

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"testing"
)

var oneStorage = map[string][]byte{"0": f32Bytes(1, 2, 3, 4)}

// TestSyntheticPth checks the test's own pickle writer against the reader,
// so hostile variants below start from something known to load.
func TestSyntheticPth(t *testing.T) {
	pkl := stateDictPickle(f32Tensor("w", "0", 2, 2), f32Tensor("b", "1", 2))
	data := makePth(t, pkl, map[string][]byte{"0": f32Bytes(1, 2, 3, 4), "1": f32Bytes(5, 6)})
	f := mustRead(t, "synthetic.pth", data)
	want := "b float32 [2] [5 6]\nw float32 [2 2] [1 2 3 4]\n"
	if got := describe(f); got != want {
		t.Fatalf("got\n%swant\n%s", got, want)
	}
}

func TestPthArchiveShape(t *testing.T) {
	expectErr(t, "nopkl.pth", makeZip(t, zipEntry{name: "archive/version", data: []byte("3\n")}), "no data.pkl")
	expectErr(t, "empty.zip", makeZip(t), "no data.pkl")
	pkl := stateDictPickle(f32Tensor("w", "0", 4))
	expectErr(t, "twopkl.pth", makeZip(t,
		zipEntry{name: "a/data.pkl", data: pkl}, zipEntry{name: "b/data.pkl", data: pkl}), "2 data.pkl entries")
	expectErr(t, "dup.pth", makeZip(t,
		zipEntry{name: "a/data.pkl", data: pkl}, zipEntry{name: "a/data.pkl", data: pkl}), `"a/data.pkl" appears twice`)
	expectErr(t, "script.pt", makeZip(t,
		zipEntry{name: "a/data.pkl", data: pkl}, zipEntry{name: "a/constants.pkl", data: pkl}), "TorchScript")
	expectErr(t, "nostorage.pth", makePth(t, pkl, nil), `key "w": storage "0": zip entry "archive/data/0" is missing`)
	expectErr(t, "pickle.pkl", []byte("\x80\x04N."), "a bare pickle")
	expectErr(t, "empty.pth", nil, "empty file")
	expectErr(t, "random.bin", []byte("\x13\x37 not anything at all"), "unknown format")

	// A root-level data.pkl (no folder) is accepted, as some tools write it.
	f := mustRead(t, "root.pth", makeZip(t, zipEntry{name: "data.pkl", data: pkl}, zipEntry{name: "data/0", data: oneStorage["0"]}))
	if len(f.Tensors["w"].Data) != 4 {
		t.Errorf("root-level archive: %v", describe(f))
	}
}

func TestPthStorageSizes(t *testing.T) {
	huge := f32Tensor("w", "0", 4)
	huge.numel = 1 << 28 // 1 GiB of float32 declared, 16 bytes present
	huge.size = []int64{1 << 28}
	expectErr(t, "numel.pth", makePth(t, stateDictPickle(huge), oneStorage), `key "w": storage "0": zip entry "archive/data/0" holds 16 bytes, the pickle declares 1073741824`)

	short := f32Tensor("w", "0", 4)
	short.numel = 3
	short.size = []int64{3}
	expectErr(t, "short.pth", makePth(t, stateDictPickle(short), oneStorage), "holds 16 bytes, the pickle declares 12")

	over := f32Tensor("w", "0", 4)
	over.numel = 1 << 62 // numel*4 overflows int64
	expectErr(t, "overflow.pth", makePth(t, stateDictPickle(over), oneStorage), `storage "0": bad element count`)

	neg := f32Tensor("w", "0", 4)
	neg.numel = -1
	expectErr(t, "negnumel.pth", makePth(t, stateDictPickle(neg), oneStorage), "bad element count")

	// One storage declared with two types.
	a, b := f32Tensor("a", "0", 4), f32Tensor("b", "0", 4)
	b.class = "LongStorage"
	b.numel = 2
	expectErr(t, "twotypes.pth", makePth(t, stateDictPickle(a, b), oneStorage), `storage "0": declared as 4 float32 and as 2 int64`)
}

func TestPthLayouts(t *testing.T) {
	cases := []struct {
		name         string
		offset       int64
		size, stride []int64
		want         string
	}{
		{"past end", 1, []int64{4}, []int64{1}, "reaches element 4 of a storage of 4"},
		{"stride past end", 0, []int64{2, 2}, []int64{3, 1}, "reaches element 4"},
		{"negative offset", -1, []int64{2}, []int64{1}, "negative storage offset"},
		{"negative size", 0, []int64{-2}, []int64{1}, "negative size or stride"},
		{"negative stride", 3, []int64{2}, []int64{-1}, "negative size or stride"},
		{"rank mismatch", 0, []int64{2, 2}, []int64{1}, "has 2 dimensions but stride"},
		{"numel overflow", 0, []int64{1 << 32, 1 << 32}, []int64{1, 1}, "element count overflows"},
		{"extent overflow", 0, []int64{2, 2}, []int64{1 << 62, 1 << 62}, "extent overflows"},
		{"empty past end", 5, []int64{0}, []int64{1}, "storage offset 5 is past"},
	}
	for _, c := range cases {
		tn := f32Tensor("w", "0", 4)
		tn.offset, tn.size, tn.stride = c.offset, c.size, c.stride
		data := makePth(t, stateDictPickle(tn), oneStorage)
		expectErr(t, c.name+".pth", data, `: key "w": `)
		expectErr(t, c.name+".pth", data, c.want)
	}
	rank := f32Tensor("w", "0", 4)
	rank.size = make([]int64, 65)
	rank.stride = make([]int64, 65)
	expectErr(t, "rank.pth", makePth(t, stateDictPickle(rank), oneStorage), "unexpected arguments")

	// In-range strided views are gathered: transposed, stride 0, offset.
	views := []pkTensor{
		{key: "t", storage: "0", class: "FloatStorage", numel: 4, size: []int64{2, 2}, stride: []int64{1, 2}},
		{key: "bcast", storage: "0", class: "FloatStorage", numel: 4, offset: 3, size: []int64{2, 3}, stride: []int64{0, 0}},
		{key: "odd", storage: "0", class: "FloatStorage", numel: 4, offset: 1, size: []int64{2}, stride: []int64{2}},
		{key: "empty", storage: "0", class: "FloatStorage", numel: 4, offset: 4, size: []int64{0, 7}, stride: []int64{1 << 40, 1}},
		{key: "scalar", storage: "0", class: "FloatStorage", numel: 4, offset: 2},
	}
	f := mustRead(t, "views.pth", makePth(t, stateDictPickle(views...), oneStorage))
	want := "bcast float32 [2 3] [4 4 4 4 4 4]\nempty float32 [0 7] []\nodd float32 [2] [2 4]\nscalar float32 [] [3]\nt float32 [2 2] [1 3 2 4]\n"
	if got := describe(f); got != want {
		t.Errorf("got\n%swant\n%s", got, want)
	}
}

// patchCentral rewrites the uncompressed size (and, for stored entries,
// the compressed size) that the central directory declares for entry
// name, as a forger would.
func patchCentral(t *testing.T, data []byte, name string, compressed, uncompressed uint32) []byte {
	t.Helper()
	data = append([]byte(nil), data...)
	sig := []byte("PK\x01\x02")
	for i := bytes.Index(data, sig); i >= 0; {
		nameLen := int(binary.LittleEndian.Uint16(data[i+28:]))
		if string(data[i+46:i+46+nameLen]) == name {
			binary.LittleEndian.PutUint32(data[i+20:], compressed)
			binary.LittleEndian.PutUint32(data[i+24:], uncompressed)
			return data
		}
		j := bytes.Index(data[i+4:], sig)
		if j < 0 {
			break
		}
		i += 4 + j
	}
	t.Fatalf("no central directory entry %q", name)
	return nil
}

func TestPthForgedZip(t *testing.T) {
	pkl := stateDictPickle(f32Tensor("w", "0", 4))
	good := makePth(t, pkl, oneStorage)

	// data.pkl declared far larger than the file: refused before reading.
	expectErr(t, "bigpkl.pth", patchCentral(t, good, "archive/data.pkl", 1<<25, 1<<25), "run past the end of the")
	expectErr(t, "hugepkl.pth", patchCentral(t, good, "archive/data.pkl", 1<<27, 1<<27), "more than the 67108864 such an entry can hold")
	_, err := readSmall(t, "limit.pth", good, Options{MaxBytes: 100})
	checkErr(t, err, "limit.pth", `zip entry "archive/data.pkl" declares`)
	expectErr(t, "sizes.pth", patchCentral(t, good, "archive/data.pkl", 10, uint32(len(pkl))), "declares 10 bytes compressed")

	// Corrupted storage bytes fail the CRC.
	bad := bytes.Replace(good, f32Bytes(1, 2, 3, 4), f32Bytes(1, 2, 3, 5), 1)
	expectErr(t, "crc.pth", bad, "checksum mismatch")

	// Unknown compression method.
	method := makeZip(t, zipEntry{name: "a/data.pkl", data: pkl})
	for _, sig := range []struct {
		s   string
		off int
	}{{"PK\x03\x04", 8}, {"PK\x01\x02", 10}} {
		i := bytes.Index(method, []byte(sig.s))
		binary.LittleEndian.PutUint16(method[i+sig.off:], 99)
	}
	expectErr(t, "method.pth", method, "compression method 99")

	// Deflated entries work, and a bomb cannot exceed its declared size.
	deflated := makeZip(t, zipEntry{name: "a/data.pkl", data: pkl, method: zip.Deflate},
		zipEntry{name: "a/data/0", data: oneStorage["0"], method: zip.Deflate})
	mustRead(t, "deflated.pth", deflated)
	zeros := make([]byte, 8<<20)
	bomb := makeZip(t, zipEntry{name: "a/data.pkl", data: zeros, method: zip.Deflate})
	expectErr(t, "bomb.pth", patchCentralUncompressed(t, bomb, "a/data.pkl", 1000), "inflates to more than its declared size")
	expectErr(t, "ratio.pth", patchCentralUncompressed(t, bomb, "a/data.pkl", 1<<25), "more than deflate can produce")
	_, err = readSmall(t, "bomblimit.pth", bomb, Options{MaxBytes: 1 << 20})
	checkErr(t, err, "bomblimit.pth", "limit set by Options.MaxBytes")
}

// patchCentralUncompressed forges only the uncompressed size.
func patchCentralUncompressed(t *testing.T, data []byte, name string, size uint32) []byte {
	t.Helper()
	r, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range r.File {
		if f.Name == name {
			return patchCentral(t, data, name, uint32(f.CompressedSize64), size)
		}
	}
	t.Fatalf("no entry %q", name)
	return nil
}

func TestPthByteOrder(t *testing.T) {
	pkl := stateDictPickle(f32Tensor("w", "0", 2))
	be := []byte{0x3f, 0x80, 0, 0, 0xc0, 0, 0, 0} // 1, -2 big-endian
	f := mustRead(t, "be.pth", makeZip(t, zipEntry{name: "a/data.pkl", data: pkl},
		zipEntry{name: "a/byteorder", data: []byte("big")}, zipEntry{name: "a/data/0", data: be}))
	if got := describe(f); got != "w float32 [2] [1 -2]\n" {
		t.Errorf("big-endian storage: %s", got)
	}
	expectErr(t, "middle.pth", makeZip(t, zipEntry{name: "a/data.pkl", data: pkl},
		zipEntry{name: "a/byteorder", data: []byte("middle")}), `says "middle", want little or big`)
	expectErr(t, "longorder.pth", makeZip(t, zipEntry{name: "a/data.pkl", data: pkl},
		zipEntry{name: "a/byteorder", data: make([]byte, 100)}), "more than the 16 such an entry can hold")
}

// TestPthBudget: views multiply a storage's size; the tensor bytes, not
// only the storage bytes, are bounded, so 1000 views of one storage cannot
// make the reader allocate 1000 copies.
func TestPthBudget(t *testing.T) {
	const n = 1 << 16 // 256 KiB storage
	var views []pkTensor
	for i := 0; i < 1000; i++ {
		v := f32Tensor("v"+string(rune('a'+i%26))+string(rune('a'+i/26%26))+string(rune('a'+i/676)), "0", n)
		views = append(views, v)
	}
	data := makePth(t, stateDictPickle(views...), map[string][]byte{"0": make([]byte, 4*n)})
	_, err := readSmall(t, "views.pth", data, Options{MaxBytes: 8 << 20})
	checkErr(t, err, "views.pth", "tensors total more than 8388608 bytes")
}

func TestPthStateDictShapes(t *testing.T) {
	tensor := func(p *pk) *pk { return p.tensor(f32Tensor("", "0", 4)) }
	wrap := func(outer string) []byte {
		p := new(pk).proto(2).op('}', '(').str("epoch").int(3).str(outer).emptyOrderedDict().op('(').str("w")
		tensor(p).op('u', 'u', '.')
		return p.Bytes()
	}
	for _, outer := range []string{"model", "state_dict", "model_state_dict", "net", "network", "module"} {
		f := mustRead(t, outer+".pth", makePth(t, wrap(outer), oneStorage))
		if got := describe(f); got != "w float32 [4] [1 2 3 4]\n" {
			t.Errorf("%s wrapper: %s", outer, got)
		}
	}
	expectErr(t, "other.pth", makePth(t, wrap("weights_of_mine"), oneStorage), `the checkpoint is a dict of "epoch" (int), "weights_of_mine" (dict), and none is a state_dict: acgen looks at the top level and under state_dict, model, model_state_dict, net, network, module, weights, params; save the weights with torch.save(model.state_dict(), path)`)

	list := new(pk).proto(2).op(']')
	expectErr(t, "list.pth", makePth(t, tensor(list).op('a', '.').Bytes(), oneStorage), "the pickle holds a list, not a dict of tensors")
	intKey := new(pk).proto(2).op('}').int(7)
	expectErr(t, "intkey.pth", makePth(t, tensor(intKey).op('s', '.').Bytes(), oneStorage), "state_dict key 0 is a int, not a str")
	nested := new(pk).proto(2).op('}').str("net").op('}', 's', '.')
	expectErr(t, "nested.pth", makePth(t, nested.Bytes(), nil), `the checkpoint is a dict of "net" (dict), and none is a state_dict`)

	// DataParallel: the prefix goes only when every key has it.
	all := stateDictPickle(f32Tensor("module.a", "0", 4), f32Tensor("module.bn.num_batches_tracked", "0", 4))
	if got := mustRead(t, "dp.pth", makePth(t, all, oneStorage)).Keys(); len(got) != 1 || got[0] != "a" {
		t.Errorf("DataParallel keys: %v", got)
	}
	some := stateDictPickle(f32Tensor("module.a", "0", 4), f32Tensor("b", "0", 4))
	if got := mustRead(t, "some.pth", makePth(t, some, oneStorage)).Keys(); len(got) != 2 || got[0] != "b" || got[1] != "module.a" {
		t.Errorf("partial prefix keys: %v", got)
	}

	// Non-float tensors are kept without Data.
	ints := f32Tensor("i", "0", 2)
	ints.class = "LongStorage"
	f := mustRead(t, "ints.pth", makePth(t, stateDictPickle(ints), oneStorage))
	if got := describe(f); got != "i int64 [2] []\n" || f.Tensors["i"].Data != nil {
		t.Errorf("int64 tensor: %q", got)
	}
}
