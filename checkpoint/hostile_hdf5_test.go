package checkpoint

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestHDF5Hostile: structures that point back at themselves, a
// decompression bomb and sizes past the budget are refused in one line.
func TestHDF5Hostile(t *testing.T) {
	plain := mustReadFile(t, "testdata/hdf5/plain.h5")
	root := binary.LittleEndian.Uint64(plain[0x40:]) // the superblock's root entry: header address
	snod := bytes.Index(plain, []byte("SNOD"))
	if snod < 0 {
		t.Fatal("plain.h5: no symbol node")
	}
	cyclic := bytes.Clone(plain)
	binary.LittleEndian.PutUint64(cyclic[snod+8+8:], root) // first entry's header: the root group again
	huge := bytes.Clone(plain)
	if i := bytes.Index(huge, []byte{1, 4, 1, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0}); i >= 0 { // conv.weight's dataspace: 4x3x3x3
		binary.LittleEndian.PutUint64(huge[i+8:], 1<<40)
	} else {
		t.Fatal("plain.h5: conv.weight's dataspace not found")
	}
	for name, c := range map[string]struct {
		data []byte
		want string
	}{
		"cycle":     {cyclic, "is reached twice"},
		"huge":      {huge, "more than the 1048576 bytes allowed"},
		"truncated": {plain[:len(plain)-100], "truncated: the file should end at byte"},
	} {
		_, err := Read(name, c.data, Options{MaxBytes: 1 << 20})
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: %v, want %q", name, err, c.want)
		}
	}

	var bomb bytes.Buffer
	zw := zlib.NewWriter(&bomb)
	zw.Write(make([]byte, 64<<20))
	zw.Close()
	if _, err := h5Unfilter(bomb.Bytes(), []h5Filter{{id: h5Deflate}}, 0, 4, 64); err == nil || !strings.Contains(err.Error(), "bytes once decoded, want 64") {
		t.Errorf("deflate bomb: %v", err)
	}
}

// TestHDF5Mutations reads thousands of corrupted copies of the fixtures
// (bytes set to 0, 0xff or random, 8-byte words copied from elsewhere in
// the file, so addresses point at other structures) under the fuzz
// targets' oracle. It is FuzzReadHDF5's seed run made wide and
// deterministic, so CI covers it without -fuzz.
func TestHDF5Mutations(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, name := range []string{"plain", "filters", "latest", "userblock", "chunked"} {
		orig := mustReadFile(t, "testdata/hdf5/"+name+".h5")
		for i := 0; i < 3000; i++ {
			data := bytes.Clone(orig)
			for n := 1 + rng.IntN(4); n > 0; n-- {
				p := rng.IntN(len(data))
				switch rng.IntN(4) {
				case 0:
					data[p] = 0
				case 1:
					data[p] = 0xff
				case 2:
					data[p] = byte(rng.Uint32())
				case 3:
					q := rng.IntN(len(data) - 8)
					copy(data[p&^7:min(len(data), p&^7+8)], data[q:q+8])
				}
			}
			var file *File
			var err error
			withinBudget(t, len(data), func() { file, err = Read(name, data, Options{MaxBytes: 1 << 20}) })
			checkResult(t, name, file, err)
		}
	}
}
