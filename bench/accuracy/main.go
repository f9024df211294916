// Command accuracy measures how far the generated packages are from the
// network computed in float64, beside how far PyTorch's own float32 is:
//
//	go run ./bench/accuracy                       # the networks bench/peers exported
//	go run ./bench/accuracy -nets resnet20 -modes planned,fast,off
//
// For each network with an io.safetensors holding PyTorch's float32 and
// float64 outputs (bench/peers/out/NAME, or fixtures/NAME; reference.py
// writes 32 samples), it generates the package once per -modes plan into
// a scratch module, runs every instruction set the CPU supports on the
// samples, and prints the largest relative error |got - want| /
// max(1, |want|) against the float64 outputs, the same for PyTorch's
// float32 outputs, their ratio beside the planner's modelled ratio
// (plan.Program.ModelledError), and the algorithms the plan chose.
package main

import (
	"encoding/binary"
	"flag"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/acgen/acgen/driver"
	"github.com/acgen/acgen/fixtures"
	"github.com/acgen/acgen/gen"
	"github.com/acgen/acgen/internal/emitters"
	"github.com/acgen/acgen/plan"
)

func main() {
	fs := flag.NewFlagSet("accuracy", flag.ExitOnError)
	nets := fs.String("nets", "resnet20,resnet56,resnet18", "networks, comma-separated")
	modes := fs.String("modes", "planned,off", "plans, comma-separated: planned (Winograd within the error budget), fast (Winograd for speed alone), f2 and f4 (Winograd of that tile size wherever the cost model takes Winograd), off (no Winograd)")
	fs.IntVar(&goldenSamples, "samples", 1, "golden samples a package gets: with -measure, the samples the emulation is measured on")
	measure := fs.Bool("measure", false, "emulate every plan but planned's (driver.Config.MeasureEmulation) and print what the emulation measured beside each measured error, one EMULATION line each: for calibrating plan.EmulatedError")
	work := fs.String("work", filepath.Join(repoRoot(), "bench", "work", "accuracy"), "scratch directory")
	fs.Parse(os.Args[1:])
	if err := run(strings.Split(*nets, ","), strings.Split(*modes, ","), *work, *measure); err != nil {
		fmt.Fprintln(os.Stderr, "accuracy:", err)
		os.Exit(1)
	}
}

// goldenSamples is -samples.
var goldenSamples int

// planModes are the plans -modes names.
var planModes = map[string]plan.Options{
	"planned": {},
	"fast":    {NoErrorBudget: true},
	"f2":      {WinogradM: 2},
	"f4":      {WinogradM: 4},
	"off":     {NoWinograd: true},
}

func run(names, modes []string, work string, measure bool) error {
	for _, m := range modes {
		if _, ok := planModes[m]; !ok {
			return fmt.Errorf("-modes: no mode %q", m)
		}
	}
	if err := os.RemoveAll(work); err != nil {
		return err
	}
	if err := os.MkdirAll(work, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(work, "go.mod"), []byte("module accuracy\n\ngo "+gen.GoVersion+"\n"), 0o644); err != nil {
		return err
	}
	fmt.Printf("%-16s %-8s %-7s %12s %14s\n", "network", "plan", "isa", "acgen vs f64", "torch f32 vs f64")
	for _, name := range names {
		dir := filepath.Join(repoRoot(), "bench", "peers", "out", name)
		if _, err := os.Stat(filepath.Join(dir, "io.safetensors")); err != nil {
			dir = fixtures.Get(name).Dir
		}
		f := fixtures.Fixture{Name: name, Dir: dir, Spec: filepath.Join(dir, "net.yaml"), Pth: filepath.Join(dir, "model.pth"), IO: filepath.Join(dir, "io.safetensors")}
		s, err := f.LoadSamples()
		if err != nil {
			return err
		}
		ioFile := filepath.Join(work, name+".io")
		if err := writeSamples(ioFile, s); err != nil {
			return err
		}
		for _, mode := range modes {
			pkg := name + "_" + mode
			res, err := driver.Run(&driver.Config{
				Spec: f.Spec, Weights: f.Pth, Package: pkg, Out: filepath.Join(work, pkg),
				Asm: emitters.All(), GoldenSamples: goldenSamples, Plan: planModes[mode],
				MeasureEmulation: measure && mode != "planned",
			})
			if err != nil {
				return err
			}
			test := strings.ReplaceAll(accuracyTest, "PKG", pkg)
			if err := os.WriteFile(filepath.Join(work, pkg, "accuracy_test.go"), []byte(test), 0o644); err != nil {
				return err
			}
			cmd := exec.Command("go", "test", "-count=1", "-run", "^TestAccuracy$", "-v", "./"+pkg)
			cmd.Dir = work
			cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod", "ACCURACY_IO="+ioFile)
			out, err := cmd.CombinedOutput()
			if err != nil {
				return fmt.Errorf("%s: %v\n%s", pkg, err, out)
			}
			for _, line := range strings.Split(string(out), "\n") {
				if i := strings.Index(line, "ACCURACY "); i >= 0 {
					var isa string
					var ours, torch float64
					fmt.Sscan(line[i+len("ACCURACY "):], &isa, &ours, &torch)
					prog := program(res.Plan, isa)
					fmt.Printf("%-16s %-8s %-7s %12.3g %14.3g  (%.2fx; modelled %.2fx, emulated %.2fx)  %s\n", name, mode, isa, ours, torch, ours/torch, prog.ModelledError, prog.EmulatedError, algorithms(prog))
					if e := prog.Emulation; measure {
						fmt.Printf("EMULATION %s %s %s measured %.4g direct %.4g %.4g winograd %.4g %.4g full %.4g %.4g\n", name, mode, isa, ours/torch,
							e.DirectRMS, e.DirectMax, e.WinogradRMS, e.WinogradMax, e.FullRMS, e.FullMax)
					}
				}
			}
		}
	}
	return nil
}

