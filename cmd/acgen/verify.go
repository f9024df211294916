package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/acgen/acgen/gen"
	"github.com/acgen/acgen/internal/scratch"
)

// verifyDir tests a generated package where it stands: it copies the
// package into a scratch module (so it need not be inside one) and runs
// go vet, go test, and go test -tags purego (the portable kernels).
func verifyDir(dir string, quiet bool, stdout io.Writer) error {
	err := verifyIn(dir, func(pkgDir string) error { return copyPackage(dir, pkgDir, false) })
	if err == nil && !quiet {
		fmt.Fprintf(stdout, "acgen: %s: verified (go vet, go test, go test -tags purego)\n", dir)
	}
	return err
}

// verifyFiles tests the package that dir will hold once files are written
// into it: the files of dir that acgen did not generate (a user's own
// tests, say), with files over them.
func verifyFiles(dir string, files []gen.File) error {
	return verifyIn(dir, func(pkgDir string) error {
		if _, err := os.Stat(dir); err == nil {
			if err := copyPackage(dir, pkgDir, true); err != nil {
				return err
			}
		}
		return scratch.WriteFiles(pkgDir, files)
	})
}

// verifyIn makes a scratch module, lets fill put the package in its pkg
// directory, and runs the checks there.
func verifyIn(dir string, fill func(pkgDir string) error) error {
	tmp, err := os.MkdirTemp("", "acgen-verify-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	mod, err := scratch.New(tmp, "acgenverify")
	if err != nil {
		return err
	}
	pkgDir := filepath.Join(tmp, "pkg")
	if err := os.MkdirAll(pkgDir, 0o755); err != nil {
		return err
	}
	if err := fill(pkgDir); err != nil {
		return err
	}
	for _, args := range [][]string{
		{"vet", "./..."},
		{"test", "-count=1", "./..."},
		{"test", "-count=1", "-tags", "purego", "./..."},
	} {
		if _, err := mod.Go(args...); err != nil {
			if errors.Is(err, scratch.ErrNoGo) {
				return errors.New("-verify needs the go command on PATH")
			}
			return fmt.Errorf("verify %s: %w", dir, err)
		}
	}
	return nil
}

// copyPackage copies the regular files of dir and dir/testdata, leaving
// out those acgen generated when skipGenerated is set.
func copyPackage(src, dst string, skipGenerated bool) error {
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
			if skipGenerated && bytes.HasPrefix(data, []byte(gen.Header)) {
				continue
			}
			if err := os.WriteFile(filepath.Join(dst, sub, e.Name()), data, 0o644); err != nil {
				return err
			}
		}
	}
	return nil
}
