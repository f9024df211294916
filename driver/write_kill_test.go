package driver

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/acgen/acgen/gen"
)

// TestWriteDirDies is not a test of its own: TestWriteDirKilledAtEveryStep
// runs the test binary with it as a child that writes (or recovers) a
// package and kills itself (SIGKILL on Unix) at the n-th step.
func TestWriteDirDies(t *testing.T) {
	n, err := strconv.Atoi(os.Getenv("ACGEN_TEST_DIE_AT"))
	if err != nil {
		t.Skip("a child process of TestWriteDirKilledAtEveryStep")
	}
	step := 0
	writeStep = func() {
		if step++; step == n {
			self, _ := os.FindProcess(os.Getpid())
			self.Kill()
			select {} // the kill is asynchronous: take no further step
		}
	}
	dir := os.Getenv("ACGEN_TEST_DIR")
	if os.Getenv("ACGEN_TEST_DO") == "recover" {
		_, err = RecoverDir(dir)
	} else {
		_, err = WriteDir(dir, next)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// dieAt runs TestWriteDirDies: do ("write" or "recover") in dir, killed
// at step n. It reports whether the child was killed (false: it had
// fewer than n steps and finished).
func dieAt(t *testing.T, dir, do string, n int) (killed bool) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestWriteDirDies$", "-test.count=1")
	cmd.Env = append(os.Environ(), fmt.Sprintf("ACGEN_TEST_DIE_AT=%d", n), "ACGEN_TEST_DIR="+dir, "ACGEN_TEST_DO="+do)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return false
	case errors.As(err, &exit) && !exit.Exited():
		return true // killed by a signal
	}
	t.Fatalf("%s, to die at step %d: %v\n%s", do, n, err, out)
	return false
}

// visible is what a reader of dir sees: every regular file but
// WriteDir's hidden ones.
func visible(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	for name, st := range snapshot(t, dir) {
		if st.mode.IsRegular() && !strings.HasPrefix(name, ".acgen") {
			files[filepath.ToSlash(name)] = st.data
		}
	}
	return files
}

func asPackage(fs []gen.File, extra map[string]string) map[string]string {
	m := map[string]string{}
	for _, f := range fs {
		m[f.Name] = string(f.Data)
	}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

func same(a, b map[string]string) bool { return fmt.Sprint(a) == fmt.Sprint(b) }

// hasJournal says whether dir holds a staging directory with a journal:
// a swap decided and not finished.
func hasJournal(dir string) bool {
	m, _ := filepath.Glob(filepath.Join(dir, stagePrefix+"*", journalName))
	return len(m) > 0
}

// TestWriteDirKilledAtEveryStep kills a process replacing one package
// with another at every step it takes (each file staged, the journal
// committed, each file moved in or removed, the clean-up); where the
// swap was decided, it kills the recovery too, again and again, each
// time one step later, until one finishes. After each kill a
// reader sees the old package, the new one, or, between two renames, a
// mix that a complete journal names; recovery (RecoverDir, which every
// run does first) then leaves the new package if the journal was
// complete, else the one that was there, whole, with the user's own file
// untouched and nothing hidden left behind.
func TestWriteDirKilledAtEveryStep(t *testing.T) {
	if testing.Short() {
		t.Skip("runs some fifty child processes")
	}
	mine := map[string]string{"mine.go": "package p\n"}
	oldPkg, newPkg := asPackage(files, mine), asPackage(next, mine)
	setup := func() string {
		dir := filepath.Join(t.TempDir(), "pkg")
		write(t, dir, files)
		if err := os.WriteFile(filepath.Join(dir, "mine.go"), []byte(mine["mine.go"]), 0o644); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	mixes, recoveryKills := 0, 0
	for n := 1; ; n++ {
		dir := setup()
		if !dieAt(t, dir, "write", n) {
			if n < 8 {
				t.Fatalf("the write took only %d steps", n-1)
			}
			if got := visible(t, dir); !same(got, newPkg) {
				t.Errorf("a write not killed left %v", got)
			}
			t.Logf("killed at each of %d steps: %d times between two renames; recovery killed %d times", n-1, mixes, recoveryKills)
			break
		}
		decided := hasJournal(dir)
		switch got := visible(t, dir); {
		case same(got, oldPkg), same(got, newPkg):
		case decided:
			mixes++
		default:
			t.Fatalf("killed at step %d: a reader sees neither package and there is no journal to finish it: %v", n, got)
		}
		want := visible(t, dir)
		if decided {
			want = newPkg
			for m := 1; dieAt(t, dir, "recover", m); m++ {
				recoveryKills++
			}
		}
		if _, err := RecoverDir(dir); err != nil {
			t.Fatalf("killed at step %d: recovery: %v", n, err)
		}
		if got := visible(t, dir); !same(got, want) {
			t.Errorf("killed at step %d (journal: %v): after recovery\n%v\nwant\n%v", n, decided, got, want)
		}
		noLeftovers(t, dir)
	}
	if mixes == 0 {
		t.Error("no kill landed between two renames")
	}
}
