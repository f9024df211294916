package tests

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestMemoryBudget holds acgen to its memory budget on a network whose
// checkpoint is 17 KB but whose linear layer has 100M parameters (an
// expand() view, stride 0; testdata/expand/make.py): under a budget it
// does not fit, acgen refuses it before reading a weight, with one line
// naming its size, and writes nothing; under one it fits, it generates
// the package with its peak resident memory inside that budget.
func TestMemoryBudget(t *testing.T) {
	if testing.Short() {
		t.Skip("generates a 400 MB package")
	}
	bin := acgenBinary(t)
	run := func(budget, out string) (string, int64, error) {
		cmd := exec.Command(bin, "-q", "-spec", "testdata/expand/net.yaml", "-weights", "testdata/expand/model.pth",
			"-out", out, "-max-memory", budget)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		var rss int64
		if u, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			rss = u.Maxrss << 10 // KiB on Linux
		}
		return strings.TrimSpace(stderr.String()), rss, err
	}
	out := filepath.Join(t.TempDir(), "expand")
	msg, rss, err := run("1GB", out)
	if err == nil || strings.Contains(msg, "\n") || !strings.Contains(msg, "needs about 1.4 GB") ||
		!strings.Contains(msg, `largest layer "fc" 768 MB in float64`) || !strings.Contains(msg, "more than the memory budget of 1.0 GB") {
		t.Errorf("under 1GB: %v: %q; want one line refusing it", err, msg)
	}
	if _, err := os.Stat(out); err == nil {
		t.Errorf("under 1GB: %s was written", out)
	}
	t.Logf("refused with %d MiB resident", rss>>20)

	msg, rss, err = run("2GB", out)
	if err != nil {
		t.Fatalf("under 2GB: %v: %s", err, msg)
	}
	if rss == 0 || rss > 2<<30 {
		t.Errorf("under 2GB: peak resident memory %d MiB", rss>>20)
	}
	st, err := os.Stat(filepath.Join(out, "weights.bin"))
	if err != nil || st.Size() < 4*2048*49152 {
		t.Errorf("weights.bin: %v, %d bytes", err, st.Size())
	}
	t.Logf("generated with %d MiB resident", rss>>20)
}
