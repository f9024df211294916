package tests

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/acgen/acgen/fixtures"
	"github.com/acgen/acgen/gen"
)

// TestDownstreamModule does what the README tells a user to do, in a
// throwaway module: go get -tool acgen (replaced by this checkout), a
// //go:generate line running `go tool acgen`, go generate, go test, a
// second go generate that must touch nothing, and go mod vendor.
func TestDownstreamModule(t *testing.T) {
	if testing.Short() {
		t.Skip("builds acgen and a downstream module")
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	mod := t.TempDir()
	writeFile(t, filepath.Join(mod, "go.mod"), []byte("module example.com/app\n\ngo 1.24\n\nrequire github.com/acgen/acgen v0.0.0\n\nreplace github.com/acgen/acgen => "+root+"\n"))
	// acgen's go.sum vouches for its dependencies, as the checksum
	// database would for a published acgen (which this machine may not
	// reach).
	sums, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(mod, "go.sum"), sums)
	writeClassifier(t, mod, "go tool acgen")
	proxy := moduleProxy(t)
	// This checkout is not on the module proxy: the replace directive
	// stands in for it. go get still asks the proxy whether .../cmd/acgen
	// is a module of its own; some proxies answer 403 rather than 404 for
	// an unknown module, which go get takes as an error, so a "|" falls
	// back to an empty file proxy that answers 404. The checksum database
	// may be out of reach here; acgen's go.sum (copied above) vouches for
	// the dependencies instead.
	env := []string{"GOSUMDB=off", "GOPROXY=" + proxy + "|file://" + filepath.ToSlash(t.TempDir())}
	run := func(args ...string) string { t.Helper(); return goIn(t, mod, env, args...) }
	run("get", "-tool", "github.com/acgen/acgen/cmd/acgen")
	if v := run("tool", "acgen", "-version"); !strings.HasPrefix(v, "acgen ") {
		t.Errorf("acgen -version printed %q", v)
	}
	run("generate", "./...")
	run("test", "-count=1", "./...")

	// Unchanged inputs: nothing is rewritten.
	regenerateTouchesNothing(t, mod, run)

	run("mod", "vendor")
	run("build", "-mod=vendor", "./...")
	if _, err := os.Stat(filepath.Join(mod, "vendor", "modules.txt")); err != nil {
		t.Errorf("go mod vendor wrote no vendor/modules.txt: %v", err)
	}
	// What README says this route costs a vendoring module.
	var size int64
	filepath.Walk(filepath.Join(mod, "vendor"), func(_ string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			size += info.Size()
		}
		return nil
	})
	t.Logf("go mod vendor with acgen as a tool: %.1f MB", float64(size)/1e6)
}

// moduleProxy is the first proxy of go env GOPROXY; the test is skipped
// when there is none.
func moduleProxy(t *testing.T) string {
	out, err := exec.Command("go", "env", "GOPROXY").Output()
	if err != nil {
		t.Fatal(err)
	}
	first := strings.FieldsFunc(strings.TrimSpace(string(out)), func(r rune) bool { return r == ',' || r == '|' })
	if len(first) == 0 || first[0] == "off" || first[0] == "direct" {
		t.Skip("no module proxy to fetch acgen's dependencies from")
	}
	return first[0]
}

// regenerateTouchesNothing runs go generate again on unchanged inputs and
// fails if any file of the generated package was rewritten.
func regenerateTouchesNothing(t *testing.T, mod string, run func(...string) string) {
	t.Helper()
	stamps := mtimes(t, filepath.Join(mod, "classifier", "model"))
	time.Sleep(10 * time.Millisecond)
	run("generate", "./...")
	for name, before := range stamps {
		if after := mtimes(t, filepath.Join(mod, "classifier", "model"))[name]; !after.Equal(before) {
			t.Errorf("regenerating touched %s", name)
		}
	}
}

