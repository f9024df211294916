// Command genmem measures what generating a package costs: acgen's peak
// resident memory and wall time on ImageNet-size networks, against the
// float32 size of their weights (issue 22's targets: peak RSS at most
// twice the weights plus 0.5 GB; VGG-16 in 20 s, ResNet-18 in 10 s), and
// where the memory goes, stage by stage.
//
//	bench/genmem/run.sh                 # exports the networks, builds acgen, runs this
//	go run ./bench/genmem -dir bench/work/genmem -acgen bench/work/genmem/acgen
//
// Each network (DIR/NAME/net.yaml, model.pth and info.json, written by
// bench/imagenet/export.py) is generated -runs times by
// `acgen -q -spec ... -weights ... -out ...` under /usr/bin/time -v, into
// an emptied directory each time; the table gives the median and range of
// the peak RSS (time's "Maximum resident set size") and of the wall time,
// and how much CPU other processes used meanwhile. On a shared machine
// each run first waits (at most -idle-wait) for a quiet second, and a run
// during which others used more than -max-other CPUs is run again (at
// most -redo times), since their work lengthens the wall time.
//
// With -stages (the default) each network is then generated once more in
// a child process that runs driver.Run itself under a heap profiler
// (profile.go): per stage its wall time, the largest heap and RSS sampled
// while it ran, and the live heap after it; and at the largest live heap
// seen, how many bytes each stage's allocations still held, and the
// largest allocation sites. That process forces a GC at each stage's end
// and whenever its heap grows a fifth, so its own peak RSS is lower than
// acgen's: the table's RSS numbers are acgen's own.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"
)

