// Command imagenet times acgen against ONNX Runtime on ImageNet-size
// torchvision networks (ResNet-18, ResNet-50, MobileNetV2; 224x224, batch
// 1), one thread and two, in interleaved rounds:
//
//	bench/imagenet/run.sh                    # installs, exports, then runs this: ROUNDS=3
//	go run ./bench/imagenet -rounds 5 -threads 1,2
//	go run ./bench/imagenet -reuse           # summarise the last run's raw lines again
//
// It generates each network's package (from bench/imagenet/export.py's
// net.yaml and model.pth under -exported) into a module of its own under
// -work and compiles its test binary, and bench/peak's. Each round then
// runs the FMA peak (BenchmarkPeak: YMM, BenchmarkPeakZMM: ZMM) and, net
// by net, the package's BenchmarkInferThreads with GOMAXPROCS 1 and 2
// (SetThreads(0): one goroutine, then two), ONNX Runtime 1.30
// (bench/peers/ort_bench.js) with 1 and 2 intra-op threads on the eval-mode
// ONNX export of the same weights, and (-layers) the package's
// BenchmarkLayers; acgen goes first in odd rounds, ONNX Runtime in even
// ones. Each benchmark process is watched: if other processes used more
// than -max-other CPUs while it ran (from /proc/stat, minus the CPU time
// of the benchmark itself), its lines are set aside (-out's .redone file)
// and it is run again once the machine is quiet, at most -redo times.
//
// The raw lines go to -out in Go's benchmark format, named
// BenchmarkImageNet/net=NAME/impl=IMPL/threads=N (IMPL: acgen-ISA or ort),
// so that `benchstat -col /impl -row /net,/threads FILE` compares them;
// the summary (-summary) gives the medians, the acgen/ORT ratios of the
// medians and their range over the rounds, and each layer's share of the
// peak measured in the same run.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// config is the command line.
type config struct {
	nets      []string
	exported  string
	work      string
	rounds    int
	threads   []int
	isas      string
	benchtime string
	layers    bool
	layertime string
	maxOther  float64
	redo      int
	idleWait  time.Duration
	out       string
	summary   string
	reuse     bool
}

func main() {
	root := repoRoot()
	var c config
	fs := flag.NewFlagSet("imagenet", flag.ExitOnError)
	nets := fs.String("nets", "tv_resnet18,tv_resnet50,tv_mobilenet_v2", "networks, comma-separated (directories under -exported)")
	threads := fs.String("threads", "1,2", "thread counts, comma-separated: GOMAXPROCS and SetThreads(0) for acgen, intraOpNumThreads for ONNX Runtime")
	fs.StringVar(&c.exported, "exported", filepath.Join(root, "bench", "peers", "out"), "where bench/imagenet/export.py wrote the networks")
	fs.StringVar(&c.work, "work", filepath.Join(root, "bench", "work", "imagenet"), "scratch directory: generated modules, test binaries")
	fs.IntVar(&c.rounds, "rounds", 3, "rounds")
	fs.StringVar(&c.isas, "isa", "best", "acgen's instruction sets: \"best\" (the best this CPU runs), \"host\" (every one it runs), or a list such as avx512,avx2")
	fs.StringVar(&c.benchtime, "benchtime", "1s", "time of each benchmark, each thread count (go test -benchtime; ort_bench.js -benchtime)")
	fs.BoolVar(&c.layers, "layers", true, "time every layer too (the package's BenchmarkLayers, one goroutine, the first -isa)")
	fs.StringVar(&c.layertime, "layertime", "200ms", "-benchtime of each layer")
	fs.Float64Var(&c.maxOther, "max-other", 0.2, "redo a benchmark during which other processes used more CPUs than this (0: never)")
	fs.IntVar(&c.redo, "redo", 3, "redo a benchmark at most this many times")
	fs.DurationVar(&c.idleWait, "idle-wait", 5*time.Minute, "before a benchmark, wait at most this long for a quiet machine")
	fs.StringVar(&c.out, "out", "", "raw benchmark lines (default WORK/results.raw.txt)")
	fs.StringVar(&c.summary, "summary", "", "summary (default WORK/summary.txt)")
	fs.BoolVar(&c.reuse, "reuse", false, "run nothing: summarise the lines already in -out")
	fs.Parse(os.Args[1:])
	c.nets = strings.Split(*nets, ",")
	for _, t := range strings.Split(*threads, ",") {
		n, err := strconv.Atoi(t)
		if err != nil || n < 1 {
			fmt.Fprintf(os.Stderr, "imagenet: -threads %s: want positive counts such as 1,2\n", *threads)
			os.Exit(2)
		}
		c.threads = append(c.threads, n)
	}
	for _, d := range []*string{&c.work, &c.exported} {
		abs, err := filepath.Abs(*d) // the test binaries are built from other directories
		if err != nil {
			fmt.Fprintln(os.Stderr, "imagenet:", err)
			os.Exit(1)
		}
		*d = abs
	}
	if c.out == "" {
		c.out = filepath.Join(c.work, "results.raw.txt")
	}
	if c.summary == "" {
		c.summary = filepath.Join(c.work, "summary.txt")
	}
	if err := run(&c); err != nil {
		fmt.Fprintln(os.Stderr, "imagenet:", err)
		os.Exit(1)
	}
}

func run(c *config) error {
	isas, err := chooseISAs(c.isas)
	if err != nil {
		return err
	}
	nets := make([]*network, len(c.nets))
	for i, name := range c.nets {
		nets[i] = &network{name: name, dir: filepath.Join(c.exported, name)}
	}
	if !c.reuse {
		if err := os.MkdirAll(c.work, 0o755); err != nil {
			return err
		}
		b := &bench{cfg: c, isas: isas, nets: nets}
		if err := b.prepare(); err != nil {
			return err
		}
		if err := b.rounds(); err != nil {
			return err
		}
	} else {
		for _, n := range nets {
			if err := n.plan(); err != nil {
				return err
			}
		}
	}
	raw, err := os.ReadFile(c.out)
	if err != nil {
		return err
	}
	var sum strings.Builder
	summarise(&sum, c, nets, isas, string(raw))
	fmt.Print(sum.String())
	return os.WriteFile(c.summary, []byte(sum.String()), 0o644)
}

func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}
