package checkpoint

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime/metrics"
	"strings"
	"sync"
	"testing"
)

// The fuzz targets share one oracle: Read either succeeds with tensors
// whose Data matches their Shape, or fails with one line naming the file.
// A panic, a hang or a huge allocation is a bug in all three.

func FuzzReadPth(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		var file *File
		var err error
		withinBudget(t, len(data), func() { file, err = Read("fuzz.pth", data, Options{MaxBytes: 1 << 20}) })
		checkResult(t, "fuzz.pth", file, err)
	})
}

func FuzzReadSafetensors(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		var file *File
		var err error
		withinBudget(t, len(data), func() { file, err = Read("fuzz.safetensors", data, Options{MaxBytes: 1 << 20}) })
		checkResult(t, "fuzz.safetensors", file, err)
	})
}

func FuzzReadHDF5(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		var file *File
		var err error
		withinBudget(t, len(data), func() { file, err = Read("fuzz.h5", data, Options{MaxBytes: 1 << 20}) })
		checkResult(t, "fuzz.h5", file, err)
	})
}

// withinBudget fails when read allocates more than the readers' budget
// allows for an input of n bytes: the pickle decoder's few hundred bytes
// a byte, the 1 MiB of tensors the fuzz targets allow widened to float64,
// and a fixed allowance.
func withinBudget(t *testing.T, n int, read func()) {
	allocs := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(allocs) // unlike ReadMemStats, without stopping the world
	before := allocs[0].Value.Uint64()
	read()
	metrics.Read(allocs)
	if got, limit := allocs[0].Value.Uint64()-before, uint64(300*n+8<<20+16<<20); got > limit {
		t.Fatalf("reading %d bytes allocated %d, more than the budget of %d", n, got, limit)
	}
}

// FuzzUnpickle feeds raw data.pkl bytes to the pickle decoder, the torch
// allowlist and the tensor checks, with the storages of variety.pth
// available, skipping the zip layer (whose CRCs would stop most mutations).
func FuzzUnpickle(f *testing.F) {
	storages := fuzzStorages(f)
	f.Fuzz(func(t *testing.T, pkl []byte) {
		var raws []rawTensor
		var err error
		var file *File
		withinBudget(t, len(pkl), func() {
			raws, err = loadPickle(pkl, storages)
			if err == nil {
				var tensors map[string]*Tensor
				if tensors, err = finish(raws, 1<<20, nil, false); err == nil {
					file = &File{Tensors: tensors}
				}
			}
		})
		if err != nil {
			err = fmt.Errorf("fuzz.pkl: %w", err)
		}
		checkResult(t, "fuzz.pkl", file, err)
	})
}

var (
	storagesOnce sync.Once
	storagesMap  memStorages
)

func fuzzStorages(tb testing.TB) memStorages {
	storagesOnce.Do(func() {
		data, err := os.ReadFile("testdata/variety.pth")
		if err != nil {
			tb.Fatal(err)
		}
		storagesMap = memStorages{}
		for _, e := range unzipAll(tb, data) {
			if i := strings.Index(e.name, "/data/"); i >= 0 {
				storagesMap[e.name[i+len("/data/"):]] = e.data
			}
		}
	})
	return storagesMap
}

func checkResult(t *testing.T, name string, f *File, err error) {
	if err != nil {
		if msg := err.Error(); !strings.HasPrefix(msg, name+": ") || strings.Contains(msg, "\n") {
			t.Fatalf("error not one line naming the file: %q", msg)
		}
		return
	}
	for k, tn := range f.Tensors {
		n := 1
		for _, d := range tn.Shape {
			if d < 0 {
				t.Fatalf("%q: negative dimension in %v", k, tn.Shape)
			}
			n *= d
		}
		isFloat := tn.DType == "float32" || tn.DType == "float64" || tn.DType == "float16" || tn.DType == "bfloat16"
		if isFloat && len(tn.Data) != n || !isFloat && tn.Data != nil || tn.Key != k {
			t.Fatalf("%q: %s %v with %d values", k, tn.DType, tn.Shape, len(tn.Data))
		}
	}
}

