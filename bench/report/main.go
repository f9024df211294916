// Command report benchmarks generated packages against the machine's FMA
// peak and, when bench/peers is set up, against ONNX Runtime and PyTorch
// on the same fused networks, in one run:
//
//	go run ./bench/report                       # resnet20, resnet56, resnet18
//	go run ./bench/report -nets resnet20 -count 10 -peers=false
//
// It generates each network's package into a scratch module together with
// a copy of bench/peak, then runs ROUNDS rounds; each round runs the Go
// benchmarks (BenchmarkPeak and BenchmarkPeakZMM, and BenchmarkInfer and
// BenchmarkLayers once per instruction set the CPU runs, chosen with
// ACGEN_ISA) once and each peer once, so slow phases of this shared
// machine spread over all of them. It prints the per-layer report
// (layer, shape, algorithm, MFLOP, time, GFLOP/s, % of the peak of the
// instruction set that ran), the per-network comparison, and writes every
// raw benchmark line to -out for benchstat.
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"

	"golang.org/x/sys/cpu"

	"github.com/acgen/acgen/driver"
	"github.com/acgen/acgen/fixtures"
	"github.com/acgen/acgen/internal/emitters"
	"github.com/acgen/acgen/internal/synth"
	"github.com/acgen/acgen/plan"
	"github.com/acgen/acgen/spec"
)

func main() {
	// avo's build package registers -out and others on flag.CommandLine;
	// keep our own set.
	fs := flag.NewFlagSet("report", flag.ExitOnError)
	nets := fs.String("nets", "resnet20,resnet56,resnet18", "networks, comma-separated")
	rounds := fs.Int("rounds", 5, "rounds (benchmark repetitions of each program)")
	benchtime := fs.String("benchtime", "1s", "go test -benchtime for BenchmarkInfer")
	layers := fs.Bool("layers", true, "run BenchmarkLayers too")
	peers := fs.Bool("peers", true, "time ONNX Runtime and PyTorch too, where bench/peers has exported the network")
	work := fs.String("work", filepath.Join(repoRoot(), "bench", "work"), "scratch directory")
	reuse := fs.Bool("reuse", false, "skip the benchmarks: report from the lines already in -out")
	out := fs.String("out", "", "file for the raw benchmark lines (default WORK/results.txt)")
	fs.Parse(os.Args[1:])
	if *out == "" {
		*out = filepath.Join(*work, "results.txt")
	}
	if *reuse {
		*rounds = 0
	}
	if err := run(strings.Split(*nets, ","), *rounds, *benchtime, *layers, *peers, *work, *out); err != nil {
		fmt.Fprintln(os.Stderr, "report:", err)
		os.Exit(1)
	}
}

// network is one benchmarked network and where its files are.
type network struct {
	name          string
	spec, weights string
	onnx          string // fused ONNX model exported by bench/peers, if any
	plan          *plan.Package
}

// program is the program the package runs for isa.
func (n *network) program(isa string) *plan.Program {
	for _, p := range n.plan.Programs {
		if p.Target.Name == isa {
			return p
		}
	}
	return n.plan.Portable()
}

// hostISAs are the assembly instruction sets this CPU runs, best first.
func hostISAs() []string {
	var isas []string
	if cpu.X86.HasAVX512F {
		isas = append(isas, "avx512")
	}
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		isas = append(isas, "avx2")
	}
	return isas
}

func run(names []string, rounds int, benchtime string, layers, peers bool, work, outFile string) error {
	root := repoRoot()
	mod := filepath.Join(work, "mod")
	if err := os.RemoveAll(mod); err != nil {
		return err
	}
	if err := copyDir(filepath.Join(root, "bench", "peak"), filepath.Join(mod, "peak")); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(mod, "go.mod"), []byte("module benchwork\n\ngo 1.24\n"), 0o644); err != nil {
		return err
	}
	var nets []*network
	for _, name := range names {
		n, err := prepare(root, work, mod, name)
		if err != nil {
			return err
		}
		nets = append(nets, n)
	}
	var raw bytes.Buffer
	pattern := "BenchmarkPeak|BenchmarkInfer"
	if layers {
		pattern += "|BenchmarkLayers"
	}
	for r := 1; r <= rounds; r++ {
		fmt.Fprintf(os.Stderr, "round %d/%d: go benchmarks\n", r, rounds)
		for _, n := range nets {
			for _, isa := range hostISAs() {
				lines, err := goBench(mod, n.name, isa, pattern, benchtime)
				if err != nil {
					return err
				}
				raw.WriteString(lines)
			}
		}
		lines, err := goBench(mod, "peak", "", "BenchmarkPeak", "1s")
		if err != nil {
			return err
		}
		raw.WriteString(lines)
		if peers {
			for _, n := range nets {
				raw.WriteString(peerBench(root, n, r))
			}
		}
	}
	if rounds == 0 {
		old, err := os.ReadFile(outFile)
		if err != nil {
			return err
		}
		raw.Write(old)
	} else if err := os.WriteFile(outFile, raw.Bytes(), 0o644); err != nil {
		return err
	}
	report(os.Stdout, nets, raw.String())
	shown := outFile
	if wd, err := os.Getwd(); err == nil {
		if rel, err := filepath.Rel(wd, outFile); err == nil {
			shown = rel // no machine path in results that get committed
		}
	}
	fmt.Printf("\nraw benchmark lines: %s (benchstat-ready)\n", shown)
	return nil
}

