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
	for _, c := range []struct{ fixture, dir string }{
		{"resnet20", "../out/resnet20"},
	} {
		f := fixtures.Get(c.fixture)
		res, err := driver.Run(&driver.Config{
			// The same relative paths as out/doc.go's go:generate line,
			// since the doc comment names the input files.
			Spec: f.Spec, Weights: f.Pth, Asm: assembler(),
			Out: filepath.Join(t.TempDir(), filepath.Base(c.dir)),
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, file := range res.Files {
			old, err := os.ReadFile(filepath.Join(c.dir, filepath.FromSlash(file.Name)))
			if err != nil {
				t.Errorf("%s: %v (run go generate ./out)", c.dir, err)
				continue
			}
			if !bytes.Equal(old, file.Data) {
				t.Errorf("%s/%s differs from what acgen generates now (run go generate ./out)", c.dir, file.Name)
			}
		}
	}
}
