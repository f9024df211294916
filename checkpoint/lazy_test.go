package checkpoint

import (
	"path/filepath"
	"testing"
)

// TestLazy: a lazy load of every format holds no data until Load, then
// the same values an eager load holds; Release lets them go and Load
// brings them back.
func TestLazy(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.pth")
	more, _ := filepath.Glob("testdata/*.safetensors")
	h5, _ := filepath.Glob("testdata/hdf5/*.hdf5")
	files = append(append(files, more...), h5...)
	if len(files) < 5 {
		t.Fatalf("only %d test files", len(files))
	}
	for _, path := range files {
		eager, err := Load(path, Options{})
		if err != nil {
			continue // a file kept to be refused
		}
		lazy, err := Load(path, Options{Lazy: true})
		if err != nil {
			t.Fatalf("%s: lazy: %v", path, err)
		}
		for _, k := range lazy.Keys() {
			tt := lazy.Tensors[k]
			if tt.Data != nil {
				t.Fatalf("%s: %s decoded before Load", path, k)
			}
			if tt.Float() != (eager.Tensors[k].Data != nil) {
				t.Fatalf("%s: %s: Float() %v", path, k, tt.Float())
			}
			if err := tt.Load(); err != nil {
				t.Fatalf("%s: %v", path, err)
			}
		}
		equalFiles(t, eager, lazy)
		for _, k := range lazy.Keys() {
			lazy.Tensors[k].Release()
			if lazy.Tensors[k].Data != nil {
				t.Fatalf("%s: %s kept after Release", path, k)
			}
			if err := lazy.Tensors[k].Load(); err != nil {
				t.Fatal(err)
			}
		}
		equalFiles(t, eager, lazy)
		lazy.Close()
	}
}
