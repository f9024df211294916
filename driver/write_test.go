package driver

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/acgen/acgen/gen"
)

func genFile(name, body string) gen.File {
	return gen.File{Name: name, Data: []byte(gen.Header + "\n\n" + body)}
}

// files is a generated package, and next the one a later run makes of
// changed inputs: a.go changes, b.go stays, c.go and testdata/old.bin go,
// d.go and testdata/new.bin come.
var (
	files = []gen.File{
		genFile("a.go", "package p // a1\n"),
		genFile("b.go", "package p // b\n"),
		genFile("c.go", "package p // c\n"),
		genFile("testdata/old.bin", "old"),
	}
	next = []gen.File{
		genFile("a.go", "package p // a2\n"),
		genFile("b.go", "package p // b\n"),
		genFile("d.go", "package p // d\n"),
		genFile("testdata/new.bin", "new"),
	}
)

// fileState is what a test expects to find unchanged: content, mode and
// modification time.
type fileState struct {
	data  string
	mode  os.FileMode
	mtime time.Time
}

// snapshot records every file and directory under dir.
func snapshot(t *testing.T, dir string) map[string]fileState {
	t.Helper()
	s := map[string]fileState{}
	err := filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		st := fileState{mode: info.Mode(), mtime: info.ModTime()}
		if info.Mode().IsRegular() {
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			st.data = string(data)
		}
		s[rel] = st
		return nil
	})
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func sameSnapshot(t *testing.T, what string, got, want map[string]fileState) {
	t.Helper()
	var diffs []string
	for name, w := range want {
		g, ok := got[name]
		switch {
		case !ok:
			diffs = append(diffs, name+" is gone")
		case g.data != w.data:
			diffs = append(diffs, name+" changed")
		case g.mode != w.mode:
			diffs = append(diffs, fmt.Sprintf("%s: mode %v, was %v", name, g.mode, w.mode))
		case !g.mtime.Equal(w.mtime) && !w.mode.IsDir():
			diffs = append(diffs, name+" was touched")
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			diffs = append(diffs, name+" appeared")
		}
	}
	sort.Strings(diffs)
	if len(diffs) > 0 {
		t.Errorf("%s: %s", what, strings.Join(diffs, "; "))
	}
}

// noLeftovers checks that WriteDir left none of its hidden files (lock,
// staging directory) in dir or beside it.
func noLeftovers(t *testing.T, dir string) {
	t.Helper()
	for _, d := range []string{dir, filepath.Dir(dir)} {
		entries, _ := os.ReadDir(d)
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), ".acgen") {
				t.Errorf("left %s behind", filepath.Join(d, e.Name()))
			}
		}
	}
}

// oldTimes backdates every file under dir, so that a rewrite shows in
// the modification times even on a coarse clock.
func oldTimes(t *testing.T, dir string) {
	old := time.Now().Add(-time.Hour).Truncate(time.Second)
	filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && info.Mode().IsRegular() {
			os.Chtimes(p, old, old)
		}
		return nil
	})
}

