package tests

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/acgen/acgen/internal/scratch"
)

// arm64Env cross-compiles for linux/arm64.
var arm64Env = []string{"GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0"}

// qemuARM64 is the qemu-aarch64 that runs arm64 test binaries on this
// machine (Debian's qemu-user), or "" if there is none.
func qemuARM64() string {
	p, err := exec.LookPath("qemu-aarch64")
	if err != nil {
		return ""
	}
	return p
}

// goARM64 runs the go command for linux/arm64 in the scratch module at
// dir: vet and build run here; test runs each test binary under qemu
// (the caller checks qemuARM64 first).
func goARM64(t *testing.T, dir string, args ...string) string {
	t.Helper()
	if args[0] == "test" {
		args = append([]string{"test", "-exec", qemuARM64()}, args[1:]...)
	}
	out, err := (&scratch.Module{Dir: dir, Env: arm64Env}).Go(args...)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("GOARCH=arm64 go %s:\n%s", strings.Join(args, " "), out)
	return out
}
