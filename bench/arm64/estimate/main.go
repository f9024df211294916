// Command estimate puts a network's NEON kernels on paper: it generates
// the network's package (random weights of the spec's shapes), builds it
// for arm64, disassembles every kernel from the binary, runs llvm-mca on
// each kernel's innermost loops for each CPU model, and multiplies each
// loop's cycles by the iterations the plan gives it, layer by layer. It
// does the same for the portable Go kernels the package runs where it has
// no assembly (their multiply-add loops only: a lower bound). It prints
// the tables of bench/arm64/README.md:
//
//	go run ./bench/arm64/estimate -spec bench/nets/resnet18.yaml
//
// These are estimates from LLVM's scheduling models, with every load
// hitting L1 and no memory traffic: not measurements.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/acgen/acgen/driver"
	"github.com/acgen/acgen/gen"
	"github.com/acgen/acgen/internal/emitters"
	"github.com/acgen/acgen/internal/synth"
	"github.com/acgen/acgen/plan"
	"github.com/acgen/acgen/spec"
	"github.com/acgen/acgen/target"
)

// cpu is a model to estimate with and the clock of a chip built on it.
type cpu struct {
	name string  // llvm-mca's -mcpu
	ghz  float64 // clock, for milliseconds
	chip string
}

var cpus = []cpu{
	{"neoverse-n1", 2.5, "AWS Graviton2"},
	{"neoverse-n2", 3.4, "Azure Cobalt 100"},
	{"neoverse-v1", 2.6, "AWS Graviton3"},
}

func main() {
	specPath := flag.String("spec", "bench/nets/resnet18.yaml", "the network")
	mca := flag.String("mca", "llvm-mca-19", "llvm-mca with Neoverse models (LLVM 17 or newer)")
	objdump := flag.String("objdump", "llvm-objdump-19", "llvm-objdump")
	keep := flag.String("keep", "", "build in this directory and keep it (default: a temporary one)")
	m := flag.Int("winograd", 0, "force Winograd F(m x m), m 2 or 4, wherever it applies (to measure its kernels)")
	flag.Parse()
	opt := plan.Options{}
	if *m != 0 {
		opt = plan.Options{ForceWinograd: true, WinogradM: *m}
	}
	if err := run(*specPath, *mca, *objdump, *keep, opt); err != nil {
		fmt.Fprintln(os.Stderr, "estimate:", err)
		os.Exit(1)
	}
}

func run(specPath, mca, objdump, keep string, opt plan.Options) error {
	dir := keep
	if err := os.MkdirAll(dir, 0o755); dir != "" && err != nil {
		return err
	}
	if dir == "" {
		d, err := os.MkdirTemp("", "estimate")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	res, bin, err := build(specPath, dir, opt)
	if err != nil {
		return err
	}
	var neon, portable *plan.Program
	for _, p := range res.Plan.Programs {
		if p.Target == target.NEON {
			neon = p
		}
	}
	portable = res.Plan.Portable()
	if neon == nil {
		return fmt.Errorf("no NEON program")
	}
	pkgPath := "estimate/" + res.Net.Name
	e := &estimator{mca: mca, peak: map[string]float64{}}
	for _, c := range cpus {
		if e.peak[c.name], err = peakFMA(mca, c.name); err != nil {
			return err
		}
	}
	rows, err := e.neonRows(neon, pkgPath, bin, objdump)
	if err != nil {
		return err
	}
	goRows, err := e.goRows(portable, pkgPath, bin, objdump)
	if err != nil {
		return err
	}
	report(os.Stdout, res.Net.Name, neon, rows, portable, goRows, e, mca)
	return nil
}

// build generates the package of specPath in module dir and builds a
// binary that runs it, for linux/arm64.
func build(specPath, dir string, opt plan.Options) (*driver.Result, string, error) {
	net, err := spec.Load(specPath)
	if err != nil {
		return nil, "", err
	}
	tensors, err := synth.Checkpoint(net, 1)
	if err != nil {
		return nil, "", err
	}
	weights := filepath.Join(dir, "weights.safetensors")
	if err := synth.WriteFile(weights, tensors); err != nil {
		return nil, "", err
	}
	name := gen.PackageName(net.Name)
	res, err := driver.Run(&driver.Config{Spec: specPath, Weights: weights, Out: filepath.Join(dir, name), Package: name, Asm: emitters.All(), GoldenSamples: 1, Plan: opt})
	if err != nil {
		return nil, "", err
	}
	main := fmt.Sprintf("package main\n\nimport %q\n\nfunc main() {\n\tsrc := make([]float32, %s.InputLen)\n\tdst := make([]float32, %s.OutputLen)\n\t_ = %s.Infer(dst, src)\n}\n", "estimate/"+name, name, name, name)
	for f, data := range map[string]string{"go.mod": "module estimate\n\ngo " + gen.GoVersion + "\n", "main.go": main} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte(data), 0o644); err != nil {
			return nil, "", err
		}
	}
	bin := filepath.Join(dir, "net.arm64")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0", "GOWORK=off", "GOFLAGS=-mod=mod")
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, "", fmt.Errorf("go build: %w\n%s", err, out)
	}
	res.Net.Name = name
	return res, bin, nil
}