func write(t *testing.T, dir string, fs []gen.File) WriteReport {
	t.Helper()
	rep, err := WriteDir(dir, fs)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func TestWriteDir(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "pkg")
	rep := write(t, dir, files)
	if len(rep.Written) != 4 || len(rep.Unchanged)+len(rep.Removed) != 0 {
		t.Errorf("first write: %+v", rep)
	}
	if st, err := os.Stat(dir); err != nil || st.Mode().Perm()&0o700 != 0o700 || st.Mode().Perm() == 0o700 {
		t.Errorf("new directory: %v %v (want the usual permissions, not MkdirTemp's 0700)", st.Mode(), err)
	}
	// A user's own files: in dir, in testdata, in a subdirectory.
	mine := map[string]string{"mine.go": "package p\n", "testdata/mine.txt": "data", "sub/x.go": gen.Header + "\n\npackage sub\n"}
	for name, data := range mine {
		p := filepath.Join(dir, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	oldTimes(t, dir)

	// The same files again: nothing is touched.
	before := snapshot(t, dir)
	rep = write(t, dir, files)
	if len(rep.Written)+len(rep.Removed) != 0 || len(rep.Unchanged) != 4 {
		t.Errorf("rewrite of the same files: %+v", rep)
	}
	sameSnapshot(t, "rewrite of the same files", snapshot(t, dir), before)

	// A later run: changed, new and stale files; the user's files stay.
	rep = write(t, dir, next)
	if fmt.Sprint(rep.Written, rep.Unchanged, rep.Removed) != "[a.go d.go testdata/new.bin] [b.go] [c.go testdata/old.bin]" {
		t.Errorf("next run: written %v unchanged %v removed %v", rep.Written, rep.Unchanged, rep.Removed)
	}
	after := snapshot(t, dir)
	for name, data := range mine {
		if after[filepath.FromSlash(name)].data != data || !after[filepath.FromSlash(name)].mtime.Equal(before[filepath.FromSlash(name)].mtime) {
			t.Errorf("%s was changed", name)
		}
	}
	if after["b.go"].mtime != before["b.go"].mtime {
		t.Errorf("unchanged b.go was touched")
	}
	for _, f := range next {
		if after[filepath.FromSlash(f.Name)].data != string(f.Data) {
			t.Errorf("%s not written", f.Name)
		}
	}
	for _, gone := range []string{"c.go", filepath.FromSlash("testdata/old.bin")} {
		if _, ok := after[gone]; ok {
			t.Errorf("stale %s not removed", gone)
		}
	}
	noLeftovers(t, dir)

	// A run that only removes stale files.
	rep = write(t, dir, next[:3])
	if fmt.Sprint(rep.Written, rep.Removed) != "[] [testdata/new.bin]" {
		t.Errorf("a run that only removes: written %v removed %v", rep.Written, rep.Removed)
	}
	if _, err := os.Stat(filepath.Join(dir, "testdata", "new.bin")); err == nil {
		t.Errorf("stale testdata/new.bin not removed")
	}
	noLeftovers(t, dir)
}

// TestWriteDirRefuses checks every refusal: nothing changes, and the
// error says why.
func TestWriteDirRefuses(t *testing.T) {
	for _, c := range []struct {
		name  string
		setup func(dir string) error
		files []gen.File
		want  string
	}{
		{"hand-written file in the way", func(dir string) error {
			return os.WriteFile(filepath.Join(dir, "a.go"), []byte("package p // mine\n"), 0o644)
		}, files, "a.go: exists and is not generated by acgen (it lacks the \"// Code generated by acgen. DO NOT EDIT.\" header); acgen will not overwrite it: move it away or choose another -out"},
		{"empty file in the way", func(dir string) error {
			return os.WriteFile(filepath.Join(dir, "b.go"), nil, 0o644)
		}, files, "b.go: exists and is not generated by acgen"},
		{"hand-written file in testdata", func(dir string) error {
			os.Mkdir(filepath.Join(dir, "testdata"), 0o755)
			return os.WriteFile(filepath.Join(dir, "testdata", "old.bin"), []byte("mine"), 0o644)
		}, files, filepath.Join("testdata", "old.bin") + ": exists and is not generated by acgen"},
		{"directory in the way", func(dir string) error {
			return os.Mkdir(filepath.Join(dir, "a.go"), 0o755)
		}, files, "a.go: exists and is not a regular file; acgen will not replace it"},
		{"symlink in the way", func(dir string) error {
			os.WriteFile(filepath.Join(dir, "..", "elsewhere.go"), []byte(gen.Header), 0o644)
			return os.Symlink(filepath.Join("..", "elsewhere.go"), filepath.Join(dir, "a.go"))
		}, files, "a.go: exists and is not a regular file"},
		{"a bad name", nil, []gen.File{genFile("../evil.go", "")}, `internal error: generated file name "../evil.go"`},
		{"a name twice", nil, []gen.File{genFile("a.go", ""), genFile("a.go", "")}, `internal error: generated file name "a.go"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			parent := t.TempDir()
			dir := filepath.Join(parent, "pkg")
			write(t, dir, next) // a previous package
			if c.setup != nil {
				os.Remove(filepath.Join(dir, "a.go"))
				if err := c.setup(dir); err != nil {
					t.Fatal(err)
				}
			}
			oldTimes(t, dir)
			before := snapshot(t, dir)
			rep, err := WriteDir(dir, c.files)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("WriteDir: %v, want %q", err, c.want)
			}
			if strings.Contains(c.want, "not generated") && !errors.Is(err, ErrNotGenerated) {
				t.Errorf("not ErrNotGenerated: %v", err)
			}
			if len(rep.Written)+len(rep.Removed) != 0 {
				t.Errorf("report %+v", rep)
			}
			sameSnapshot(t, "after a refusal", snapshot(t, dir), before)
			if err := CheckDir(dir, c.files); err == nil {
				t.Errorf("CheckDir does not refuse it")
			}
			noLeftovers(t, dir)
		})
	}
}

func TestWriteDirNotADirectory(t *testing.T) {
	p := filepath.Join(t.TempDir(), "pkg")
	os.WriteFile(p, []byte("x"), 0o644)
	if _, err := WriteDir(p, files); err == nil || !strings.Contains(err.Error(), "exists and is not a directory") {
		t.Errorf("WriteDir onto a file: %v", err)
	}
}

// failAt makes the n-th step that changes dir (a rename or a removal,
// undoing ones included) fail, once; it returns whether it did, and puts
// back os.Rename and os.Remove when the test ends.
func failAt(t *testing.T, n int) (failed *bool) {
	t.Helper()
	t.Cleanup(func() { rename, remove = os.Rename, os.Remove })
	calls := 0
	failed = new(bool)
	fail := func(what, p string) error {
		calls++
		if calls == n+1 && !*failed {
			*failed = true
			return fmt.Errorf("injected failure to %s %s", what, filepath.Base(p))
		}
		return nil
	}
	rename = func(from, to string) error {
		if err := fail("rename", from); err != nil {
			return err
		}
		return os.Rename(from, to)
	}
	remove = func(p string) error {
		if err := fail("remove", p); err != nil {
			return err
		}
		return os.Remove(p)
	}
	return failed
}

// TestWriteDirFailsMidway makes the n-th rename or removal fail, for
// every n, and checks that the package is left as it was, byte for byte
// and time for time, or (when there was none) that there still is none.
func TestWriteDirFailsMidway(t *testing.T) {
	for _, existing := range []bool{true, false} {
		for n := 0; ; n++ {
			parent := t.TempDir()
			dir := filepath.Join(parent, "pkg")
			if existing {
				write(t, dir, files)
				os.WriteFile(filepath.Join(dir, "mine.go"), []byte("package p\n"), 0o644)
				oldTimes(t, dir)
			}
			before := snapshot(t, dir)
			failed := failAt(t, n)
			_, err := WriteDir(dir, next)
			rename, remove = os.Rename, os.Remove
			if !*failed {
				if err != nil {
					t.Fatal(err)
				}
				if n == 0 {
					t.Fatal("WriteDir renamed nothing")
				}
				t.Logf("existing=%v: %d renames and removals, each made to fail once", existing, n)
				break // every step has been made to fail once
			}
			if err == nil || !strings.Contains(err.Error(), "injected failure") {
				t.Fatalf("existing=%v, step %d failing: %v", existing, n, err)
			}
			sameSnapshot(t, fmt.Sprintf("existing=%v, step %d failing", existing, n), snapshot(t, dir), before)
			noLeftovers(t, dir)
		}
	}
}

func TestWriteDirKeepsFilesWhenRestoreFails(t *testing.T) {
	defer func() { rename = os.Rename }()
	parent := t.TempDir()
	dir := filepath.Join(parent, "pkg")
	write(t, dir, files)
	calls := 0
	rename = func(from, to string) error {
		calls++
		if calls >= 2 { // a.go replaced; then everything fails, its undoing too
			return errors.New("disk on fire")
		}
		return os.Rename(from, to)
	}
	_, err := WriteDir(dir, next)
	rename = os.Rename
	if err == nil || !strings.Contains(err.Error(), "restoring "+dir+" failed too, and its previous files are in ") {
		t.Fatalf("WriteDir: %v", err)
	}
	// The message names where the old files are; they must still be
	// there, after the next run too (recovery leaves them alone).
	where := err.Error()[strings.Index(err.Error(), "previous files are in ")+len("previous files are in "):]
	where = where[:strings.Index(where, ": ")]
	if !strings.HasPrefix(where, filepath.Join(dir, ".acgen-kept-")) {
		t.Errorf("the previous files are kept in %s", where)
	}
	write(t, dir, next)
	if b, err := os.ReadFile(filepath.Join(where, "a.go")); err != nil || string(b) != string(files[0].Data) {
		t.Errorf("the previous a.go is not kept: %q, %v", b, err)
	}
}

// TestWriteDirConcurrent: runs into one directory at once never mix: each
// ends with the directory holding one run's files, whole, or fails saying
// another run is writing.
func TestWriteDirConcurrent(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pkg")
	pkg := func(v int) []gen.File {
		var fs []gen.File
		for i := 0; i < 20; i++ {
			fs = append(fs, gen.File{Name: fmt.Sprintf("f%d.go", i), Data: []byte(fmt.Sprintf("%s\n// version %d\n", gen.Header, v))})
		}
		return append(fs, gen.File{Name: "testdata/golden.bin", Data: []byte(fmt.Sprintf("%s\n%d\n", gen.Header, v))})
	}
	if _, err := WriteDir(dir, pkg(0)); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for v := 1; v <= 16; v++ {
		wg.Add(1)
		go func(v int) {
			defer wg.Done()
			if _, err := WriteDir(dir, pkg(v)); err != nil {
				errs <- err
			}
		}(v)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if !strings.Contains(err.Error(), "another acgen run is writing it") {
			t.Errorf("WriteDir: %v", err)
		}
	}
	// One version throughout.
	want := ""
	for _, f := range pkg(0) {
		b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(f.Name)))
		if err != nil {
			t.Fatal(err)
		}
		v := strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(string(b), gen.Header), "\n// version"))
		if want == "" {
			want = v
		} else if v != want {
			t.Fatalf("%s holds version %s, another file %s: the runs mixed", f.Name, v, want)
		}
	}
}
