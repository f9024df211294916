package checkpoint

import (
	"os"
	"path/filepath"
	"testing"
)

// fixtureDTypes are the fixtures stored in a dtype other than float32.
var fixtureDTypes = map[string]string{"half": "float16", "bf16": "bfloat16", "f64": "float64"}

// TestFixtures loads every fixture the PyTorch fixture script wrote
// (../fixtures/<name>/model.pth and model.safetensors): both formats must
// give identical tensors, in the dtype the fixture is stored in.
func TestFixtures(t *testing.T) {
	dirs, _ := filepath.Glob("../fixtures/*/model.pth")
	if len(dirs) == 0 {
		t.Skip("no fixtures under ../fixtures")
	}
	for _, pth := range dirs {
		dir := filepath.Dir(pth)
		name := filepath.Base(dir)
		t.Run(name, func(t *testing.T) {
			p := load(t, pth)
			s := load(t, filepath.Join(dir, "model.safetensors"))
			equalFiles(t, p, s)
			want := "float32"
			if dt, ok := fixtureDTypes[name]; ok {
				want = dt
			}
			for _, k := range p.Keys() {
				if got := p.Tensors[k].DType; got != want {
					t.Errorf("%s: key %q is %s, want %s", pth, k, got, want)
				}
			}
			if len(p.Tensors) == 0 {
				t.Errorf("%s: no tensors", pth)
			}
			io := filepath.Join(dir, "io.safetensors")
			if _, err := os.Stat(io); err == nil {
				f := load(t, io)
				for k, dt := range map[string]string{"input": "float32", "output": "float32", "output64": "float64"} {
					if tn, ok := f.Tensors[k]; !ok || tn.DType != dt || len(tn.Data) == 0 {
						t.Errorf("%s: %s missing or not %s", io, k, dt)
					}
				}
			}
		})
	}
}

// TestFixtureWrappers checks what each container fixture is for: the
// wrapped and DataParallel checkpoints normalise to plain keys.
func TestFixtureWrappers(t *testing.T) {
	for _, name := range []string{"wrapped_model", "wrapped_state_dict", "dataparallel"} {
		path := filepath.Join("..", "fixtures", name, "model.pth")
		if _, err := os.Stat(path); err != nil {
			t.Skip("no fixtures under ../fixtures")
		}
		f := load(t, path)
		if _, ok := f.Tensors["conv1.square_conv.weight"]; !ok {
			t.Errorf("%s: no conv1.square_conv.weight among %v", path, f.Keys()[:4])
		}
	}
}
