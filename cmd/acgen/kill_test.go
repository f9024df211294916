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
// the kills land while it writes: every time, -out holds the old package
// or the new one, byte for byte, and the next run finishes the job and
// leaves nothing behind.
func TestKilledWhileWriting(t *testing.T) {
	if testing.Short() {
		t.Skip("runs acgen some thirty times")
	}
	parent := t.TempDir()
	out := filepath.Join(parent, "pkg")
	run := func(specPath string, kill time.Duration) {
		t.Helper()
		cmd := exec.Command(os.Args[0], "-q", "-spec", specPath, "-weights", cifar.Pth, "-out", out)
		cmd.Env = append(os.Environ(), "ACGEN_TEST_MAIN=1", "ACGEN_TEST_WRITE_STEP_DELAY=3ms")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		if kill > 0 {
			time.Sleep(kill)
			cmd.Process.Signal(syscall.SIGKILL)
			cmd.Wait()
			return
		}
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
	start := time.Now()
	run(newSpec, 0)
	whole := time.Since(start)
	sawOld, sawNew := 0, 0
	for i := 0; i < 30; i++ {
		run(oldSpec, 0) // back to the old package
		run(newSpec, whole*time.Duration(i+1)/31)
		switch got := packageFiles(t, out); {
		case samePackage(got, oldPkg):
			sawOld++
		case samePackage(got, newPkg):
			sawNew++
		default:
			t.Fatalf("killed after %v of %v: -out is neither package", whole*time.Duration(i+1)/31, whole)
		}
	}
	t.Logf("30 kills over a %v run: %d left the old package, %d the new", whole, sawOld, sawNew)
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
