package driver

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/acgen/acgen/gen"
)

// TestWriteDirSymlinkedTestdata: a testdata that is a link out of dir is
// refused, and nothing outside dir is read, removed or written.
func TestWriteDirSymlinkedTestdata(t *testing.T) {
	root := t.TempDir()
	dir, outside := filepath.Join(root, "pkg"), filepath.Join(root, "elsewhere")
	os.MkdirAll(dir, 0o755)
	os.MkdirAll(outside, 0o755)
	victim := filepath.Join(outside, "golden.bin")
	os.WriteFile(victim, []byte(gen.Header+"\nnot yours\n"), 0o644)
	if err := os.Symlink(outside, filepath.Join(dir, "testdata")); err != nil {
		t.Skip("no symlinks:", err)
	}
	files := []gen.File{{Name: "a.go", Data: []byte(gen.Header + "\npackage p\n")}, {Name: "testdata/golden.bin", Data: []byte(gen.Header + "\nnew\n")}}
	_, err := WriteDir(dir, files)
	if err == nil || !strings.Contains(err.Error(), "is a symbolic link") {
		t.Fatalf("WriteDir: %v", err)
	}
	if b, _ := os.ReadFile(victim); string(b) != gen.Header+"\nnot yours\n" {
		t.Errorf("the file outside -out changed: %q", b)
	}
	if _, err := os.Stat(filepath.Join(dir, "a.go")); err == nil {
		t.Error("a.go was written")
	}
}

// TestWriteDirStaleBehindLink: a testdata that is a link out of dir is
// not searched for stale files, even when the package writes nothing
// there: a generated file outside dir is never removed.
func TestWriteDirStaleBehindLink(t *testing.T) {
	root := t.TempDir()
	dir, outside := filepath.Join(root, "pkg"), filepath.Join(root, "elsewhere")
	os.MkdirAll(outside, 0o755)
	victim := filepath.Join(outside, "old.bin")
	os.WriteFile(victim, []byte(gen.Header+"\nnot yours\n"), 0o644)
	write(t, dir, files[:2])
	if err := os.Symlink(outside, filepath.Join(dir, "testdata")); err != nil {
		t.Skip("no symlinks:", err)
	}
	rep := write(t, dir, files[:1])
	if fmt.Sprint(rep.Removed) != "[b.go]" {
		t.Errorf("removed %v", rep.Removed)
	}
	if _, err := os.Stat(victim); err != nil {
		t.Errorf("the generated file behind the link was removed: %v", err)
	}
}
