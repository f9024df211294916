package tests

import (
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

var (
	acgenOnce sync.Once
	acgenPath string
	acgenErr  error
	acgenOut  []byte
)

// acgenBinary builds cmd/acgen once for the test binary's run and returns
// its path, for the tests that run acgen as a user would: as a separate
// process, with its exit status and its memory its own.
func acgenBinary(t *testing.T) string {
	t.Helper()
	acgenOnce.Do(func() {
		dir, err := os.MkdirTemp("", "acgen-bin-")
		if err != nil {
			acgenErr = err
			return
		}
		acgenPath = filepath.Join(dir, "acgen")
		root, _ := filepath.Abs("..")
		cmd := exec.Command("go", "build", "-o", acgenPath, "./cmd/acgen")
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "GOWORK=off")
		acgenOut, acgenErr = cmd.CombinedOutput()
	})
	if acgenErr != nil {
		t.Fatalf("go build ./cmd/acgen: %v\n%s", acgenErr, acgenOut)
	}
	return acgenPath
}
