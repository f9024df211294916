package a64

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/kernels.golden")

// kernelsFile is e2eFile's kernels without sweep.
func kernelsFile() *File {
	f := e2eFile()
	f.funcs = f.funcs[:len(f.funcs)-1]
	return f
}

// TestGolden holds the printed .s and Go files of the end-to-end
// kernels to testdata/kernels.golden (go test -update rewrites it), and
// checks that printing twice gives the same bytes.
func TestGolden(t *testing.T) {
	print := func() []byte {
		f := kernelsFile()
		asm, err := f.Asm()
		if err != nil {
			t.Fatal(err)
		}
		stubs, err := f.GoFile("k")
		if err != nil {
			t.Fatal(err)
		}
		return append(append(asm, "\n// ---- stubs_arm64.go\n\n"...), stubs...)
	}
	got := print()
	if !bytes.Equal(got, print()) {
		t.Fatal("two printings differ")
	}
	path := filepath.Join("testdata", "kernels.golden")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("printed files differ from %s (go test -update rewrites it):\n%s", path, firstDiff(string(got), string(want)))
	}
}

func firstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range al {
		if i >= len(bl) || al[i] != bl[i] {
			w := ""
			if i < len(bl) {
				w = bl[i]
			}
			return fmt.Sprintf("line %d:\n got  %s\n want %s", i+1, al[i], w)
		}
	}
	return "the golden file has more lines"
}
