package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// verifyDir tests a generated package where it stands: it copies the
// package into a scratch module (so it need not be inside one) and runs
// go vet, go test, and go test -tags purego (the portable kernels).
func verifyDir(dir string, quiet bool, stdout io.Writer) error {
	goCmd, err := exec.LookPath("go")
	if err != nil {
		return errors.New("-verify needs the go command on PATH")
	}
	tmp, err := os.MkdirTemp("", "acgen-verify-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	pkgDir := filepath.Join(tmp, "pkg")
	if err := copyPackage(dir, pkgDir); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(tmp, "go.mod"), []byte("module acgenverify\n\ngo 1.22\n"), 0o644); err != nil {
		return err
	}
	for _, args := range [][]string{
		{"vet", "./..."},
		{"test", "-count=1", "./..."},
		{"test", "-count=1", "-tags", "purego", "./..."},
	} {
		cmd := exec.Command(goCmd, args...)
		cmd.Dir = tmp
		cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("verify %s: go %s failed:\n%s", dir, strings.Join(args, " "), strings.TrimSpace(string(out)))
		}
	}
	if !quiet {
		fmt.Fprintf(stdout, "acgen: %s: verified (go vet, go test, go test -tags purego)\n", dir)
	}
	return nil
}

// copyPackage copies the regular files of dir and dir/testdata.
func copyPackage(src, dst string) error {
	for _, sub := range []string{"", "testdata"} {
		entries, err := os.ReadDir(filepath.Join(src, sub))
		if errors.Is(err, os.ErrNotExist) && sub != "" {
			continue
		}
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Join(dst, sub), 0o755); err != nil {
			return err
		}
		for _, e := range entries {
			if !e.Type().IsRegular() || e.Name() == "go.mod" || e.Name() == "go.sum" {
				continue
			}
			data, err := os.ReadFile(filepath.Join(src, sub, e.Name()))
			if err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(dst, sub, e.Name()), data, 0o644); err != nil {
				return err
			}
		}
	}
	return nil
}
