//go:build unix

package tests

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/acgen/acgen/fixtures"
	"github.com/acgen/acgen/gen"
)

// These tests run the acgen binary as a user does, from a shell and from
// go generate, into a -out that is the directory they stand in
// (docs/out-dir.md). They need sh and ls, so Unix.

// buildAcgen returns the directory of the acgen binary the tests build
// (acgenBinary), for PATH.
func buildAcgen(t *testing.T) string { return filepath.Dir(acgenBinary(t)) }

// inode is the inode number of p.
func inode(t *testing.T, p string) uint64 {
	t.Helper()
	st, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return uint64(st.Sys().(*syscall.Stat_t).Ino)
}

// pkgFiles reads every regular file under dir, acgen's hidden ones (its
// lock and staging directory) included. A file that goes while it reads
// (an acgen run is at work) is left out.
func pkgFiles(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if errors.Is(err, fs.ErrNotExist) && p != dir {
			return nil
		}
		if err != nil {
			return err
		}
		if info.Mode().IsRegular() {
			b, err := os.ReadFile(p)
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(dir, p)
			files[filepath.ToSlash(rel)] = string(b)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// shown is what a reader of the package sees: pkgFiles without acgen's
// hidden files.
func shown(files map[string]string) map[string]string {
	out := map[string]string{}
	for name, data := range files {
		if !strings.HasPrefix(name, ".acgen") {
			out[name] = data
		}
	}
	return out
}

func samePkg(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// leftovers lists acgen's hidden files in dir and beside it.
func leftovers(dir string) []string {
	var found []string
	for _, d := range []string{dir, filepath.Dir(dir)} {
		entries, _ := os.ReadDir(d)
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), ".acgen") {
				found = append(found, filepath.Join(d, e.Name()))
			}
		}
	}
	return found
}

// changedSpec is the fixture's spec with a comment added: the same
// network, but the spec's hash (in doc.go, net.go and the golden file)
// changes, so regenerating rewrites those files.
func changedSpec(t *testing.T, src string) []byte {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte("name: cifar_small")) {
		t.Fatal("the fixture's spec has no name line")
	}
	return bytes.Replace(b, []byte("name: cifar_small"), []byte("name: cifar_small  # changed"), 1)
}

// TestOutDirGenerate runs go generate on a file with two directives: the
// first regenerates the package into the very directory that holds the
// file, with -out spelled as users spell it; the second, in the same
// directory after it, checks that it can read its files and prints the
// inode of the directory it stands in. A shell started in the directory
// before, and still standing in it, must read the spec there afterwards
// too; and the directory's inode must not change across two
// regenerations, the second of which changes files. The user's files
// stay as they were, nothing of acgen's is left, and the package builds.
func TestOutDirGenerate(t *testing.T) {
	if testing.Short() {
		t.Skip("builds acgen and runs go generate ten times")
	}
	bin := buildAcgen(t)
	f := fixtures.Get("cifar_small")
	spec, err := os.ReadFile(f.Spec)
	if err != nil {
		t.Fatal(err)
	}
	pth, err := os.ReadFile(f.Pth)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ name, out string }{
		{"dot", "."},
		{"dot slash", "./"},
		{"parent and back", "../pkg"},
		{"absolute", "MOD/real/pkg"},
		{"through a symlinked parent", "MOD/link/pkg"},
	} {
		t.Run(c.name, func(t *testing.T) {
			mod := t.TempDir()
			dir := filepath.Join(mod, "real", "pkg")
			writeFile(t, filepath.Join(mod, "go.mod"), []byte("module example.com/app\n\ngo "+gen.GoVersion+"\n"))
			if err := os.Symlink("real", filepath.Join(mod, "link")); err != nil {
				t.Fatal(err)
			}
			out := strings.Replace(c.out, "MOD", mod, 1)
			genGo := "package cifar_small\n\n" +
				"//go:generate acgen -q -spec net.yaml -weights model.pth -out " + out + "\n" +
				"//go:generate sh -c \"test -r net.yaml && test -r gen.go && test -r doc.go && ls -id .\"\n"
			writeFile(t, filepath.Join(dir, "gen.go"), []byte(genGo))
			writeFile(t, filepath.Join(dir, "net.yaml"), spec)
			writeFile(t, filepath.Join(dir, "model.pth"), pth)
			ino := inode(t, dir)

			// A shell standing in the directory all along.
			shell := exec.Command("sh", "-c", "read x && test -r net.yaml && test -r doc.go && ls -id .")
			shell.Dir = dir
			stdin, err := shell.StdinPipe()
			if err != nil {
				t.Fatal(err)
			}
			var shellOut bytes.Buffer
			shell.Stdout, shell.Stderr = &shellOut, &shellOut
			if err := shell.Start(); err != nil {
				t.Fatal(err)
			}
			defer shell.Process.Kill()

			env := []string{"PATH=" + bin + string(os.PathListSeparator) + os.Getenv("PATH")}
			var first map[string]string
			for round, yaml := range [][]byte{spec, changedSpec(t, f.Spec)} {
				writeFile(t, filepath.Join(dir, "net.yaml"), yaml)
				got := goIn(t, mod, env, "generate", "./...")
				if want := strconv.FormatUint(ino, 10) + " ."; strings.TrimSpace(got) != want {
					t.Errorf("round %d: the second directive printed %q, want %q (the inode of the directory before)", round, got, want)
				}
				if now := inode(t, dir); now != ino {
					t.Errorf("round %d: -out %s: the directory's inode went from %d to %d", round, c.out, ino, now)
				}
				if l := leftovers(dir); len(l) > 0 {
					t.Errorf("round %d: left %v", round, l)
				}
				files := pkgFiles(t, dir)
				if files["gen.go"] != genGo || files["net.yaml"] != string(yaml) || files["model.pth"] != string(pth) {
					t.Errorf("round %d: the user's files changed", round)
				}
				if round == 0 {
					first = files
				} else if files["doc.go"] == first["doc.go"] || files["kernels_amd64.s"] != first["kernels_amd64.s"] {
					t.Errorf("the second round did not rewrite doc.go alone of those two")
				}
			}
			goIn(t, mod, nil, "build", "./...")

			io.WriteString(stdin, "go on\n")
			stdin.Close()
			if err := shell.Wait(); err != nil {
				t.Fatalf("the shell standing in the directory: %v\n%s", err, shellOut.String())
			}
			if want := strconv.FormatUint(ino, 10) + " ."; strings.TrimSpace(shellOut.String()) != want {
				t.Errorf("the shell standing in the directory printed %q, want %q", shellOut.String(), want)
			}
		})
	}
}
