package checkpoint

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// equalFiles reports the first difference between two loads, comparing
// float bits exactly (so -0 and NaN payloads count).
func equalFiles(t *testing.T, a, b *File) {
	t.Helper()
	if !reflect.DeepEqual(a.Keys(), b.Keys()) {
		t.Fatalf("%s and %s: keys differ:\n%v\n%v", a.Path, b.Path, a.Keys(), b.Keys())
	}
	for _, k := range a.Keys() {
		x, y := a.Tensors[k], b.Tensors[k]
		if x.Key != k || y.Key != k || x.DType != y.DType || !reflect.DeepEqual(x.Shape, y.Shape) || len(x.Data) != len(y.Data) || (x.Data == nil) != (y.Data == nil) {
			t.Fatalf("%s and %s: key %q: %s %v (%d values) vs %s %v (%d values)", a.Path, b.Path, k, x.DType, x.Shape, len(x.Data), y.DType, y.Shape, len(y.Data))
		}
		for i := range x.Data {
			if math.Float64bits(x.Data[i]) != math.Float64bits(y.Data[i]) {
				t.Fatalf("%s and %s: key %q [%d]: %v vs %v", a.Path, b.Path, k, i, x.Data[i], y.Data[i])
			}
		}
	}
}

func load(t *testing.T, path string) *File {
	t.Helper()
	f, err := Load(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// wantTensor is a tensor as a fixture script wrote it down: dtype, shape,
// and for floats the float64 bit patterns of its values.
type wantTensor struct {
	DType string   `json:"dtype"`
	Shape []int    `json:"shape"`
	Bits  []string `json:"bits"`
}

// checkTensor reports where got differs from w; with anyNaN a NaN may
// have another payload than w's (torch's conversion does not keep them).
func checkTensor(t *testing.T, where string, got *Tensor, w wantTensor, anyNaN bool) {
	t.Helper()
	if got.DType != w.DType || !reflect.DeepEqual(got.Shape, w.Shape) && !(len(got.Shape) == 0 && len(w.Shape) == 0) {
		t.Errorf("%s: got %s %v, want %s %v", where, got.DType, got.Shape, w.DType, w.Shape)
	}
	if w.Bits == nil {
		if got.Data != nil {
			t.Errorf("%s: non-float tensor has Data", where)
		}
		return
	}
	if got.Data == nil || len(got.Data) != len(w.Bits) {
		t.Errorf("%s: %d values, want %d", where, len(got.Data), len(w.Bits))
		return
	}
	for i, hex := range w.Bits {
		b, _ := strconv.ParseUint(hex, 16, 64)
		wv, gv := math.Float64frombits(b), got.Data[i]
		if math.Float64bits(gv) != b && !(anyNaN && math.IsNaN(gv) && math.IsNaN(wv)) {
			t.Errorf("%s[%d] = %v (%016x), the fixture says %v (%s)", where, i, gv, math.Float64bits(gv), wv, hex)
			return
		}
	}
}

// TestVarietyMatchesTorch compares every value with torch's own float64
// conversion (variety.json, written by make.py): strided views, offsets,
// stride-0 expands, scalars, empty tensors, and float16/bfloat16/float32
// bit patterns covering subnormals, infinities, NaNs and -0.
func TestVarietyMatchesTorch(t *testing.T) {
	raw, err := os.ReadFile("testdata/variety.json")
	if err != nil {
		t.Fatal(err)
	}
	var want map[string]wantTensor
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"testdata/variety.pth", "testdata/variety_proto4.pth", "testdata/variety.safetensors"} {
		f := load(t, path)
		n := 0
		for k, w := range want {
			got, ok := f.Tensors[k]
			if strings.HasSuffix(k, "num_batches_tracked") {
				if ok {
					t.Errorf("%s: %s was kept", path, k)
				}
				continue
			}
			n++
			if !ok {
				t.Errorf("%s: key %s missing", path, k)
				continue
			}
			checkTensor(t, path+": "+k, got, w, true)
		}
		if len(f.Tensors) != n {
			t.Errorf("%s: %d tensors, want %d", path, len(f.Tensors), n)
		}
	}
}

// TestFormatsAgree: the same tensors through the pickle path (strided
// views of shared storages) and the safetensors path (contiguous copies).
func TestFormatsAgree(t *testing.T) {
	st := load(t, "testdata/variety.safetensors")
	equalFiles(t, load(t, "testdata/variety.pth"), st)
	equalFiles(t, load(t, "testdata/variety_proto4.pth"), st)
}

// TestContainers: every way make.py wraps the same state_dict loads to
// the same tensors as the plain safetensors file.
func TestContainers(t *testing.T) {
	want := load(t, "testdata/tiny.safetensors")
	if want.Format != "safetensors" {
		t.Errorf("format %q", want.Format)
	}
	for _, name := range []string{"tiny", "wrapped_model", "wrapped_state_dict", "dataparallel", "parameters", "deflated", "legacy"} {
		t.Run(name, func(t *testing.T) {
			f := load(t, "testdata/"+name+".pth")
			if f.Format != "pth" || f.Path != "testdata/"+name+".pth" {
				t.Errorf("format %q path %q", f.Format, f.Path)
			}
			equalFiles(t, f, want)
		})
	}
}

// TestRefusedFiles: real files of the kinds acgen does not read give one
// line that names the file and says what to do.
func TestRefusedFiles(t *testing.T) {
	for _, c := range []struct{ path, want string }{
		{"testdata/torchscript.pt", "TorchScript archive"},
		{"testdata/whole_model.pth", `data.pkl: pickle names "__main__.Tiny": refused; a state_dict needs only tensors and dicts`},
		{"testdata/make.py", "acgen reads PyTorch .pth files"},
		{"testdata/variety.json", "acgen reads PyTorch .pth files"},
		{"testdata/no-such-file.pth", "no such file"},
		{"testdata", "is a directory, not a file"},
	} {
		_, err := Load(c.path, Options{})
		checkErr(t, err, c.path, c.want)
	}
}

// checkErr wants a one-line error naming the file and containing want.
func checkErr(t *testing.T, err error, name, want string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: no error, want %q", name, want)
		return
	}
	msg := err.Error()
	if !strings.Contains(msg, name) || !strings.Contains(msg, want) || strings.Contains(msg, "\n") {
		t.Errorf("%s: error %q, want one line naming the file and containing %q", name, msg, want)
	}
}

func TestOptionsLimit(t *testing.T) {
	// tiny.safetensors holds 82 float32 values: 328 bytes.
	if _, err := Load("testdata/tiny.safetensors", Options{MaxBytes: 328}); err != nil {
		t.Fatal(err)
	}
	_, err := Load("testdata/tiny.safetensors", Options{MaxBytes: 327})
	checkErr(t, err, "tiny.safetensors", "limit set by Options.MaxBytes")
	_, err = Load("testdata/tiny.pth", Options{MaxBytes: 100})
	checkErr(t, err, "tiny.pth", "limit set by Options.MaxBytes")
}

func TestLoadEmptyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "empty.pth")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path, Options{})
	checkErr(t, err, path, "empty file")
}
