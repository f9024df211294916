package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/cpu"

	"github.com/acgen/acgen/driver"
	"github.com/acgen/acgen/internal/emitters"
	"github.com/acgen/acgen/plan"
)

// network is one benchmarked network and where its files are.
type network struct {
	name string
	dir  string        // exported: net.yaml, model.pth, model.onnx, ...
	test string        // the generated package's test binary
	pkg  *plan.Package // its plan, for the layer table and the FLOPs
}

func (n *network) config(out string) *driver.Config {
	return &driver.Config{
		Spec: filepath.Join(n.dir, "net.yaml"), Weights: filepath.Join(n.dir, "model.pth"),
		Out: out, Asm: emitters.All(), GoldenSamples: 1,
	}
}

// plan plans the network without writing it (for -reuse).
func (n *network) plan() error {
	res, err := driver.Run(n.config(""))
	if err != nil {
		return fmt.Errorf("%s: %w", n.name, err)
	}
	n.pkg = res.Plan
	return nil
}

// program is the program the package runs for isa.
func (n *network) program(isa string) *plan.Program {
	for _, p := range n.pkg.Programs {
		if p.Target.Name == isa {
			return p
		}
	}
	return n.pkg.Portable()
}

// chooseISAs resolves -isa against what this CPU runs, best first.
func chooseISAs(spec string) ([]string, error) {
	var host []string
	if cpu.X86.HasAVX512F {
		host = append(host, "avx512")
	}
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		host = append(host, "avx2")
	}
	host = append(host, "go")
	switch spec {
	case "best":
		return host[:1], nil
	case "host":
		return host, nil
	}
	var isas []string
	for _, s := range strings.Split(spec, ",") {
		ok := false
		for _, h := range host {
			ok = ok || h == s
		}
		if !ok {
			return nil, fmt.Errorf("-isa %s: this CPU runs %s", s, strings.Join(host, ", "))
		}
		isas = append(isas, s)
	}
	return isas, nil
}

// bench is one run of the rounds.
type bench struct {
	cfg  *config
	isas []string
	nets []*network
	peak string // bench/peak's test binary
	ort  string // bench/peers/ort_bench.js

	root        string // the repository, absolute
	raw, redone *os.File
	redos       int
}

// prepare generates every package and builds the test binaries.
func (b *bench) prepare() error {
	root, err := filepath.Abs(repoRoot())
	if err != nil {
		return err
	}
	b.root = root
	b.ort = filepath.Join(root, "bench", "peers", "ort_bench.js")
	if _, err := os.Stat(filepath.Join(root, "bench", "peers", "node_modules", "onnxruntime-node")); err != nil {
		return fmt.Errorf("no onnxruntime-node in bench/peers/node_modules: run bench/imagenet/run.sh (or npm install --ignore-scripts in bench/peers)")
	}
	b.peak = filepath.Join(b.cfg.work, "peak.test")
	if err := goCmd(root, "test", "-c", "-o", b.peak, "./bench/peak"); err != nil {
		return err
	}
	for _, n := range b.nets {
		for _, f := range []string{"net.yaml", "model.pth", "model.onnx"} {
			if _, err := os.Stat(filepath.Join(n.dir, f)); err != nil {
				return fmt.Errorf("%s: %w (run bench/imagenet/export.py)", n.name, err)
			}
		}
		fmt.Fprintf(os.Stderr, "generating %s\n", n.name)
		out := filepath.Join(b.cfg.work, n.name)
		cfg := n.config(out)
		cfg.GoMod = "benchwork/" + n.name
		res, err := driver.Run(cfg)
		if err != nil {
			return fmt.Errorf("%s: %w", n.name, err)
		}
		n.pkg = res.Plan
		n.test = filepath.Join(b.cfg.work, n.name+".test")
		if err := goCmd(out, "test", "-c", "-o", n.test, "."); err != nil {
			return err
		}
	}
	return nil
}

func goCmd(dir string, args ...string) error {
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go %s in %s: %v\n%s", strings.Join(args, " "), dir, err, out)
	}
	return nil
}

