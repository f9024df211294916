//go:build unix

package tests

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/acgen/acgen/fixtures"
)

// acgenRun is one acgen process writing into dir.
type acgenRun struct {
	cmd *exec.Cmd
	out bytes.Buffer
}

func startAcgen(t *testing.T, bin, dir string, env []string, args ...string) *acgenRun {
	t.Helper()
	r := &acgenRun{cmd: exec.Command(filepath.Join(bin, "acgen"), args...)}
	r.cmd.Dir = dir
	r.cmd.Env = append(os.Environ(), env...)
	r.cmd.Stdout, r.cmd.Stderr = &r.out, &r.out
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return r
}

// runAcgen runs acgen in dir and fails the test if it fails.
func runAcgen(t *testing.T, bin, dir string, args ...string) string {
	t.Helper()
	r := startAcgen(t, bin, dir, nil, args...)
	if err := r.cmd.Wait(); err != nil {
		t.Fatalf("acgen %s: %v\n%s", strings.Join(args, " "), err, r.out.String())
	}
	return r.out.String()
}

// waitFor polls cond until it holds. The bound is no timed assertion:
// it only stops a test whose condition never comes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(3 * time.Minute); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("waited minutes for %s", what)
		}
	}
}

// TestOutDirKilledBetweenRenames kills acgen (SIGKILL) at chosen points
// of replacing a package in `-out .`, its steps slowed down so that the
// kill lands where it is aimed: once the journal is written and the first
// file has been moved in (so the directory holds a mix that only the
// journal can finish), and once while files are still being staged (no
// journal). After the first, both acgen -recover and the next ordinary
// run leave a whole package (-recover the new one, the next run its own);
// after the second, -recover leaves the old package. The directory keeps
// its inode, the user's file is untouched, and nothing hidden is left.
func TestOutDirKilledBetweenRenames(t *testing.T) {
	if testing.Short() {
		t.Skip("builds acgen and kills it")
	}
	bin := buildAcgen(t)
	f := fixtures.Get("cifar_small")
	spec, err := os.ReadFile(f.Spec)
	if err != nil {
		t.Fatal(err)
	}
	base := t.TempDir()
	writeFile(t, filepath.Join(base, "old.yaml"), spec)
	writeFile(t, filepath.Join(base, "new.yaml"), changedSpec(t, f.Spec))
	// The old package has every kernel; the new one only the Go ones, so
	// that the swap moves files in and removes stale ones, a dozen steps.
	oldArgs := []string{"-q", "-spec", filepath.Join(base, "old.yaml"), "-weights", f.Pth, "-out", "."}
	newArgs := []string{"-q", "-spec", filepath.Join(base, "new.yaml"), "-weights", f.Pth, "-isa", "go", "-out", "."}
	mine := "package cifar_small\n\n// My own file.\n"
	reference := func(args []string) map[string]string {
		d := t.TempDir()
		writeFile(t, filepath.Join(d, "mine.go"), []byte(mine))
		runAcgen(t, bin, d, args...)
		return pkgFiles(t, d)
	}
	oldPkg, newPkg := reference(oldArgs), reference(newArgs)

	// killed sets up dir with the old package, starts writing the new one
	// and kills acgen as soon as at(dir) holds. It returns whether the
	// journal was there when the kill landed.
	killed := func(dir string, at func(map[string]string) bool) bool {
		t.Helper()
		writeFile(t, filepath.Join(dir, "mine.go"), []byte(mine))
		runAcgen(t, bin, dir, oldArgs...)
		if !samePkg(pkgFiles(t, dir), oldPkg) {
			t.Fatal("the old package was not written")
		}
		r := startAcgen(t, bin, dir, []string{"ACGEN_TEST_WRITE_STEP_DELAY=200ms"}, newArgs...)
		exited := make(chan error, 1)
		go func() { exited <- r.cmd.Wait() }()
		waitFor(t, "the point to kill acgen at", func() bool {
			select {
			case err := <-exited:
				t.Fatalf("acgen finished before it was killed: %v\n%s", err, r.out.String())
			default:
			}
			return at(pkgFiles(t, dir))
		})
		r.cmd.Process.Signal(syscall.SIGKILL)
		<-exited
		m, _ := filepath.Glob(filepath.Join(dir, ".acgen-stage-*", "journal"))
		return len(m) > 0
	}
	journaled := func(files map[string]string) bool {
		for name := range files {
			if strings.HasSuffix(name, "/journal") {
				return true
			}
		}
		return false
	}
	// The kill lands after the first rename: the journal is there, and
	// a file differs from the old package.
	betweenRenames := func(files map[string]string) bool {
		return journaled(files) && !samePkg(shown(files), oldPkg)
	}
	whole := func(dir, what string, want map[string]string, ino uint64) {
		t.Helper()
		if got := pkgFiles(t, dir); !samePkg(got, want) {
			t.Errorf("%s: the directory is not the package it should be", what)
		}
		if l := leftovers(dir); len(l) > 0 {
			t.Errorf("%s: left %v", what, l)
		}
		if inode(t, dir) != ino {
			t.Errorf("%s: the directory's inode changed", what)
		}
	}

	for _, next := range []string{"-recover", "the next run"} {
		dir := filepath.Join(t.TempDir(), "pkg")
		os.Mkdir(dir, 0o755)
		ino := inode(t, dir)
		if !killed(dir, betweenRenames) {
			t.Fatal("killed between two renames, yet no journal")
		}
		got := shown(pkgFiles(t, dir))
		if samePkg(got, oldPkg) || samePkg(got, newPkg) {
			t.Fatal("the kill did not land between two renames")
		}
		if got["mine.go"] != mine {
			t.Errorf("mine.go changed")
		}
		if next == "-recover" {
			msg := runAcgen(t, bin, dir, "-recover", "-out", ".")
			if want := "acgen: .: finished an interrupted write (its journal was complete): it holds the new package\n"; msg != want {
				t.Errorf("acgen -recover printed %q, want %q", msg, want)
			}
			whole(dir, "killed between renames, then -recover", newPkg, ino)
		} else {
			runAcgen(t, bin, dir, oldArgs...)
			whole(dir, "killed between renames, then the next run", oldPkg, ino)
		}
	}

	// Killed while staging: nothing had reached the package.
	dir := filepath.Join(t.TempDir(), "pkg")
	os.Mkdir(dir, 0o755)
	ino := inode(t, dir)
	staging := func(files map[string]string) bool {
		for name := range files {
			if strings.HasPrefix(name, ".acgen-stage-") && strings.Contains(name, "/new/") {
				return true
			}
		}
		return false
	}
	if killed(dir, staging) {
		t.Fatal("killed while staging, yet a journal")
	}
	if !samePkg(shown(pkgFiles(t, dir)), oldPkg) {
		t.Error("killed while staging: the package changed")
	}
	msg := runAcgen(t, bin, dir, "-recover", "-out", ".")
	if want := "acgen: .: removed an interrupted write that had not started changing it: it holds the package it held before\n"; msg != want {
		t.Errorf("acgen -recover printed %q, want %q", msg, want)
	}
	whole(dir, "killed while staging, then -recover", oldPkg, ino)
}

