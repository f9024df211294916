package tests

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/acgen/acgen/driver"
	"github.com/acgen/acgen/fixtures"
)

// TestCheckedInPackagesAreFresh regenerates the packages under out/ and
// checks that not a byte differs: generation is deterministic, and the
// checked-in examples are what this acgen produces.
func TestCheckedInPackagesAreFresh(t *testing.T) {
	f := fixtures.Get("resnet20")
	for _, c := range []struct{ spec, weights, dir, pkg string }{
		{f.Spec, f.Pth, "../out/resnet20", ""},
		{"../examples/digits/net.yaml", "../examples/digits/model.pth", "../examples/digits/model", "model"},
	} {
		res, err := driver.Run(&driver.Config{
			Spec: c.spec, Weights: c.weights, Package: c.pkg, Asm: assembler(),
			Out: filepath.Join(t.TempDir(), filepath.Base(c.dir)),
		})
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]bool{}
		for _, file := range res.Files {
			want[file.Name] = true
		}
		for _, sub := range []string{"", "testdata"} {
			entries, err := os.ReadDir(filepath.Join(c.dir, sub))
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range entries {
				if name := filepath.ToSlash(filepath.Join(sub, e.Name())); !e.IsDir() && !want[name] {
					t.Errorf("%s/%s is not generated any more (run go generate)", c.dir, name)
				}
			}
		}
		for _, file := range res.Files {
			old, err := os.ReadFile(filepath.Join(c.dir, filepath.FromSlash(file.Name)))
			if err != nil {
				t.Errorf("%s: %v (run go generate ./out ./examples/...)", c.dir, err)
				continue
			}
			if !bytes.Equal(old, file.Data) {
				t.Errorf("%s/%s differs from what acgen generates now (run go generate ./out ./examples/...)", c.dir, file.Name)
			}
		}
	}
}
