package checkpoint

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestMain lets TestHostileBudget load a file in a child process, whose
// peak memory the parent can measure.
func TestMain(m *testing.M) {
	if path := os.Getenv("ACGEN_BUDGET_CHILD"); path != "" {
		_, err := Load(path, Options{Want: map[string]int64{"w": 4}})
		// The child's own peak (VmHWM), on stdout: wait4's ru_maxrss can
		// count the parent's memory shared before exec.
		status, _ := os.ReadFile("/proc/self/status")
		for _, line := range strings.Split(string(status), "\n") {
			if strings.HasPrefix(line, "VmHWM:") {
				fmt.Println(strings.Fields(line)[1])
			}
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestHostileBudget: small files that used to take gigabytes (or run out
// of memory) are refused, or loaded without touching what the spec does
// not read, within 1 GB of peak memory and 10 s, in a child process.
func TestHostileBudget(t *testing.T) {
	if testing.Short() {
		t.Skip("writes and loads some large files")
	}
	dir := t.TempDir()
	flood := func(op byte, n int) []byte {
		return append(append([]byte{0x80, 0x02}, bytes.Repeat([]byte{op}, n)...), '.')
	}
	w := f32Tensor("w", "0", 4)
	cases := []struct {
		name string
		data func() []byte
		want string // "" for a load that succeeds
	}{
		{"zip EMPTY_DICT flood", func() []byte { return makePth(t, flood('}', 60<<20), nil) }, "memory budget"},
		{"zip EMPTY_LIST flood", func() []byte { return makePth(t, flood(']', 60<<20), nil) }, "memory budget"},
		{"zip MEMOIZE flood", func() []byte {
			return makePth(t, append(append([]byte{0x80, 0x04}, bytes.Repeat([]byte{'N', 0x94}, 30<<20)...), '.'), nil)
		}, "memory budget"},
		{"legacy EMPTY_DICT flood", func() []byte {
			return append(append([]byte{}, pickleMagic...), append([]byte{'.'}, flood('}', 200<<20)...)...)
		}, ""},
		{"deflate bomb in a key the spec does not read", func() []byte {
			big := f32Tensor("unused", "1", 1<<28) // 1 GiB of zeros, deflated to about 1 MB
			pkl := stateDictPickle(w, big)
			return deflatedPth(t, pkl, map[string][]byte{"0": f32Bytes(1, 2, 3, 4), "1": make([]byte, 4<<28)})
		}, "ok"},
		{"float16 expanded to 2^31-1 elements, not read", func() []byte {
			e := pkTensor{key: "huge", storage: "1", class: "HalfStorage", numel: 1, size: []int64{1<<31 - 1}, stride: []int64{0}}
			return makePth(t, stateDictPickle(w, e), map[string][]byte{"0": f32Bytes(1, 2, 3, 4), "1": {0, 0}})
		}, "ok"},
		{"safetensors shape of 10M numbers", func() []byte {
			shape := make([]int, 10_000_000)
			return makeSafetensors(map[string]any{"w": map[string]any{"dtype": "F32", "shape": shape, "data_offsets": []int{0, 16}}}, f32Bytes(1, 2, 3, 4))
		}, "no tensor has so many dimensions"},
		{"safetensors with 300k entries", func() []byte {
			var b strings.Builder
			b.WriteString("{")
			for i := 0; i < 300_000; i++ {
				fmt.Fprintf(&b, `"t%d":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},`, i)
			}
			b.WriteString(`"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}`)
			h := b.String()
			return append(append(binary.LittleEndian.AppendUint64(nil, uint64(len(h))), h...), f32Bytes(1, 2, 3, 4)...)
		}, "more than 262144 tensors"},
	}
	for _, c := range cases {
		path := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "_"))
		if err := os.WriteFile(path, c.data(), 0o644); err != nil {
			t.Fatal(err)
		}
		st, _ := os.Stat(path)
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "ACGEN_BUDGET_CHILD="+path)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		start := time.Now()
		err := cmd.Run()
		took := time.Since(start)
		kib, perr := strconv.ParseInt(strings.TrimSpace(stdout.String()), 10, 64)
		if perr != nil {
			t.Skip("no VmHWM in /proc/self/status to measure the child's peak memory")
		}
		rss := kib << 10
		msg := strings.TrimSpace(stderr.String())
		switch {
		case c.want == "ok" && err != nil:
			t.Errorf("%s: %v: %s", c.name, err, msg)
		case c.want != "ok" && c.want != "" && (err == nil || !strings.Contains(msg, c.want) || strings.Contains(msg, "\n")):
			t.Errorf("%s: %v: %q, want one line saying %q", c.name, err, msg, c.want)
		case c.want == "" && (err == nil || strings.Contains(msg, "\n") || strings.Contains(msg, "goroutine")):
			t.Errorf("%s: %v: %q, want one line", c.name, err, msg)
		}
		// Memory is what is bounded here; the time is logged, not
		// asserted (a shared machine's load would make it flaky).
		if rss > 1<<30 {
			t.Errorf("%s (%d MiB file): peak RSS %d MiB, %v", c.name, st.Size()>>20, rss>>20, took)
		}
		t.Logf("%s (%d MiB file): %d MiB peak, %v: %s", c.name, st.Size()>>20, rss>>20, took.Round(time.Millisecond), msg)
	}
}

// deflatedPth is makePth with every entry deflated.
func deflatedPth(t testing.TB, pkl []byte, storages map[string][]byte) []byte {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	add := func(name string, data []byte) {
		f, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate})
		if err != nil {
			t.Fatal(err)
		}
		f.Write(data)
	}
	add("archive/data.pkl", pkl)
	for k, v := range storages {
		add("archive/data/"+k, v)
	}
	add("archive/version", []byte("3\n"))
	zw.Close()
	return b.Bytes()
}
