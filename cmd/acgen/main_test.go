package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/acgen/acgen/fixtures"
	"github.com/acgen/acgen/gen"
	"github.com/acgen/acgen/internal/synth"
	"github.com/acgen/acgen/spec"
	"github.com/acgen/acgen/target"
)

// acgen runs the command in-process, as main would, and returns its exit
// status and output.
func acgen(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = runMain(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

var cifar = fixtures.Get("cifar_small")

// tmpFile writes data to a file named name in a new temporary directory.
func tmpFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// cifarSpec is the fixture's spec with old replaced by new.
func cifarSpec(t *testing.T, old, new string) string {
	t.Helper()
	src, err := os.ReadFile(cifar.Spec)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(src, []byte(old)) {
		t.Fatalf("the fixture's spec has no %q", old)
	}
	return tmpFile(t, "net.yaml", bytes.Replace(src, []byte(old), []byte(new), 1))
}

// nanCheckpoint is a safetensors checkpoint for the fixture's spec with
// one NaN.
func nanCheckpoint(t *testing.T) string {
	t.Helper()
	net, err := spec.Load(cifar.Spec)
	if err != nil {
		t.Fatal(err)
	}
	ts, err := synth.Checkpoint(net, 7)
	if err != nil {
		t.Fatal(err)
	}
	ts["stage1.0.conv2.square_conv.weight"].Data[(3*8+2)*9+4] = float32(math.NaN())
	path := filepath.Join(t.TempDir(), "model.safetensors")
	if err := synth.WriteFile(path, ts); err != nil {
		t.Fatal(err)
	}
	return path
}

func firstHalf(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return tmpFile(t, "model.pth", data[:len(data)/2])
}

// badInputs are runs that must fail with status 1, write nothing, and say
// first what is wrong.
var badInputs = []struct {
	name  string
	args  func(t *testing.T) (specPath, weights string)
	first string // what stderr's first line holds
	lines int    // at most this many lines on stderr; 0 means 1
}{
	{"YAML syntax error", func(t *testing.T) (string, string) {
		return tmpFile(t, "net.yaml", []byte("input: [3, 32, 32\nlayers:\n  - {op: relu}\n")), cifar.Pth
	}, "net.yaml:2:1: ',' or ']' must be specified", 0},
	{"unknown op", func(t *testing.T) (string, string) {
		return cifarSpec(t, "{name: relu1, op: relu}", "{name: relu1, op: ReLU}"), cifar.Pth
	}, `net.yaml:7:23: layer "relu1": unknown op "ReLU" (did you mean "relu"?); known ops: acblock, adaptive_avgpool, add, avgpool, bn, channel_shuffle, concat, conv, dbb, dilated_reparam, dropout, flatten, gelu, global_avgpool, grn, hardsigmoid, hardswish, layernorm, leaky_relu, linear, linear_sum, maxpool, mobileone, mul, qarepvgg, relu, relu6, repconv, repvgg, repvggdw, scale, sigmoid, silu, split, tanh`, 0},
	{"unknown field", func(t *testing.T) (string, string) {
		return cifarSpec(t, "op: acblock, out: 8, kernel: 3}", "op: acblock, out: 8, kernal: 3}"), cifar.Pth
	}, `net.yaml:6:40: layer "conv1": op acblock has no field "kernal" (did you mean "kernel"?)`, 0},
	{"duplicate name", func(t *testing.T) (string, string) {
		return cifarSpec(t, "{name: stage1.0.relu1,", "{name: relu1,"), cifar.Pth
	}, `net.yaml:9:12: layer "relu1": the name is already used by the layer at line 7`, 0},
	{"input that comes later", func(t *testing.T) (string, string) {
		return cifarSpec(t, "inputs: [relu1]}", "inputs: [stage1.0.relu1]}"), cifar.Pth
	}, `net.yaml:8:69: layer "stage1.0.conv1": input "stage1.0.relu1" is layer #3, which runs after this one`, 0},
	{"even ACBlock kernel", func(t *testing.T) (string, string) {
		return cifarSpec(t, "op: acblock, out: 8, kernel: 3}", "op: acblock, out: 8, kernel: 4}"), cifar.Pth
	}, `net.yaml:6:48: layer "conv1": kernel 4 is even`, 0},
	{"ACBlock dilation", func(t *testing.T) (string, string) {
		return cifarSpec(t, "op: acblock, out: 8, kernel: 3}", "op: acblock, out: 8, kernel: 3, dilation: 2}"), cifar.Pth
	}, `net.yaml:6:61: layer "conv1": dilation 2: ACNet pads the 1xK and Kx1 branches for dilation 1`, 0},
	{"add of different shapes", func(t *testing.T) (string, string) {
		return cifarSpec(t, "inputs: [stage2.0.conv2, stage2.0.shortcut.bn]", "inputs: [stage2.0.conv2, stage1.0.relu2]"), cifar.Pth
	}, `net.yaml:18:43: layer "stage2.0.add": cannot add stage1.0.relu2 (8x32x32) to stage2.0.conv2 (16x16x16)`, 0},
	{"linear input size", func(t *testing.T) (string, string) {
		return cifarSpec(t, "  - {name: gap, op: global_avgpool}\n", ""), cifar.Pth
	}, `net.yaml:20:5: layer "linear": checkpoint key "linear.weight": shape [10 16], want [10 4096]`, 0},
	{"activations over the limit", func(t *testing.T) (string, string) {
		return cifarSpec(t, "input: [3, 32, 32]", "input: [3, 100000, 100000]"), cifar.Pth
	}, "net.yaml:4:8: input [3 100000 100000] is 114441 MiB for one sample, more than the limit of 1024 MiB (raise it with acgen -max-activation-mb", 0},
	{"missing keys", func(t *testing.T) (string, string) {
		return cifarSpec(t, "{name: conv1, op: acblock", "{name: stem, op: acblock"), cifar.Pth
	}, `net.yaml:6:5: layer "stem": checkpoint key "stem.square_conv.weight": missing from ` + cifar.Pth + `, as are the layer's 8 other keys under "stem."; did you mean "conv1.square_conv.weight"?`, 0},
	{"mis-shaped key", func(t *testing.T) (string, string) {
		return cifarSpec(t, "{name: linear, op: linear, out: 10}", "{name: linear, op: linear, out: 12}"), cifar.Pth
	}, `net.yaml:21:5: layer "linear": checkpoint key "linear.weight": shape [10 16], want [12 16]`, 2},
	{"extra keys", func(t *testing.T) (string, string) {
		return cifarSpec(t, "  - {name: linear, op: linear, out: 10}\n", ""), cifar.Pth
	}, cifar.Pth + `: key "linear.bias" [10] is not read by any layer of`, 2},
	{"NaN weight", func(t *testing.T) (string, string) {
		return cifar.Spec, nanCheckpoint(t)
	}, `net.yaml:10:5: layer "stage1.0.conv2": checkpoint key "stage1.0.conv2.square_conv.weight": value at [3 2 1 1] is NaN`, 0},
	{"truncated checkpoint", func(t *testing.T) (string, string) {
		return cifar.Spec, firstHalf(t, cifar.Pth)
	}, "model.pth: not a readable zip archive (truncated or corrupt?)", 0},
	{"text file as checkpoint", func(t *testing.T) (string, string) {
		return cifar.Spec, tmpFile(t, "model.pth", []byte("these are not weights\n"))
	}, "model.pth: unknown format: acgen reads PyTorch .pth files (torch.save's zip format, or the legacy one of torch < 1.6), .safetensors files and HDF5 files of datasets (h5py's, as the official ACNet code saves)", 0},
	{"empty checkpoint", func(t *testing.T) (string, string) {
		return cifar.Spec, tmpFile(t, "model.pth", nil)
	}, "model.pth: empty file: acgen reads PyTorch .pth files", 0},
	{"malformed legacy checkpoint", func(t *testing.T) (string, string) {
		return cifar.Spec, tmpFile(t, "model.pth", []byte("\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19rest"))
	}, "model.pth: legacy format: the magic number pickle does not end where it should", 0},
	{"spec as checkpoint", func(t *testing.T) (string, string) {
		return cifar.Spec, cifar.Spec
	}, "net.yaml: unknown format", 0},
	{"no checkpoint file", func(t *testing.T) (string, string) {
		return cifar.Spec, filepath.Join(t.TempDir(), "model.pth")
	}, "model.pth: no such file or directory", 0},
	{"no spec file", func(t *testing.T) (string, string) {
		return filepath.Join(t.TempDir(), "net.yaml"), cifar.Pth
	}, "net.yaml: no such file or directory", 0},
	{"huge spec file", func(t *testing.T) (string, string) {
		p := tmpFile(t, "net.yaml", nil)
		if err := os.Truncate(p, 20<<30); err != nil { // sparse: 20 GiB that cost nothing, and must not be read
			t.Skip(err)
		}
		return p, cifar.Pth
	}, "net.yaml: is larger than a spec can be (16777216 bytes)", 0},
	{"many errors", func(t *testing.T) (string, string) {
		var b strings.Builder
		b.WriteString("input: [3, 8, 8]\nlayers:\n")
		for i := 0; i < 30; i++ {
			b.WriteString("  - {op: foo}\n")
		}
		return tmpFile(t, "net.yaml", []byte(b.String())), cifar.Pth
	}, `net.yaml:3:10: layer #0 (foo): unknown op "foo"`, 11},
}

func TestBadInputs(t *testing.T) {
	previousPkg := filepath.Join(t.TempDir(), "pkg")
	if code, _, stderr := acgen(t, "-q", "-spec", cifar.Spec, "-weights", cifar.Pth, "-out", previousPkg); code != 0 {
		t.Fatalf("generating the previous package: %s", stderr)
	}
	for _, c := range badInputs {
		t.Run(c.name, func(t *testing.T) {
			specPath, weights := c.args(t)
			for _, previous := range []bool{false, true} {
				parent := t.TempDir()
				out := filepath.Join(parent, "pkg")
				if previous {
					copyDir(t, previousPkg, out)
					os.WriteFile(filepath.Join(out, "mine_test.go"), []byte("package cifar_small\n"), 0o644)
					backdate(t, out)
				}
				before := snapshot(t, parent)
				code, stdout, stderr := acgen(t, "-spec", specPath, "-weights", weights, "-out", out)
				if code != 1 {
					t.Errorf("exit status %d, want 1\nstderr: %s", code, stderr)
				}
				lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
				if !strings.HasPrefix(lines[0], "acgen: ") || !strings.Contains(lines[0], c.first) {
					t.Errorf("stderr's first line\n  %s\nwant it to hold\n  %s", lines[0], c.first)
				}
				if len(lines) > max(c.lines, 1) {
					t.Errorf("%d lines on stderr, want at most %d:\n%s", len(lines), max(c.lines, 1), stderr)
				}
				if stdout != "" {
					t.Errorf("stdout: %s", stdout)
				}
				sameFiles(t, snapshot(t, parent), before)
			}
		})
	}
}

// TestManyErrorsShowTen checks the shape of a long error list on stderr.
func TestManyErrorsShowTen(t *testing.T) {
	specPath, _ := badInputs[len(badInputs)-1].args(t)
	_, _, stderr := acgen(t, "-spec", specPath, "-weights", cifar.Pth, "-out", filepath.Join(t.TempDir(), "pkg"))
	lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
	if len(lines) != 11 || lines[10] != "       (and 20 more errors)" || !strings.Contains(lines[9], "net.yaml:12:10: ") {
		t.Errorf("stderr:\n%s", stderr)
	}
}

// TestHandWrittenFileInTheWay: -out holds a file of the user's with the
// name of a generated one.
func TestHandWrittenFileInTheWay(t *testing.T) {
	for _, previous := range []bool{false, true} {
		parent := t.TempDir()
		out := filepath.Join(parent, "pkg")
		if previous {
			acgen(t, "-q", "-spec", cifar.Spec, "-weights", cifar.Pth, "-out", out)
		} else {
			os.Mkdir(out, 0o755)
		}
		mine := []byte("package cifar_small\n\n// My own net.go.\n")
		os.WriteFile(filepath.Join(out, "net.go"), mine, 0o644)
		backdate(t, out)
		before := snapshot(t, parent)
		code, _, stderr := acgen(t, "-spec", cifar.Spec, "-weights", cifar.Pth, "-out", out)
		if code != 1 || !strings.HasPrefix(stderr, "acgen: "+filepath.Join(out, "net.go")+": exists and is not generated by acgen") || strings.Count(stderr, "\n") != 1 {
			t.Errorf("exit %d, stderr:\n%s", code, stderr)
		}
		sameFiles(t, snapshot(t, parent), before)
	}
}

// TestRegenerate covers runs that succeed over a previous package.
func TestRegenerate(t *testing.T) {
	parent := t.TempDir()
	out := filepath.Join(parent, "pkg")
	code, stdout, stderr := acgen(t, "-spec", cifar.Spec, "-weights", cifar.Pth, "-out", out)
	if code != 0 || stderr != "" {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, out+": 36 files written, 0 unchanged") {
		t.Errorf("stdout:\n%s", stdout)
	}
	// A user's files, and a stale generated one (in the package and in
	// its testdata) as an older acgen could have left.
	mine := map[string]string{"mine_test.go": "package cifar_small\n", "testdata/mine.txt": "x"}
	stale := []string{"old_layer.go", "testdata/old.bin"}
	for name, data := range mine {
		os.WriteFile(filepath.Join(out, filepath.FromSlash(name)), []byte(data), 0o644)
	}
	backdate(t, out)
	before := snapshot(t, parent)

	// The same inputs again: no file is touched.
	code, stdout, _ = acgen(t, "-spec", cifar.Spec, "-weights", cifar.Pth, "-out", out)
	if code != 0 || !strings.Contains(stdout, ": 0 files written, 36 unchanged\n") {
		t.Errorf("exit %d, stdout:\n%s", code, stdout)
	}
	sameFiles(t, snapshot(t, parent), before)

	for _, name := range stale {
		os.WriteFile(filepath.Join(out, filepath.FromSlash(name)), []byte(gen.Header+"\n\npackage cifar_small\n"), 0o644)
	}
	code, stdout, _ = acgen(t, "--spec", cifar.Spec, "--weights", cifar.Pth, "--out", out)
	if code != 0 || !strings.Contains(stdout, ": 0 files written, 36 unchanged, 2 stale removed\n") {
		t.Errorf("exit %d, stdout:\n%s", code, stdout)
	}
	sameFiles(t, snapshot(t, parent), before)
}

// TestFlagSpellings checks that -flag, --flag, -flag=v and --flag=v all
// work, and that -q is still a shorthand.
func TestFlagSpellings(t *testing.T) {
	for _, args := range [][]string{
		{"-spec", cifar.Spec, "-weights", cifar.Pth, "-dump", "spec"},
		{"--spec", cifar.Spec, "--weights", cifar.Pth, "--dump", "spec"},
		{"-spec=" + cifar.Spec, "--weights=" + cifar.Pth, "-dump=spec", "-q"},
		{"--spec=" + cifar.Spec, "-weights=" + cifar.Pth, "--dump=spec", "--quiet"},
	} {
		code, stdout, stderr := acgen(t, args...)
		if code != 0 || !strings.Contains(stdout, `"stage2.0.shortcut.conv"`) {
			t.Errorf("%q: exit %d\nstdout: %s\nstderr: %s", args, code, stdout, stderr)
		}
		if strings.Contains(stdout, "files written") {
			t.Errorf("%q: -dump without -out reports a write:\n%s", args, stdout)
		}
	}
}

func TestHelp(t *testing.T) {
	for _, arg := range []string{"-h", "--help", "-help"} {
		code, stdout, stderr := acgen(t, arg)
		if code != 0 || stderr != "" {
			t.Errorf("%s: exit %d, stderr %s", arg, code, stderr)
		}
		var o options
		newFlagSet(&o).VisitAll(func(f *pflag.Flag) {
			if !strings.Contains(stdout, " -"+f.Name+" ") {
				t.Errorf("%s does not list -%s", arg, f.Name)
			}
		})
		if !strings.Contains(stdout, "Exit status: 0 on success, 1 when an input is wrong") {
			t.Errorf("%s does not give the exit statuses", arg)
		}
	}
}

func TestVersion(t *testing.T) {
	code, stdout, stderr := acgen(t, "-version")
	if code != 0 || stderr != "" || !strings.HasPrefix(stdout, "acgen ") || strings.Count(stdout, "\n") != 1 {
		t.Errorf("-version: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

func TestUsageErrors(t *testing.T) {
	out := filepath.Join(t.TempDir(), "pkg")
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, "acgen: need -spec and -weights"},
		{[]string{"-spec", cifar.Spec}, "acgen: need -spec and -weights"},
		{[]string{"-spec", cifar.Spec, "-weights", cifar.Pth}, "acgen: need -out DIR (or -run FILE, or -dump STAGE)"},
		{[]string{"-bogus"}, "acgen: unknown flag -bogus"},
		{[]string{"--bogus"}, "acgen: unknown flag -bogus"},
		{[]string{"-weight", "x"}, "acgen: unknown flag -weight (did you mean -weights?)"},
		{[]string{"--spce=x"}, "acgen: unknown flag -spce (did you mean -spec?)"},
		{[]string{"-package", "x"}, "acgen: unknown flag -package (did you mean -pkg?)"},
		{[]string{"-spec", "s", "-weights", "w", "-dump", "bogus"}, `acgen: -dump: no stage "bogus"; stages are spec, weights, graph, fuse, plan, check, emit, write`},
		{[]string{"-spec", "s", "-weights", "w", "-dump", "write"}, "acgen: -dump write needs -out DIR"},
		{[]string{"-spec"}, "acgen: flag needs an argument: --spec"},
		{[]string{"-spec", cifar.Spec, "-weights", cifar.Pth, "-out", out, "extra"}, `acgen: unexpected argument "extra"`},
		{[]string{"-spec", cifar.Spec, "-weights", cifar.Pth, "-out", out, "-fused"}, "acgen: -fused goes with -run"},
		{[]string{"-spec", cifar.Spec, "-weights", cifar.Pth, "-out", out, "-run", "x"}, "acgen: -run generates nothing; drop -out"},
		{[]string{"-spec", cifar.Spec, "-weights", cifar.Pth, "-out", out, "-max-activation-mb", "0"}, "acgen: -max-activation-mb must be positive"},
		{[]string{"-spec", cifar.Spec, "-weights", cifar.Pth, "-out", out, "-max-activation-mb", "lots"}, `acgen: invalid argument "lots" for "--max-activation-mb`},
		{[]string{"-verify"}, "acgen: -verify needs -out DIR"},
	} {
		code, stdout, stderr := acgen(t, c.args...)
		if code != 2 || !strings.HasPrefix(stderr, c.want) || !strings.HasSuffix(stderr, "\nRun acgen -h for usage.\n") || stdout != "" {
			t.Errorf("%q: exit %d, want 2\nstderr: %s", c.args, code, stderr)
		}
	}
	if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a usage error wrote -out")
	}
}

// TestActivationLimitFlag checks that -max-activation-mb moves the limit,
// and that a huge value is taken as "no limit", not wrapped around.
func TestActivationLimitFlag(t *testing.T) {
	// About 22 MiB of activations. The linear layer does not fit the
	// checkpoint, so that a run past the limit check stops soon after.
	specPath := cifarSpec(t, "input: [3, 32, 32]", "input: [3, 256, 256]")
	src, _ := os.ReadFile(specPath)
	os.WriteFile(specPath, bytes.Replace(src, []byte("out: 10}"), []byte("out: 12}"), 1), 0o644)
	out := filepath.Join(t.TempDir(), "pkg")
	code, _, stderr := acgen(t, "-spec", specPath, "-weights", cifar.Pth, "-out", out, "-max-activation-mb", "10")
	if code != 1 || !strings.Contains(stderr, "more than the limit of 10 MiB") {
		t.Errorf("with a 10 MB limit: exit %d: %s", code, stderr)
	}
	for _, mb := range []string{"30", "9223372036854775807"} {
		code, _, stderr = acgen(t, "-spec", specPath, "-weights", cifar.Pth, "-out", out, "-max-activation-mb", mb)
		if code != 1 || !strings.Contains(stderr, `checkpoint key "linear.weight": shape [10 16], want [12 16]`) {
			t.Errorf("with a %s MB limit: exit %d: %s", mb, code, stderr)
		}
	}
}

type fileState struct {
	data  string
	mtime time.Time
	mode  os.FileMode
}

func snapshot(t *testing.T, dir string) map[string]fileState {
	t.Helper()
	s := map[string]fileState{}
	err := filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		st := fileState{mtime: info.ModTime(), mode: info.Mode()}
		if info.Mode().IsRegular() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			st.data = string(b)
		}
		if info.IsDir() {
			st.mtime = time.Time{} // a directory's time moves with its entries' renames
		}
		s[rel] = st
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func sameFiles(t *testing.T, got, want map[string]fileState) {
	t.Helper()
	for name, w := range want {
		g, ok := got[name]
		if !ok {
			t.Errorf("%s is gone", name)
		} else if g != w {
			t.Errorf("%s changed (content, mode or time)", name)
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("%s appeared", name)
		}
	}
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.Walk(from, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		if info.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(to, rel), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func backdate(t *testing.T, dir string) {
	old := time.Now().Add(-time.Hour).Truncate(time.Second)
	filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && info.Mode().IsRegular() {
			os.Chtimes(p, old, old)
		}
		return nil
	})
}

// TestVerifyBeforeWrite checks -verify on a run that generates: the new
// package is tested (with the user's own files of -out) before it
// replaces the old one, so a failure leaves the old one in place.
func TestVerifyBeforeWrite(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go test on a generated package")
	}
	parent := t.TempDir()
	out := filepath.Join(parent, "pkg")
	if code, _, stderr := acgen(t, "-q", "-spec", cifar.Spec, "-weights", cifar.Pth, "-out", out); code != 0 {
		t.Fatal(stderr)
	}
	os.WriteFile(filepath.Join(out, "mine_test.go"), []byte("package cifar_small\n\nimport \"testing\"\n\nfunc TestMine(t *testing.T) { t.Fatal(\"my test fails\") }\n"), 0o644)
	backdate(t, out)
	before := snapshot(t, parent)
	// A changed spec (the package changes), and a failing test of the user's.
	specPath := cifarSpec(t, "name: cifar_small", "name: cifar_small  # changed")
	code, _, stderr := acgen(t, "-spec", specPath, "-weights", cifar.Pth, "-out", out, "-verify", "-q")
	if code != 1 || !strings.Contains(stderr, "go test -count=1 ./... failed") || !strings.Contains(stderr, "my test fails") {
		t.Errorf("exit %d: %s", code, stderr)
	}
	sameFiles(t, snapshot(t, parent), before)

	os.Remove(filepath.Join(out, "mine_test.go"))
	// The spec's comment changes doc.go and net.go (which record the
	// spec), not the golden samples (seeded from the weights) nor the code.
	code, stdout, stderr := acgen(t, "-spec", specPath, "-weights", cifar.Pth, "-out", out, "-verify")
	if code != 0 || !strings.Contains(stdout, out+": verified before writing") || !strings.Contains(stdout, "2 files written, 34 unchanged") {
		t.Errorf("exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
}

// TestISAFlag: -isa chooses which assembly programs the package holds;
// an unknown name is bad usage.
func TestISAFlag(t *testing.T) {
	for _, c := range []struct {
		isa       string
		has, lack []string
	}{
		{"avx2", []string{"kernels_amd64.s", "cpu_amd64.go"}, []string{"program_avx512_amd64.go", "kernels_arm64.s"}},
		{"avx512", []string{"kernels_amd64.s", "program_avx512_amd64.go"}, []string{"kernels_arm64.s"}},
		{"neon", []string{"kernels_arm64.s", "program_neon_arm64.go", "levels_arm64.go", "noasm.go"}, []string{"kernels_amd64.s", "kernels_standins.go"}},
		{"go", []string{"levels.go"}, []string{"kernels_amd64.s", "cpu_amd64.go", "program_avx512_amd64.go", "kernels_arm64.s"}},
	} {
		out := filepath.Join(t.TempDir(), "pkg")
		code, _, stderr := acgen(t, "-q", "-isa", c.isa, "-spec", cifar.Spec, "-weights", cifar.Pth, "-out", out)
		if code != 0 {
			t.Fatalf("-isa %s: exit %d: %s", c.isa, code, stderr)
		}
		for _, f := range c.has {
			if _, err := os.Stat(filepath.Join(out, f)); err != nil {
				t.Errorf("-isa %s: %v", c.isa, err)
			}
		}
		for _, f := range c.lack {
			if _, err := os.Stat(filepath.Join(out, f)); err == nil {
				t.Errorf("-isa %s wrote %s", c.isa, f)
			}
		}
		if c.isa == "avx2" {
			cpu, _ := os.ReadFile(filepath.Join(out, "cpu_amd64.go"))
			if strings.Contains(string(cpu), "AVX512") {
				t.Errorf("-isa avx2: cpu_amd64.go checks for AVX-512")
			}
		}
	}
	code, _, stderr := acgen(t, "-isa", "avx3", "-spec", cifar.Spec, "-weights", cifar.Pth, "-out", t.TempDir())
	if code != 2 || !strings.Contains(stderr, `unknown ISA "avx3" (known: avx512, avx2, neon, go)`) {
		t.Errorf("-isa avx3: exit %d: %s", code, stderr)
	}
}

// TestTuneFlag: -tune host plans for this machine's caches (on Linux);
// anything but portable or host is bad usage.
func TestTuneFlag(t *testing.T) {
	if _, err := target.HostCaches(); err == nil {
		out := filepath.Join(t.TempDir(), "pkg")
		if code, _, stderr := acgen(t, "-q", "-tune", "host", "-spec", cifar.Spec, "-weights", cifar.Pth, "-out", out); code != 0 {
			t.Errorf("-tune host: exit %d: %s", code, stderr)
		}
	}
	code, _, stderr := acgen(t, "-tune", "fast", "-spec", cifar.Spec, "-weights", cifar.Pth, "-out", t.TempDir())
	if code != 2 || !strings.Contains(stderr, `-tune "fast": want portable or host`) {
		t.Errorf("-tune fast: exit %d: %s", code, stderr)
	}
}

// TestGoModPath: -gomod takes a module path only; one that would inject
// lines into go.mod is bad usage, and nothing is written.
func TestGoModPath(t *testing.T) {
	out := filepath.Join(t.TempDir(), "pkg")
	code, _, stderr := acgen(t, "-spec", cifar.Spec, "-weights", cifar.Pth, "-out", out, "-gomod", "m\nreplace x => /etc")
	if code != 2 || !strings.HasPrefix(stderr, `acgen: -gomod: "m\nreplace x => /etc" is not a valid module path`) {
		t.Errorf("exit %d: %s", code, stderr)
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("-out was written")
	}
}

// TestDumpStops: -dump prints its stage's result alone on stdout and
// stops there: nothing is written, even with -out; -dump emit needs no
// -out.
func TestDumpStops(t *testing.T) {
	out := filepath.Join(t.TempDir(), "pkg")
	code, stdout, stderr := acgen(t, "-spec", cifar.Spec, "-weights", cifar.Pth, "-out", out, "-dump", "plan")
	if code != 0 || stderr != "" || !strings.Contains(stdout, "program avx512") || strings.Contains(stdout, "acgen:") {
		t.Errorf("-dump plan: exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("-dump plan wrote the package")
	}
	code, stdout, _ = acgen(t, "-spec", cifar.Spec, "-weights", cifar.Pth, "-dump", "emit")
	if code != 0 || !strings.Contains(stdout, "forward.go") {
		t.Errorf("-dump emit without -out: exit %d: %s", code, stdout)
	}
}

// TestReportExtension: -report takes .svg, .html or text, and refuses
// an extension it would not honour before anything runs.
func TestReportExtension(t *testing.T) {
	code, _, stderr := acgen(t, "-spec", cifar.Spec, "-weights", cifar.Pth, "-out", t.TempDir(), "-report", "x.png")
	if code != 2 || !strings.Contains(stderr, "-report x.png: acgen draws the report as .svg or .html, or writes it as text (.txt)") {
		t.Errorf("exit %d: %s", code, stderr)
	}
}

// TestRunStdin: -run - reads the samples from standard input.
func TestRunStdin(t *testing.T) {
	defer func(r io.Reader) { stdin = r }(stdin)
	stdin = strings.NewReader(strings.Repeat("0.5 ", 3*32*32))
	code, stdout, stderr := acgen(t, "-spec", cifar.Spec, "-weights", cifar.Pth, "-run", "-")
	if code != 0 || strings.Count(stdout, "\n") != 1 || len(strings.Fields(stdout)) != 10 {
		t.Errorf("exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
}

// TestOfficialHDF5 generates cifar_small from the HDF5 file the official
// ACNet engine writes (fixtures/trainer/finish.hdf5, made by h5py): the
// package's weights are byte for byte those made from the .pth, and the
// "deps" widths beside them are named as left out, not refused.
func TestOfficialHDF5(t *testing.T) {
	dir := t.TempDir()
	fromPth, fromHDF5 := filepath.Join(dir, "pth"), filepath.Join(dir, "hdf5")
	h5 := filepath.Join(filepath.Dir(filepath.Dir(cifar.Spec)), "trainer", "finish.hdf5")
	if code, _, stderr := acgen(t, "-spec", cifar.Spec, "-weights", cifar.Pth, "-out", fromPth); code != 0 {
		t.Fatalf("from .pth: exit %d: %s", code, stderr)
	}
	code, stdout, stderr := acgen(t, "-spec", cifar.Spec, "-weights", h5, "-out", fromHDF5)
	if code != 0 || stderr != "" {
		t.Fatalf("from HDF5: exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, h5+`: dataset "deps" (int64 [4]) is the official ACNet engine's list of channel widths, not a weight: ignored`) {
		t.Errorf("stdout does not name deps as left out:\n%s", stdout)
	}
	a, err := os.ReadFile(filepath.Join(fromPth, "weights.bin"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(fromHDF5, "weights.bin"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Errorf("weights.bin differs between the .pth and the HDF5 file (%d and %d bytes)", len(a), len(b))
	}
}

// TestDumpDetails: -dump spec shows each layer the fields its op takes
// (a relu no kernel size), and -dump fuse counts what the summary line
// counts.
func TestDumpDetails(t *testing.T) {
	code, stdout, stderr := acgen(t, "-spec", cifar.Spec, "-weights", cifar.Pth, "-dump", "spec")
	if code != 0 {
		t.Fatalf("-dump spec: exit %d: %s", code, stderr)
	}
	for _, line := range strings.Split(stdout, "\n") {
		f := strings.Fields(line)
		if len(f) > 1 && f[1] == "relu" && strings.Contains(line, "kernel=") {
			t.Errorf("-dump spec gives a relu a kernel: %s", line)
		}
		if len(f) > 1 && f[1] == "acblock" && !strings.Contains(line, "eps=1e-05") {
			t.Errorf("-dump spec leaves out an acblock's eps: %s", line)
		}
	}
	code, stdout, _ = acgen(t, "-spec", cifar.Spec, "-weights", cifar.Pth, "-out", filepath.Join(t.TempDir(), "pkg"))
	if code != 0 {
		t.Fatal(code)
	}
	var blocks, bns int
	if _, err := fmt.Sscanf(stdout, "acgen: fused %d ACBlocks and %d BatchNorms", &blocks, &bns); err != nil {
		t.Fatalf("summary %q: %v", stdout, err)
	}
	_, dumped, _ := acgen(t, "-spec", cifar.Spec, "-weights", cifar.Pth, "-dump", "fuse")
	got := map[string]string{}
	for _, line := range strings.Split(dumped, "\n") {
		if f := strings.Fields(line); len(f) >= 3 && f[1] == "fused" {
			got[f[0]] = f[2]
		}
	}
	if got["ACBlocks"] != fmt.Sprint(blocks) || got["BatchNorms"] != fmt.Sprint(bns) {
		t.Errorf("-dump fuse counts %v, the summary %d ACBlocks and %d BatchNorms:\n%s", got, blocks, bns, dumped)
	}
}

// TestReportNamesTheMachine: -report's HTML says what it measured on (the
// kernels, the CPU, the Go version, the date) and the total, and -q keeps
// the table off stdout.
func TestReportNamesTheMachine(t *testing.T) {
	if testing.Short() {
		t.Skip("benchmarks a package")
	}
	dir := t.TempDir()
	report := filepath.Join(dir, "r.html")
	code, stdout, stderr := acgen(t, "-q", "-spec", cifar.Spec, "-weights", cifar.Pth, "-out", filepath.Join(dir, "pkg"), "-report", report)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if strings.Contains(stdout, "time µs") {
		t.Errorf("-q printed the table:\n%s", stdout)
	}
	data, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	title := regexp.MustCompile(`<title>([^<]*)</title>`).FindStringSubmatch(string(data))
	if title == nil || !regexp.MustCompile(`µs in all \(\w+ kernels on .+, go1\.\d+.*, \d{4}-\d\d-\d\d\)$`).MatchString(title[1]) {
		t.Errorf("report title %q does not name the total, kernels, CPU, Go version and date", title)
	}
}