// row is one step's estimate: its cycles on each CPU, and its main
// loop's share of the model's FMA peak.
type row struct {
	step   *plan.Step
	what   string
	cycles map[string]float64
	main   *loop // the loop that runs most of its FMAs, if any
	note   string
}

type estimator struct {
	mca  string
	peak map[string]float64 // vector FMAs a cycle, by CPU
	// transforms holds the largest cycles a tile and channel block of a
	// Winograd transform kernel's loop took, by "In4", "Out2"... and CPU:
	// what the NEON row's WinogradIn4 etc. stand for.
	transforms map[string]map[string]float64
}

// transform records a Winograd transform kernel's tile loop.
func (e *estimator) transform(m int, in bool, loops []*loop) {
	var longest *loop
	for _, l := range loops {
		if longest == nil || len(l.insts) > len(longest.insts) {
			longest = l
		}
	}
	if longest == nil {
		return
	}
	key := fmt.Sprintf("Out%d", m)
	if in {
		key = fmt.Sprintf("In%d", m)
	}
	if e.transforms == nil {
		e.transforms = map[string]map[string]float64{}
	}
	if e.transforms[key] == nil {
		e.transforms[key] = map[string]float64{}
	}
	for c, v := range longest.cycles {
		e.transforms[key][c] = max(e.transforms[key][c], v)
	}
}

// measure runs llvm-mca on every loop for every CPU.
func (e *estimator) measure(loops []*loop) error {
	for _, l := range loops {
		src := l.text()
		for _, c := range cpus {
			cyc, err := e.mcaLoop(c.name, src)
			if err != nil {
				return err
			}
			l.cycles[c.name] = cyc
		}
	}
	return nil
}

func (e *estimator) mcaLoop(cpu, src string) (float64, error) { return mcaCycles(e.mca, cpu, src) }

// cost is the cycles of w on cpu given the function's loops: each
// iteration count at its loop's cycles, straight-line FMAs at the best
// FMA loop's rate (or the model's peak if there is none), a transform
// loop's iterations at the longest loop's cycles.
func cost(w *work, loops []*loop, cpu string, peak float64) (float64, string) {
	best := 0.0
	for _, l := range loops {
		if l.vecFMA > 0 {
			best = max(best, float64(l.vecFMA)/l.cycles[cpu])
		}
	}
	if best == 0 {
		best = peak
	}
	total, note := 0.0, ""
	for fpi, n := range w.iters {
		var match *loop
		for _, l := range loops {
			if l.vecFMA == fpi {
				match = l
				break
			}
		}
		if match == nil {
			total += n * float64(fpi) / best
			note = "some loops at the best loop's rate"
			continue
		}
		total += n * match.cycles[cpu]
	}
	total += w.straight / best
	if w.tiles > 0 {
		var longest *loop
		for _, l := range loops {
			if longest == nil || len(l.insts) > len(longest.insts) {
				longest = l
			}
		}
		if longest != nil {
			total += w.tiles * longest.cycles[cpu]
		}
	}
	return total, note
}

// mainLoop is the loop of loops that runs the most FMAs by w.
func mainLoop(w *work, loops []*loop) *loop {
	var best *loop
	most := 0.0
	for _, l := range loops {
		if n := w.iters[l.vecFMA] * float64(l.vecFMA); l.vecFMA > 0 && n > most {
			best, most = l, n
		}
	}
	return best
}

func describe(s *plan.Step) string {
	if s.Conv == nil {
		return s.Kind.String()
	}
	d := fmt.Sprintf("%dx%d %s", s.Conv.KH, s.Conv.KW, s.Conv.Algo)
	if s.Conv.Algo == plan.Winograd {
		d = fmt.Sprintf("F(%dx%d)", s.Conv.WinogradM, s.Conv.WinogradM)
	} else if s.Conv.Algo == plan.Direct {
		d += fmt.Sprintf(" %dx%d", s.Conv.Tiles[0].Blocks, s.Conv.Pixels)
	}
	if s.Kind == plan.MaxPool {
		d = "maxpool"
	}
	return strings.TrimSpace(d)
}
