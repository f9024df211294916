package checkpoint

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestHDF5MatchesH5py reads the files make_hdf5.py wrote with real h5py
// (default and newest formats, a user block, chunks with gzip, shuffle and
// fletcher32, edge chunks, a multi-level chunk B-tree, float16/32/64 of
// either byte order, scalars, empty and nested datasets) and compares every
// value with numpy's float64 conversion.
func TestHDF5MatchesH5py(t *testing.T) {
	raw, err := os.ReadFile("testdata/hdf5/want.json")
	if err != nil {
		t.Fatal(err)
	}
	var want map[string]map[string]wantTensor
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatal(err)
	}
	for name, sets := range want {
		path := filepath.Join("testdata", "hdf5", name)
		f := load(t, path)
		if f.Format != "hdf5" {
			t.Errorf("%s: format %q", name, f.Format)
		}
		if len(f.Tensors) != len(sets) {
			t.Errorf("%s: %d tensors %v, want %d", name, len(f.Tensors), f.Keys(), len(sets))
		}
		for k, w := range sets {
			got, ok := f.Tensors[k]
			if !ok {
				t.Errorf("%s: key %s missing (have %v)", name, k, f.Keys())
				continue
			}
			checkTensor(t, name+": "+k, got, w, false)
		}
	}
	plain := load(t, "testdata/hdf5/plain.h5")
	if len(plain.Notes) != 1 || !strings.Contains(plain.Notes[0], `"deps"`) {
		t.Errorf("plain.h5: notes %q, want one about deps", plain.Notes)
	}
}

// TestHDF5Refused: what h5py can write but acgen does not read gets one
// line that says what to do.
func TestHDF5Refused(t *testing.T) {
	for name, want := range map[string]string{
		"dense.h5":      `re-save with h5py's default libver`,
		"lzf.h5":        `filter 32000 (lzf): acgen reads gzip, shuffle and fletcher32`,
		"fixedarray.h5": `chunk index type 3`,
	} {
		path := filepath.Join("testdata", "hdf5", name)
		_, err := Load(path, Options{})
		if err == nil || !strings.Contains(err.Error(), want) || !strings.HasPrefix(err.Error(), path+": hdf5: ") || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: %v, want an error with %q", name, err, want)
		}
	}
}
