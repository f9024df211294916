package checkpoint

import (
	"encoding/binary"
	"testing"
)

// legacyFile assembles the legacy format around the checkpoint pickle pkl:
// the magic number, the protocol version, the system info, pkl, the list
// of storage keys, then each storage as its element count and bytes.
func legacyFile(version, sysInfo, pkl []byte, keys []string, numels []int64, data [][]byte) []byte {
	b := append(append([]byte{}, pickleMagic...), '.')
	b = append(b, version...)
	b = append(b, sysInfo...)
	b = append(b, pkl...)
	list := []byte("\x80\x02]")
	for _, k := range keys {
		list = binary.LittleEndian.AppendUint32(append(list, 'X'), uint32(len(k)))
		list = append(append(list, k...), 'a')
	}
	b = append(b, append(list, '.')...)
	for i := range keys {
		b = binary.LittleEndian.AppendUint64(b, uint64(numels[i]))
		b = append(b, data[i]...)
	}
	return b
}

var (
	legacyVersion = []byte("\x80\x02M\xe9\x03.") // 1001
	littleEndian  = []byte("\x80\x02}X\x0d\x00\x00\x00little_endian\x88s.")
)

func TestLegacy(t *testing.T) {
	pkl := stateDictPickle(f32Tensor("w", "0", 4))
	w := f32Bytes(1, 2, 3, 4)
	f, err := readSmall(t, "ok.pth", legacyFile(legacyVersion, littleEndian, pkl, []string{"0"}, []int64{4}, [][]byte{w}), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := f.Tensors["w"]; got == nil || len(got.Data) != 4 || got.Data[3] != 4 {
		t.Fatalf("w = %+v", got)
	}

	expectErr(t, "magic.pth", append(append([]byte{}, pickleMagic...), '.'), "legacy format: protocol version pickle at byte 15")
	expectErr(t, "version.pth", legacyFile([]byte("\x80\x02M\xe8\x03."), littleEndian, pkl, []string{"0"}, []int64{4}, [][]byte{w}),
		"protocol version 1000, want 1001")
	expectErr(t, "bigendian.pth", legacyFile(legacyVersion, []byte("\x80\x02}X\x0d\x00\x00\x00little_endian\x89s."), pkl,
		[]string{"0"}, []int64{4}, [][]byte{w}), "written on a big-endian machine")
	expectErr(t, "huge.pth", legacyFile(legacyVersion, littleEndian, pkl, []string{"0"}, []int64{1 << 60}, [][]byte{w}),
		`storage "0" declares 1152921504606846976 elements, more than the 16 bytes left hold`)
	expectErr(t, "negative.pth", legacyFile(legacyVersion, littleEndian, pkl, []string{"0"}, []int64{-1}, [][]byte{w}),
		`storage "0" declares -1 elements`)
	expectErr(t, "count.pth", legacyFile(legacyVersion, littleEndian, pkl, []string{"0"}, []int64{3}, [][]byte{w[:12]}),
		`the pickle says 4 elements, the data 3`)
	expectErr(t, "stranger.pth", legacyFile(legacyVersion, littleEndian, pkl, []string{"1"}, []int64{4}, [][]byte{w}),
		`storage "1" is not one the checkpoint refers to`)
	expectErr(t, "twice.pth", legacyFile(legacyVersion, littleEndian, pkl, []string{"0", "0"}, []int64{4, 4}, [][]byte{w, w}),
		`storage "0" is listed twice`)
	expectErr(t, "unlisted.pth", legacyFile(legacyVersion, littleEndian, pkl, nil, nil, nil),
		`storage "0": not among the file's storages`)
	// The checkpoint pickle is held to the same allowlist as data.pkl.
	expectErr(t, "class.pth", legacyFile(legacyVersion, littleEndian, []byte("\x80\x02cos\nsystem\n."), nil, nil, nil),
		`pickle names "os.system": refused`)
	_, err = Read("limit.pth", legacyFile(legacyVersion, littleEndian, pkl, []string{"0"}, []int64{4}, [][]byte{w}), Options{MaxBytes: 8})
	checkErr(t, err, "limit.pth", "the limit set by Options.MaxBytes")
}
