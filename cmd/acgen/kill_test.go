package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestMain lets the SIGKILL test run acgen as a child process: the test
// binary itself, told by ACGEN_TEST_MAIN to be the command.
func TestMain(m *testing.M) {
	if os.Getenv("ACGEN_TEST_MAIN") == "1" {
		os.Exit(runMain(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// packageFiles reads every file under dir.
func packageFiles(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && info.Mode().IsRegular() {
			b, _ := os.ReadFile(p)
			rel, _ := filepath.Rel(dir, p)
			files[rel] = string(b)
		}
		return nil
	})
	return files
}

func samePackage(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestKilledWhileWriting kills acgen (SIGKILL) at many points of
// replacing one package with another, its writes slowed down so that
// the kills land while it writes. A reader of -out sees the old package
// or the new one, byte for byte, or (killed between two renames) a mix
// that a complete journal names; acgen -recover then leaves the old or
// the new package whole (the new one if the journal was complete), and
// nothing hidden behind. The next run finishes the job.
func TestKilledWhileWriting(t *testing.T) {
	if testing.Short() {
		t.Skip("runs acgen some sixty times")
	}
	parent := t.TempDir()
	out := filepath.Join(parent, "pkg")
	start := func(args ...string) *exec.Cmd {
		t.Helper()
		cmd := exec.Command(os.Args[0], args...)
		cmd.Env = append(os.Environ(), "ACGEN_TEST_MAIN=1", "ACGEN_TEST_WRITE_STEP_DELAY=3ms")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	run := func(specPath string, kill time.Duration) {
		t.Helper()
		cmd := start("-q", "-spec", specPath, "-weights", cifar.Pth, "-out", out)
		if kill > 0 {
			time.Sleep(kill)
			cmd.Process.Signal(syscall.SIGKILL)
			cmd.Wait()
			return
		}
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Wait(); err != nil {
			t.Fatalf("acgen: %v: %s", err, stderr.String())
		}
	}
	oldSpec, newSpec := cifar.Spec, cifarSpec(t, "name: cifar_small", "name: cifar_small  # changed")
	run(newSpec, 0)
	newPkg := packageFiles(t, out)
	run(oldSpec, 0)
	oldPkg := packageFiles(t, out)
	if samePackage(oldPkg, newPkg) {
		t.Fatal("the two packages are the same")
	}
	// How long a run takes, to spread the kills over it.
	begin := time.Now()
	run(newSpec, 0)
	whole := time.Since(begin)
	sawOld, sawNew, sawMix := 0, 0, 0
	for i := 0; i < 30; i++ {
		run(oldSpec, 0) // back to the old package
		at := whole * time.Duration(i+1) / 31
		run(newSpec, at)
		journal, _ := filepath.Glob(filepath.Join(out, ".acgen-stage-*", "journal"))
		switch got := visibleFiles(packageFiles(t, out)); {
		case samePackage(got, oldPkg):
			sawOld++
		case samePackage(got, newPkg):
			sawNew++
		case len(journal) > 0:
			sawMix++
		default:
			t.Fatalf("killed after %v of %v: -out is neither package, and no journal names the swap", at, whole)
		}
		rec := exec.Command(os.Args[0], "-recover", "-out", out)
		rec.Env = append(os.Environ(), "ACGEN_TEST_MAIN=1")
		if b, err := rec.CombinedOutput(); err != nil {
			t.Fatalf("acgen -recover: %v: %s", err, b)
		}
		got := packageFiles(t, out)
		switch {
		case len(journal) > 0 && !samePackage(got, newPkg):
			t.Fatalf("killed after %v of %v with a complete journal: -recover did not finish the new package", at, whole)
		case !samePackage(got, oldPkg) && !samePackage(got, newPkg):
			t.Fatalf("killed after %v of %v: after -recover, -out is neither package (or holds hidden leftovers)", at, whole)
		}
	}
	t.Logf("30 kills over a %v run: %d left the old package, %d the new, %d a mix that -recover finished", whole, sawOld, sawNew, sawMix)
	run(newSpec, 0)
	if !samePackage(packageFiles(t, out), newPkg) {
		t.Fatal("the run after the kills did not write the new package")
	}
	entries, _ := os.ReadDir(parent)
	for _, e := range entries {
		if e.Name() != "pkg" && !strings.HasSuffix(e.Name(), ".yaml") {
			t.Errorf("%s left beside -out", e.Name())
		}
	}
}

// visibleFiles leaves out acgen's hidden files (its lock and staging
// directory): what a reader of the package sees.
func visibleFiles(files map[string]string) map[string]string {
	out := map[string]string{}
	for name, data := range files {
		if !strings.HasPrefix(name, ".acgen") {
			out[name] = data
		}
	}
	return out
}