// TestOutDirConcurrent starts four acgen processes writing four packages
// into one `-out .` at once, their steps slowed down so that they
// overlap: each finishes or fails saying another run is writing, and the
// directory ends holding one of the packages, whole.
func TestOutDirConcurrent(t *testing.T) {
	if testing.Short() {
		t.Skip("builds acgen")
	}
	bin := buildAcgen(t)
	f := fixtures.Get("cifar_small")
	base := t.TempDir()
	dir := filepath.Join(t.TempDir(), "pkg")
	os.Mkdir(dir, 0o755)
	var args [][]string
	pkgs := map[string]map[string]string{}
	for i := 0; i < 4; i++ {
		spec := filepath.Join(base, fmt.Sprintf("v%d.yaml", i))
		writeFile(t, spec, bytes.Replace(changedSpec(t, f.Spec), []byte("# changed"), []byte(fmt.Sprintf("# version %d", i)), 1))
		a := []string{"-q", "-spec", spec, "-weights", f.Pth, "-out", "."}
		args = append(args, a)
		ref := t.TempDir()
		runAcgen(t, bin, ref, a...)
		pkgs[spec] = pkgFiles(t, ref)
	}
	runAcgen(t, bin, dir, args[0]...)
	var runs []*acgenRun
	for _, a := range args[1:] {
		runs = append(runs, startAcgen(t, bin, dir, []string{"ACGEN_TEST_WRITE_STEP_DELAY=50ms"}, a...))
	}
	refused := 0
	for _, r := range runs {
		if err := r.cmd.Wait(); err != nil {
			if !strings.Contains(r.out.String(), "another acgen run is writing it") {
				t.Errorf("acgen: %v\n%s", err, r.out.String())
			}
			refused++
		}
	}
	got := pkgFiles(t, dir)
	ok := false
	for _, p := range pkgs {
		ok = ok || samePkg(got, p)
	}
	if !ok {
		t.Error("the directory holds none of the packages whole")
	}
	t.Logf("%d of %d runs refused: another run was writing", refused, len(runs))
}
