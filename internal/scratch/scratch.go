// Package scratch makes throwaway Go modules and runs the go command in
// them: what -verify, the per-layer report and the end-to-end tests all
// do with a generated package. One place says how (GOWORK off, modules
// resolved from go.mod, the go version generated packages declare).
package scratch

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/acgen/acgen/gen"
)

// Module is a scratch module directory.
type Module struct {
	Dir string
	Env []string // added to the go command's environment, after the defaults
}

// New writes a go.mod for module path into dir (created if need be),
// declaring gen.GoVersion, the version generated packages need.
func New(dir, path string) (*Module, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module "+path+"\n\ngo "+gen.GoVersion+"\n"), 0o644); err != nil {
		return nil, err
	}
	return &Module{Dir: dir}, nil
}

// WriteFiles writes a generated package's files into the module's
// directory sub.
func (m *Module) WriteFiles(sub string, files []gen.File) error {
	return WriteFiles(filepath.Join(m.Dir, sub), files)
}

// WriteFiles writes a generated package's files into dir, leaving out
// go.mod and go.sum (the scratch module has its own).
func WriteFiles(dir string, files []gen.File) error {
	for _, f := range files {
		if f.Name == "go.mod" || f.Name == "go.sum" {
			continue
		}
		p := filepath.Join(dir, filepath.FromSlash(f.Name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// ErrNoGo is returned when the go command is not on PATH.
var ErrNoGo = errors.New("the go command is not on PATH")

// Go runs the go command in the module with args and returns its combined
// output; a failure's error holds that output.
func (m *Module) Go(args ...string) (string, error) {
	goCmd, err := exec.LookPath("go")
	if err != nil {
		return "", ErrNoGo
	}
	cmd := exec.Command(goCmd, args...)
	cmd.Dir = m.Dir
	cmd.Env = append(append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod"), m.Env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("go %s failed: %w\n%s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}
