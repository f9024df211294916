package checkpoint

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"io"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
)

// TestTruncatedFiles: every proper prefix of a valid file is an error
// (never a panic, never a success), and a one-line error naming the file.
func TestTruncatedFiles(t *testing.T) {
	for _, path := range []string{"testdata/tiny.pth", "testdata/variety.pth", "testdata/variety_proto4.pth",
		"testdata/deflated.pth", "testdata/legacy.pth", "testdata/tiny.safetensors", "testdata/variety.safetensors",
		"testdata/hdf5/plain.h5", "testdata/hdf5/chunked.h5", "testdata/hdf5/latest.h5", "testdata/hdf5/userblock.h5"} {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		mustRead(t, path, data)
		for n := 0; n < len(data); n++ {
			_, err := Read(path, data[:n], Options{})
			if err == nil {
				t.Fatalf("%s cut to %d of %d bytes: no error", path, n, len(data))
			}
			if msg := err.Error(); !strings.HasPrefix(msg, path+": ") || strings.Contains(msg, "\n") {
				t.Fatalf("%s cut to %d bytes: error %q", path, n, msg)
			}
		}
	}
}

// TestTruncatedPickles: a zip prefix fails early (no central directory),
// so this cuts data.pkl itself and rebuilds a well-formed archive around
// every prefix, to reach the pickle decoder with each one.
func TestTruncatedPickles(t *testing.T) {
	for _, path := range []string{"testdata/variety.pth", "testdata/variety_proto4.pth", "testdata/wrapped_model.pth"} {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		entries := unzipAll(t, data)
		var pkl []byte
		for i, e := range entries {
			if strings.HasSuffix(e.name, "/data.pkl") {
				pkl = e.data
				entries = append(entries[:i:i], entries[i+1:]...)
				break
			}
		}
		for n := 0; n < len(pkl); n++ {
			cut := append([]zipEntry{{name: "x/data.pkl", data: pkl[:n]}}, renamed(entries, "x/")...)
			_, err := Read(path, makeZip(t, cut...), Options{})
			if err == nil {
				t.Fatalf("%s with data.pkl cut to %d of %d bytes: no error", path, n, len(pkl))
			}
			if msg := err.Error(); !strings.Contains(msg, "data.pkl: ") || strings.Contains(msg, "\n") {
				t.Fatalf("%s with data.pkl cut to %d: error %q", path, n, msg)
			}
		}
	}
}

// TestTruncatedData: a safetensors file whose data section is cut, header
// intact.
func TestTruncatedData(t *testing.T) {
	data, err := os.ReadFile("testdata/variety.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	hdr := 8 + int(binary.LittleEndian.Uint64(data))
	for n := hdr; n < len(data); n++ {
		if _, err := Read("v.safetensors", data[:n], Options{}); err == nil || !strings.Contains(err.Error(), "outside the") {
			t.Fatalf("cut to %d: %v", n, err)
		}
	}
}

func unzipAll(t testing.TB, data []byte) []zipEntry {
	t.Helper()
	r, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	var out []zipEntry
	for _, f := range r.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, zipEntry{name: f.Name, data: b})
	}
	return out
}

// renamed moves entries under a new top folder.
func renamed(entries []zipEntry, prefix string) []zipEntry {
	out := make([]zipEntry, len(entries))
	for i, e := range entries {
		out[i] = e
		out[i].name = prefix + e.name[strings.IndexByte(e.name, '/')+1:]
	}
	return out
}

// TestRandomBytes: random input, bare and behind each format's magic, is
// an error every time.
func TestRandomBytes(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 3000; i++ {
		data := make([]byte, r.IntN(2000))
		for j := range data {
			data[j] = byte(r.Uint32())
		}
		switch i % 3 {
		case 1:
			data = append([]byte("PK\x03\x04"), data...)
		case 2:
			data = append(binary.LittleEndian.AppendUint64(nil, uint64(r.IntN(len(data)+1))), append([]byte("{"), data...)...)
		}
		if _, err := Read("random.bin", data, Options{}); err == nil {
			t.Fatalf("random input %d accepted", i)
		} else if !strings.HasPrefix(err.Error(), "random.bin: ") || strings.Contains(err.Error(), "\n") {
			t.Fatalf("error %q", err)
		}
	}
}