func main() {
	fs := flag.NewFlagSet("genmem", flag.ExitOnError)
	dir := fs.String("dir", filepath.Join("bench", "work", "genmem"), "directory holding NAME/{net.yaml,model.pth,info.json} (bench/imagenet/export.py --no-onnx --out DIR)")
	nets := fs.String("nets", "tv_resnet18,tv_resnet50,tv_vgg16", "networks, comma-separated")
	runs := fs.Int("runs", 3, "acgen runs per network")
	acgen := fs.String("acgen", "", "the acgen binary (default: go build ./cmd/acgen into DIR)")
	stages := fs.Bool("stages", true, "also profile each network's generation stage by stage, in-process")
	var q quiet
	fs.Float64Var(&q.maxOther, "max-other", 0.3, "redo a run during which other processes used more CPUs than this (0: never)")
	fs.IntVar(&q.redo, "redo", 3, "redo a run at most this many times")
	fs.DurationVar(&q.wait, "idle-wait", 5*time.Minute, "before a run, wait at most this long for a second in which others use at most -max-other CPUs")
	// The child mode: one in-process run under the profiler.
	profile := fs.String("profile", "", "internal: profile one run of NAME (with -spec, -weights, -out)")
	specPath := fs.String("spec", "", "internal: with -profile")
	weights := fs.String("weights", "", "internal: with -profile")
	out := fs.String("out", "", "internal: with -profile")
	fs.Parse(os.Args[1:])

	if *profile != "" {
		runtime.MemProfileRate = profileRate
		if err := profileRun(os.Stdout, *profile, *specPath, *weights, *out); err != nil {
			fmt.Fprintln(os.Stderr, "genmem:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(*dir, strings.Split(*nets, ","), *runs, *acgen, *stages, q); err != nil {
		fmt.Fprintln(os.Stderr, "genmem:", err)
		os.Exit(1)
	}
}

// info is what bench/imagenet/export.py says of a network.
type info struct {
	Params       int64 `json:"params"`
	Float32Bytes int64 `json:"float32_bytes"`
}

// measured is one network's runs.
type measured struct {
	name    string
	info    info
	runs    []timed
	redone  int    // runs redone for others' load
	profile string // the child's report
	profRSS float64
}

// outDir, under -dir, receives the generated packages: its leading
// underscore keeps them out of the go command's ./... (the packages have
// no go.mod of their own, and inside the repository a `go test ./...`
// would build and test them).
const outDir = "_out"

// targets: issue 22's bounds (wall seconds; 0 where it sets none).
var wallTarget = map[string]float64{"tv_vgg16": 20, "tv_resnet18": 10}

func run(dir string, names []string, runs int, acgen string, stages bool, q quiet) error {
	if acgen == "" {
		acgen = filepath.Join(dir, "acgen")
		build := exec.Command("go", "build", "-o", acgen, "./cmd/acgen")
		build.Dir = repoRoot()
		if b, err := build.CombinedOutput(); err != nil {
			return fmt.Errorf("go build ./cmd/acgen: %v\n%s", err, b)
		}
	}
	acgen, _ = filepath.Abs(acgen)
	self, err := os.Executable()
	if err != nil {
		return err
	}
	fmt.Println(header())
	var all []*measured
	for _, name := range names {
		m := &measured{name: name}
		nd := filepath.Join(dir, name)
		data, err := os.ReadFile(filepath.Join(nd, "info.json"))
		if err != nil {
			return fmt.Errorf("%w (run bench/imagenet/export.py --no-onnx --out %s first)", err, dir)
		}
		if err := json.Unmarshal(data, &m.info); err != nil {
			return fmt.Errorf("%s: %w", filepath.Join(nd, "info.json"), err)
		}
		pkg := filepath.Join(dir, outDir, name)
		args := []string{"-spec", filepath.Join(nd, "net.yaml"), "-weights", filepath.Join(nd, "model.pth"), "-out", pkg}
		for r := 0; r < runs; r++ {
			t, err := q.run(name, r+1, func() (timed, error) {
				os.RemoveAll(pkg)
				t, _, err := timeV(acgen, append([]string{"-q"}, args...)...)
				return t, err
			})
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			m.runs = append(m.runs, t)
			m.redone += t.redone
		}
		if stages {
			t, err := q.run(name+" (profiled)", 1, func() (timed, error) {
				os.RemoveAll(pkg)
				t, stdout, err := timeV(self, append([]string{"-profile", name}, args...)...)
				m.profile = stdout
				return t, err
			})
			if err != nil {
				return fmt.Errorf("%s, profiled: %w", name, err)
			}
			m.profRSS = t.maxRSS
		}
		all = append(all, m)
	}
	table(all)
	if stages {
		fmt.Println()
		fmt.Println("Where the memory goes (one more run per network, in a process that runs driver.Run under a heap profiler;")
		fmt.Println("CPU s is the process's user+system time during the stage, GCs the profiler forced included (the wall time")
		fmt.Println("depends on what else the machine runs, the CPU time much less);")
		fmt.Println("\"heap peak\" and \"RSS peak\" are the largest values sampled every 5 ms while the stage ran, \"live after\" the heap")
		fmt.Println("after the stage and a GC; RSS anon/file at the stage's end, file being the memory-mapped checkpoint):")
		for _, m := range all {
			fmt.Println()
			fmt.Print(m.profile)
			fmt.Printf("  (that process's peak RSS under /usr/bin/time: %.0f MB)\n", m.profRSS/1e6)
		}
	}
	return nil
}

func table(all []*measured) {
	fmt.Println()
	fmt.Println("acgen -q -spec net.yaml -weights model.pth -out DIR (an emptied DIR each run), under /usr/bin/time -v;")
	fmt.Println("median of the runs [range]; MB = 10^6 bytes; target RSS = 2 x float32 weights + 500 MB (issue 22);")
	fmt.Println("others = CPUs other processes used during the run (/proc/stat minus acgen's user+sys), the largest of the")
	fmt.Println("runs kept; redone = runs set aside because others used more than -max-other CPUs")
	fmt.Println()
	fmt.Printf("| network | parameters | float32 weights | peak RSS | RSS / weights | target RSS | wall | target wall | user+sys | others | redone |\n")
	fmt.Printf("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	for _, m := range all {
		var rss, wall, cpu, others []float64
		for _, t := range m.runs {
			rss = append(rss, t.maxRSS/1e6)
			wall = append(wall, t.wall)
			cpu = append(cpu, t.user+t.sys)
			others = append(others, t.others)
		}
		w := float64(m.info.Float32Bytes) / 1e6
		target := 2*w + 500
		wt := "-"
		if s, ok := wallTarget[m.name]; ok {
			wt = fmt.Sprintf("%.0f s", s)
		}
		fmt.Printf("| %s | %.1fM | %.0f MB | %.0f MB [%.0f-%.0f] | %.1fx | %.0f MB | %.1f s [%.1f-%.1f] | %s | %.1f s | %.2f | %d |\n",
			m.name, float64(m.info.Params)/1e6, w, median(rss), minOf(rss), maxOf(rss), median(rss)/w, target,
			median(wall), minOf(wall), maxOf(wall), wt, median(cpu), maxOf(others), m.redone)
	}
}

// header names the machine and the acgen built.
func header() string {
	var b strings.Builder
	fmt.Fprintf(&b, "genmem %s\n", time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(&b, "cpu: %s (%d CPUs), memory %s\n", cpuModel(), runtime.NumCPU(), memTotal())
	fmt.Fprintf(&b, "acgen: %s, %s\n", gitRev(), runtime.Version())
	if ag, err := os.ReadFile("/proc/self/autogroup"); err == nil {
		if f := strings.Fields(string(ag)); len(f) == 3 && f[2] != "0" {
			fmt.Fprintf(&b, "autogroup nice %s: this run had priority over other sessions (run.sh's BOOST)\n", f[2])
		}
	}
	if la, err := os.ReadFile("/proc/loadavg"); err == nil {
		fmt.Fprintf(&b, "load average at the start: %s", strings.Join(strings.Fields(string(la))[:3], " "))
	}
	return b.String()
}

func cpuModel() string {
	out, err := exec.Command("lscpu").Output()
	if err != nil {
		return "?"
	}
	for _, l := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(l, "Model name:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "?"
}

func memTotal() string {
	data, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return "?"
	}
	for _, l := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(l, "MemTotal:"); ok {
			var kb float64
			fmt.Sscanf(strings.TrimSpace(v), "%f", &kb)
			return fmt.Sprintf("%.1f GB", kb*1024/1e9)
		}
	}
	return "?"
}

func gitRev() string {
	cmd := exec.Command("git", "describe", "--always", "--dirty")
	cmd.Dir = repoRoot()
	out, err := cmd.Output()
	if err != nil {
		return "?"
	}
	return "commit " + string(bytes.TrimSpace(out))
}

func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func minOf(xs []float64) float64 {
	m := xs[0]
	for _, x := range xs {
		m = min(m, x)
	}
	return m
}

func maxOf(xs []float64) float64 {
	m := xs[0]
	for _, x := range xs {
		m = max(m, x)
	}
	return m
}