// program is the program the package runs for isa: the target's of
// that name, else (the Go kernels) the portable one.
func program(pk *plan.Package, isa string) *plan.Program {
	for _, p := range pk.Programs {
		if p.Target.Name == isa {
			return p
		}
	}
	return pk.Portable()
}

// algorithms counts a program's convolutions by algorithm.
func algorithms(p *plan.Program) string {
	n := map[string]int{}
	for _, s := range p.Steps {
		if c := s.Conv; c != nil && s.Kind == plan.Conv {
			a := c.Algo.String()
			if c.Algo == plan.Winograd {
				a = fmt.Sprintf("F(%d)", c.WinogradM)
			}
			n[a]++
		}
	}
	var parts []string
	for _, a := range []string{"F(4)", "F(2)", "direct", "depthwise"} {
		if n[a] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", a, n[a]))
		}
	}
	return strings.Join(parts, ", ")
}

// writeSamples stores each sample's input, float32 and float64 outputs
// as little-endian float64s, one sample after another.
func writeSamples(path string, s *fixtures.Samples) error {
	var b []byte
	put := func(v []float64) {
		for _, x := range v {
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(x))
		}
	}
	for i := range s.Input {
		put(s.Input[i])
		put(s.Output[i])
		put(s.Output64[i])
	}
	return os.WriteFile(path, b, 0o644)
}

// accuracyTest runs in the generated package: every instruction set on
// every sample.
const accuracyTest = `package PKG

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"testing"
)

func TestAccuracy(t *testing.T) {
	raw, err := os.ReadFile(os.Getenv("ACCURACY_IO"))
	if err != nil {
		t.Fatal(err)
	}
	var f []float64
	for i := 0; i+8 <= len(raw); i += 8 {
		f = append(f, math.Float64frombits(binary.LittleEndian.Uint64(raw[i:])))
	}
	per := InputLen + 2*OutputLen
	rel := func(a, b []float64) float64 {
		w := 0.0
		for i := range a {
			w = math.Max(w, math.Abs(a[i]-b[i])/math.Max(1, math.Abs(b[i])))
		}
		return w
	}
	for _, isa := range ISAs() {
		if err := SetISA(isa); err != nil {
			t.Fatal(err)
		}
		var ours, torch float64
		in := make([]float32, InputLen)
		out := make([]float32, OutputLen)
		got := make([]float64, OutputLen)
		for s := 0; s+per <= len(f); s += per {
			for i := range in {
				in[i] = float32(f[s+i])
			}
			if err := Infer(out, in); err != nil {
				t.Fatal(err)
			}
			for i := range out {
				got[i] = float64(out[i])
			}
			o32, o64 := f[s+InputLen:s+InputLen+OutputLen], f[s+InputLen+OutputLen:s+per]
			ours, torch = math.Max(ours, rel(got, o64)), math.Max(torch, rel(o32, o64))
		}
		fmt.Printf("ACCURACY %s %g %g\n", isa, ours, torch)
	}
}
`

func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}
