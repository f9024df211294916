package driver

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestWriteDirInPlace writes a package and then a changed one into a
// directory given in every spelling a user or a //go:generate line
// writes, from inside it where the spelling is relative, and checks that
// the directory stays the one it was: the same inode, and a handle opened
// on it before (as a shell or go generate standing in it holds) sees the
// new files through it. The user's own file in it is untouched, and
// nothing of WriteDir's is left behind.
func TestWriteDirInPlace(t *testing.T) {
	for _, c := range []struct {
		name string
		out  string // -out, relative to cwd
		cwd  string // relative to root
	}{
		{"dot", ".", "pkg"},
		{"dot slash", "./", "pkg"},
		{"parent and back", "../pkg", "pkg"},
		{"absolute", "ROOT/pkg", "."},
		{"through a symlinked parent", "ROOT/link/pkg", "."},
		{"dot through a symlinked parent", ".", "link/pkg"},
		{"a symlink to the directory", "pkglink", "."},
	} {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			dir := filepath.Join(root, "pkg")
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(root, filepath.Join(root, "link")); err != nil {
				t.Skip("no symlinks:", err)
			}
			if err := os.Symlink("pkg", filepath.Join(root, "pkglink")); err != nil {
				t.Fatal(err)
			}
			mine := filepath.Join(dir, "gen.go")
			if err := os.WriteFile(mine, []byte("package p\n\n//go:generate acgen -out .\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			oldTimes(t, dir)
			mineBefore := snapshot(t, dir)["gen.go"]
			before, err := os.Stat(dir)
			if err != nil {
				t.Fatal(err)
			}
			held, err := os.OpenRoot(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer held.Close()
			t.Chdir(filepath.Join(root, c.cwd))
			out := c.out
			if rest, ok := strings.CutPrefix(out, "ROOT/"); ok {
				out = filepath.Join(root, rest)
			}
			write(t, out, files)
			rep := write(t, out, next)
			if len(rep.Written) != 3 || len(rep.Removed) != 2 {
				t.Errorf("second write: %+v", rep)
			}
			after, err := os.Stat(dir)
			if err != nil {
				t.Fatal(err)
			}
			if !os.SameFile(before, after) {
				t.Errorf("-out %s: the directory was replaced by another (inode changed)", c.out)
			}
			for _, f := range next {
				if b, err := readIn(held, f.Name); err != nil || string(b) != string(f.Data) {
					t.Errorf("-out %s: %s through a handle held from before: %q, %v", c.out, f.Name, b, err)
				}
			}
			if _, err := held.Stat("c.go"); err == nil {
				t.Errorf("-out %s: stale c.go still there", c.out)
			}
			sameSnapshot(t, "the user's gen.go", map[string]fileState{"gen.go": snapshot(t, dir)["gen.go"]}, map[string]fileState{"gen.go": mineBefore})
			noLeftovers(t, dir)
		})
	}
}

// TestWriteDirNew: a -out that does not exist is made, parents and all,
// with the usual permissions; a run that fails removes what it made.
func TestWriteDirNew(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "a", "b", "pkg")
	write(t, dir, files)
	if st, err := os.Stat(dir); err != nil || st.Mode().Perm()&0o700 != 0o700 || st.Mode().Perm() == 0o700 {
		t.Errorf("new directory: %v %v (want the usual permissions, not MkdirTemp's 0700)", st.Mode(), err)
	}
	noLeftovers(t, dir)

	dir = filepath.Join(parent, "c", "d", "pkg")
	failAt(t, 1)
	if _, err := WriteDir(dir, files); err == nil {
		t.Fatal("WriteDir did not fail")
	}
	if _, err := os.Stat(filepath.Join(parent, "c")); err == nil {
		t.Errorf("a failed run left the directories it made")
	}
}

// readIn reads the file name under root.
func readIn(root *os.Root, name string) ([]byte, error) {
	f, err := root.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}