// mtimes is the modification time of every file below dir.
func mtimes(t *testing.T, dir string) map[string]time.Time {
	t.Helper()
	m := map[string]time.Time{}
	err := filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if !info.IsDir() {
			m[p] = info.ModTime()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(m) == 0 {
		t.Fatalf("%s holds no files", dir)
	}
	return m
}

// writeClassifier writes the README's downstream package into module
// dir: the spec and checkpoint, a //go:generate line running acgen as
// run, and code and a test that use the generated package.
func writeClassifier(t *testing.T, mod, run string) {
	t.Helper()
	f := fixtures.Get("cifar_small")
	for _, c := range []struct{ src, dst string }{{f.Spec, "net.yaml"}, {f.Pth, "model.pth"}} {
		data, err := os.ReadFile(c.src)
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(mod, "classifier", c.dst), data)
	}
	writeFile(t, filepath.Join(mod, "classifier", "gen.go"), []byte(`// Package classifier wraps the generated network.
package classifier

//go:generate `+run+` -q -spec net.yaml -weights model.pth -out model -pkg model

import "example.com/app/classifier/model"

// Classify returns the index of the largest output.
func Classify(img []float32) (int, error) {
	out := make([]float32, model.OutputLen)
	if err := model.Infer(out, img); err != nil {
		return 0, err
	}
	return model.ArgMax(out), nil
}
`))
	writeFile(t, filepath.Join(mod, "classifier", "classifier_test.go"), []byte(`package classifier

import (
	"testing"

	"example.com/app/classifier/model"
)

func TestClassify(t *testing.T) {
	c, err := Classify(make([]float32, model.InputLen))
	if err != nil || c < 0 || c >= model.OutputLen {
		t.Fatalf("Classify = %d, %v", c, err)
	}
	if _, err := Classify(nil); err == nil {
		t.Fatal("a nil image was accepted")
	}
}
`))
}

// TestDownstreamInstalled follows README's route from a clone, before the
// module is published: `go install ./cmd/acgen` in the checkout, then a
// //go:generate line running the installed acgen in a module that does
// not depend on acgen at all. go generate, go test, a second go generate
// that touches nothing, and go mod vendor, which has nothing of acgen's
// to vendor: the module's go.mod stays as the user wrote it.
func TestDownstreamInstalled(t *testing.T) {
	if testing.Short() {
		t.Skip("installs acgen and builds a downstream module")
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	install := exec.Command("go", "install", "./cmd/acgen")
	install.Dir = root
	install.Env = append(os.Environ(), "GOBIN="+bin, "GOWORK=off")
	if out, err := install.CombinedOutput(); err != nil {
		t.Fatalf("go install ./cmd/acgen: %v\n%s", err, out)
	}
	mod := t.TempDir()
	goMod := "module example.com/app\n\ngo " + gen.GoVersion + "\n"
	writeFile(t, filepath.Join(mod, "go.mod"), []byte(goMod))
	writeClassifier(t, mod, "acgen")
	env := []string{"PATH=" + bin + string(os.PathListSeparator) + os.Getenv("PATH")}
	run := func(args ...string) string { t.Helper(); return goIn(t, mod, env, args...) }
	run("generate", "./...")
	run("test", "-count=1", "./...")
	regenerateTouchesNothing(t, mod, run)
	run("mod", "vendor")
	if got, err := os.ReadFile(filepath.Join(mod, "go.mod")); err != nil || string(got) != goMod {
		t.Errorf("go.mod changed to %q (%v): the generated package should need nothing but the standard library", got, err)
	}
	if _, err := os.Stat(filepath.Join(mod, "vendor", "github.com")); err == nil {
		t.Errorf("go mod vendor vendored a dependency")
	}
	run("build", "./...")
}

// goIn runs the go command in dir as a user's shell would (no GOFLAGS, no
// workspace), with env added, and fails the test if it fails.
func goIn(t *testing.T, dir string, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), "GOWORK=off", "GOFLAGS="), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}