// prepare finds or makes the network's weights and generates its package.
func prepare(root, work, mod, name string) (*network, error) {
	n := &network{name: name}
	exported := filepath.Join(root, "bench", "peers", "out", name)
	switch {
	case fileExists(filepath.Join(exported, "model.pth")):
		// The weights ONNX Runtime and PyTorch run.
		n.spec, n.weights = filepath.Join(exported, "net.yaml"), filepath.Join(exported, "model.pth")
	case name == "resnet20":
		f := fixtures.Get("resnet20")
		n.spec, n.weights = f.Spec, f.Pth
	default:
		n.spec = filepath.Join(root, "bench", "nets", name+".yaml")
		net, err := spec.Load(n.spec)
		if err != nil {
			return nil, err
		}
		tensors, err := synth.Checkpoint(net, 1)
		if err != nil {
			return nil, err
		}
		n.weights = filepath.Join(work, name+".safetensors")
		if err := os.MkdirAll(work, 0o755); err != nil {
			return nil, err
		}
		if err := synth.WriteFile(n.weights, tensors); err != nil {
			return nil, err
		}
	}
	if onnx := filepath.Join(exported, "model.onnx"); fileExists(onnx) {
		n.onnx = onnx
	}
	fmt.Fprintf(os.Stderr, "generating %s from %s\n", name, n.weights)
	res, err := driver.Run(&driver.Config{
		Spec: n.spec, Weights: n.weights, Package: name,
		Out: filepath.Join(mod, name), Asm: emitters.All(), GoldenSamples: 1,
	})
	if err != nil {
		return nil, err
	}
	n.plan = res.Plan
	return n, nil
}

// goBench runs one package's benchmarks once, with the instruction set
// isa (none for the peak).
func goBench(mod, pkg, isa, pattern, benchtime string) (string, error) {
	cmd := exec.Command("go", "test", "-run", "^$", "-bench", pattern, "-benchtime", benchtime, "-count", "1", "./"+pkg)
	cmd.Dir = mod
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod", "ACGEN_ISA="+isa)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go test -bench in %s: %v\n%s", pkg, err, out)
	}
	// go test names benchmarks without their package: name them after
	// the network, as the peers do (BenchmarkORT/resnet20).
	lines := benchLines(string(out))
	if pkg != "peak" {
		lines = strings.ReplaceAll(lines, "BenchmarkInfer-", "BenchmarkInfer/"+pkg+"/"+isa+"-")
		lines = strings.ReplaceAll(lines, "BenchmarkLayers/", "BenchmarkLayers/"+pkg+"/"+isa+"/")
	}
	return lines, nil
}

// peerBench times ONNX Runtime on the network's fused ONNX model once,
// and PyTorch's fused model once, if bench/peers is set up.
func peerBench(root string, n *network, round int) string {
	peers := filepath.Join(root, "bench", "peers")
	var out strings.Builder
	if n.onnx != "" && fileExists(filepath.Join(peers, "node_modules", "onnxruntime-node")) {
		cmd := exec.Command("node", filepath.Join(peers, "ort_bench.js"), "-name", n.name, "-count", "1", "-benchtime", "1s", n.onnx)
		if b, err := cmd.Output(); err == nil {
			out.WriteString(benchLines(string(b)))
		} else {
			fmt.Fprintf(os.Stderr, "onnxruntime on %s: %v\n", n.name, err)
		}
	}
	if py := "/usr/bin/python3"; n.onnx != "" && fileExists(py) {
		cmd := exec.Command(py, filepath.Join(peers, "torch_bench.py"), "--dir", filepath.Dir(filepath.Dir(n.onnx)),
			"--modes", "ofi-fused", "--count", "1", n.name)
		cmd.Env = append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1")
		if b, err := cmd.Output(); err == nil {
			out.WriteString(benchLines(string(b)))
		} else if round == 1 {
			fmt.Fprintf(os.Stderr, "pytorch on %s: %v\n", n.name, err)
		}
	}
	return out.String()
}

func benchLines(s string) string {
	var b strings.Builder
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "Benchmark") {
			b.WriteString(sc.Text())
			b.WriteByte('\n')
		}
	}
	return b.String()
}

func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func copyDir(src, dst string) error {
	entries, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	for _, e := range entries {
		if e.IsDir() || e.Name() == "gen.go" {
			continue
		}
		data, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}