var updateCorpus = flag.Bool("update-corpus", false, "rewrite the seed corpora under testdata/fuzz")

// TestFuzzCorpus writes the committed seed corpora (with -update-corpus)
// and checks that they exist, so the fuzz targets never start from nothing.
func TestFuzzCorpus(t *testing.T) {
	seeds := map[string]map[string][]byte{
		"FuzzReadPth":         {},
		"FuzzUnpickle":        {},
		"FuzzReadSafetensors": {},
		"FuzzReadHDF5":        {},
	}
	if *updateCorpus {
		for _, name := range []string{"tiny", "variety_proto4", "deflated", "wrapped_model", "parameters"} {
			data := mustReadFile(t, "testdata/"+name+".pth")
			seeds["FuzzReadPth"][name] = data
			for _, e := range unzipAll(t, data) {
				if strings.HasSuffix(e.name, "/data.pkl") && name != "deflated" { // same pickle as tiny
					seeds["FuzzUnpickle"][name] = e.data
				}
			}
		}
		seeds["FuzzUnpickle"]["variety"] = unzipEntry(t, "testdata/variety.pth", "/data.pkl")
		pkl := stateDictPickle(f32Tensor("w", "0", 4), pkTensor{key: "v", storage: "0", class: "FloatStorage", numel: 4, offset: 1, size: []int64{2}, stride: []int64{2}})
		seeds["FuzzReadPth"]["synthetic"] = makePth(t, pkl, oneStorage)
		seeds["FuzzReadPth"]["bigendian"] = makeZip(t, zipEntry{name: "a/data.pkl", data: pkl},
			zipEntry{name: "a/byteorder", data: []byte("big")}, zipEntry{name: "a/data/0", data: oneStorage["0"]})
		seeds["FuzzUnpickle"]["synthetic"] = pkl
		seeds["FuzzUnpickle"]["global"] = new(pk).proto(2).global("posix", "system").str("ls").op(0x85, 'R', '.').Bytes()
		seeds["FuzzUnpickle"]["proto0"] = []byte("(dp0\nVepoch\np1\nI3\nsS'a'\n(lp2\nF1.5\naL7L\nag1\na.")
		seeds["FuzzUnpickle"]["proto4"] = []byte("\x80\x04\x95\x10\x00\x00\x00\x00\x00\x00\x00}\x94(\x8c\x01a\x94]\x94h\x01\x87u.")
		seeds["FuzzReadSafetensors"]["tiny"] = mustReadFile(t, "testdata/tiny.safetensors")
		seeds["FuzzReadSafetensors"]["variety"] = mustReadFile(t, "testdata/variety.safetensors")
		seeds["FuzzReadSafetensors"]["small"] = makeSafetensors(map[string]any{
			"__metadata__": map[string]string{"format": "pt"},
			"a":            st("F16", []int64{2}, 0, 4), "b": st("I64", []int64{}, 4, 12),
		}, make([]byte, 12))
		for _, name := range []string{"plain", "filters", "latest", "userblock"} {
			seeds["FuzzReadHDF5"][name] = mustReadFile(t, "testdata/hdf5/"+name+".h5")
		}
		for target, files := range seeds {
			dir := filepath.Join("testdata", "fuzz", target)
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			for name, data := range files {
				body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", data)
				if err := os.WriteFile(filepath.Join(dir, "seed-"+name), []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	for target := range seeds {
		files, _ := filepath.Glob(filepath.Join("testdata", "fuzz", target, "seed-*"))
		if len(files) < 3 {
			t.Errorf("%s: %d seed files; run go test -run TestFuzzCorpus -update-corpus", target, len(files))
		}
	}
}

func mustReadFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func unzipEntry(t *testing.T, path, suffix string) []byte {
	t.Helper()
	for _, e := range unzipAll(t, mustReadFile(t, path)) {
		if strings.HasSuffix(e.name, suffix) {
			return e.data
		}
	}
	t.Fatalf("%s: no entry *%s", path, suffix)
	return nil
}
