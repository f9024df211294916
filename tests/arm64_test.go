package tests

import (
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/acgen/acgen/internal/scratch"
)

// arm64Env cross-compiles for linux/arm64.
var arm64Env = []string{"GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0"}

// qemuARM64 is the qemu-aarch64 that runs arm64 test binaries on this
// machine (Debian's qemu-user), or "" if there is none or ACGEN_QEMU=off
// turns the arm64 runs off (.ci/run does for its second pass, -tags
// purego, which would only repeat them).
func qemuARM64() string {
	if os.Getenv("ACGEN_QEMU") == "off" {
		return ""
	}
	p, err := exec.LookPath("qemu-aarch64")
	if err != nil {
		return ""
	}
	return p
}

// scratchModule runs the go command for arm64 in a scratch module.
type scratchModule struct{ dir string }

// arm64Test runs go test for linux/arm64 under qemu and returns its
// output and error, for callers that expect failure.
func (m *scratchModule) arm64Test(args ...string) (string, error) {
	return (&scratch.Module{Dir: m.dir, Env: arm64Env}).Go(append([]string{"test", "-exec", qemuARM64()}, args...)...)
}

// goARM64 runs the go command for linux/arm64 in the scratch module at
// dir: vet and build run here; test runs each test binary under qemu
// (the caller checks qemuARM64 first).
func goARM64(t *testing.T, dir string, args ...string) string {
	t.Helper()
	return goARM64Env(t, dir, nil, args...)
}

// goARM64Env is goARM64 with env added to the go command's environment
// (and so to the tests it runs).
func goARM64Env(t *testing.T, dir string, env []string, args ...string) string {
	t.Helper()
	if args[0] == "test" {
		args = append([]string{"test", "-exec", qemuARM64()}, args[1:]...)
	}
	start := time.Now()
	out, err := (&scratch.Module{Dir: dir, Env: append(append([]string(nil), arm64Env...), env...)}).Go(args...)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s GOARCH=arm64 go %s (%.0f s):\n%s", strings.Join(env, " "), strings.Join(args, " "), time.Since(start).Seconds(), out)
	return out
}