// rounds runs the rounds, writing the raw lines as they come.
func (b *bench) rounds() error {
	var err error
	if b.raw, err = os.Create(b.cfg.out); err != nil {
		return err
	}
	defer b.raw.Close()
	if b.redone, err = os.Create(strings.TrimSuffix(b.cfg.out, ".txt") + ".redone.txt"); err != nil {
		return err
	}
	defer b.redone.Close()
	fmt.Fprintf(b.raw, "goos: linux\ngoarch: amd64\npkg: github.com/acgen/acgen/bench/imagenet\ncpu: %s\n", cpuModel())
	fmt.Fprintf(b.raw, "# %s, %d CPUs; %s; acgen %s; %s\n", time.Now().UTC().Format("2006-01-02 15:04 UTC"), numCPU(), cpuFlags(), gitRev(), goVersion())
	fmt.Fprintf(b.raw, "# rounds %d, threads %v, isa %s, benchtime %s, max-other %.2f CPUs%s\n",
		b.cfg.rounds, b.cfg.threads, strings.Join(b.isas, ","), b.cfg.benchtime, b.cfg.maxOther, schedNote())
	for r := 1; r <= b.cfg.rounds; r++ {
		fmt.Fprintf(b.raw, "# round %d, load average %s\n", r, loadAvg())
		fmt.Fprintf(os.Stderr, "round %d/%d (load average %s)\n", r, b.cfg.rounds, loadAvg())
		if err := b.measure("peak", exec.Command(b.peak, "-test.run", "^$", "-test.bench", "^BenchmarkPeak", "-test.benchtime", "1s", "-test.cpu", "1"), nil); err != nil {
			return err
		}
		for _, n := range b.nets {
			steps := []func() error{func() error { return b.acgen(n) }, func() error { return b.onnxRuntime(n) }}
			if r%2 == 0 {
				steps[0], steps[1] = steps[1], steps[0]
			}
			if b.cfg.layers {
				steps = append(steps, func() error { return b.layerTimes(n) })
			}
			for _, step := range steps {
				if err := step(); err != nil {
					return err
				}
			}
		}
	}
	fmt.Fprintf(b.raw, "# done %s; %d benchmark runs redone for others' load\n", time.Now().UTC().Format("2006-01-02 15:04 UTC"), b.redos)
	return nil
}

var procsSuffix = regexp.MustCompile(`^(\S+?)(-(\d+))?(\s+\d+\s+.*)$`)

// acgen runs the package's BenchmarkInferThreads once per instruction
// set, with every thread count.
func (b *bench) acgen(n *network) error {
	cpus := make([]string, len(b.cfg.threads))
	for i, t := range b.cfg.threads {
		cpus[i] = strconv.Itoa(t)
	}
	for _, isa := range b.isas {
		cmd := exec.Command(n.test, "-test.run", "^$", "-test.bench", "^BenchmarkInferThreads$",
			"-test.cpu", strings.Join(cpus, ","), "-test.benchtime", b.cfg.benchtime)
		cmd.Env = append(os.Environ(), "ACGEN_ISA="+isa)
		rename := func(line string) string {
			m := procsSuffix.FindStringSubmatch(line)
			if m == nil || m[1] != "BenchmarkInferThreads" {
				return ""
			}
			t := m[3]
			if t == "" {
				t = "1"
			}
			return fmt.Sprintf("BenchmarkImageNet/net=%s/impl=acgen-%s/threads=%s%s", n.name, isa, t, m[4])
		}
		if err := b.measure(n.name+" acgen "+isa, cmd, rename); err != nil {
			return err
		}
	}
	return nil
}

// onnxRuntime runs ort_bench.js once per thread count.
func (b *bench) onnxRuntime(n *network) error {
	for _, t := range b.cfg.threads {
		name := fmt.Sprintf("net=%s/impl=ort/threads=%d", n.name, t)
		cmd := exec.Command("node", b.ort, "-prefix", "BenchmarkImageNet", "-name", name, "-threads", strconv.Itoa(t),
			"-count", "1", "-benchtime", b.cfg.benchtime, "-warmup", "1s", "-max-other", "0", filepath.Join(n.dir, "model.onnx"))
		if err := b.measure(n.name+" ort", cmd, nil); err != nil {
			return err
		}
	}
	return nil
}

// layerTimes runs the package's BenchmarkLayers, one goroutine, the
// first instruction set.
func (b *bench) layerTimes(n *network) error {
	isa := b.isas[0]
	cmd := exec.Command(n.test, "-test.run", "^$", "-test.bench", "^BenchmarkLayers$", "-test.cpu", "1", "-test.benchtime", b.cfg.layertime)
	cmd.Env = append(os.Environ(), "ACGEN_ISA="+isa)
	rename := func(line string) string {
		rest, ok := strings.CutPrefix(line, "BenchmarkLayers/")
		if !ok {
			return ""
		}
		return fmt.Sprintf("BenchmarkLayers/net=%s/isa=%s/%s", n.name, isa, rest)
	}
	return b.measure(n.name+" layers", cmd, rename)
}

// measure runs cmd, waiting first for a quiet machine, and keeps its
// benchmark lines (renamed by rename, when given; "" drops a line) unless
// other processes were busy while it ran, in which case it runs it
// again, at most cfg.redo times.
func (b *bench) measure(what string, cmd *exec.Cmd, rename func(string) string) error {
	for try := 0; ; try++ {
		if b.cfg.maxOther > 0 {
			if waited, others := waitIdle(b.cfg.maxOther, b.cfg.idleWait); others > b.cfg.maxOther {
				fmt.Fprintf(b.raw, "# %s: machine still busy (others %.2f CPUs) after %s; measuring anyway\n", what, others, waited.Round(time.Second))
			}
		}
		c := exec.Command(cmd.Path, cmd.Args[1:]...)
		c.Env, c.Dir = cmd.Env, cmd.Dir
		var stderr strings.Builder
		c.Stderr = &stderr
		busy0, t0 := busyCPU(), time.Now()
		out, err := c.Output()
		wall := time.Since(t0).Seconds()
		if err != nil {
			return fmt.Errorf("%s: %v\n%s%s", what, err, out, stderr.String())
		}
		own := c.ProcessState.UserTime().Seconds() + c.ProcessState.SystemTime().Seconds()
		others := max(0, (busyCPU()-busy0-own)/wall)
		var lines []string
		sc := bufio.NewScanner(strings.NewReader(string(out)))
		for sc.Scan() {
			l := strings.TrimSpace(sc.Text())
			if !strings.HasPrefix(l, "Benchmark") {
				continue
			}
			if rename != nil {
				if l = rename(l); l == "" {
					continue
				}
			}
			lines = append(lines, l)
		}
		if len(lines) == 0 {
			return fmt.Errorf("%s: no benchmark lines in its output:\n%s", what, out)
		}
		noisy := b.cfg.maxOther > 0 && others > b.cfg.maxOther
		dst := b.raw
		if noisy && try < b.cfg.redo {
			dst = b.redone
			b.redos++
		}
		kept := ""
		if noisy && dst == b.raw {
			kept = " (kept: redone often enough)"
		}
		fmt.Fprintf(dst, "# %s: %.1f s, own CPU %.1f s, others %.2f CPUs%s\n", what, wall, own, others, kept)
		for _, l := range strings.Split(stderr.String(), "\n") {
			if strings.HasPrefix(l, "# ") { // ort_bench.js's notes: versions, the check against PyTorch, statistics
				fmt.Fprintln(dst, strings.ReplaceAll(l, b.root+string(filepath.Separator), "")) // no machine paths
			}
		}
		for _, l := range lines {
			fmt.Fprintln(dst, l)
		}
		fmt.Fprintf(os.Stderr, "  %s: %.1f s, others %.2f CPUs%s\n", what, wall, others, map[bool]string{true: " (redo)", false: ""}[dst == b.redone])
		if dst == b.raw {
			return nil
		}
	}
}
