// Command scaling estimates, on paper, how one Infer call's latency
// scales with SetThreads on a machine with more cores than this one:
//
//	go run ./bench/scaling                 # the networks bench/peers exported
//	go run ./bench/scaling -nets resnet18 -isa avx2
//
// For each step it takes the planner's cycle estimate and the split the
// generated package uses (up to Step.MaxParts parts of its units, each
// part a whole number of units), and charges one barrier (the target's
// SyncCycles) per step: time(p) = sum over steps of
// ceil(units/parts)/units * cycles + SyncCycles. The speedup it prints is
// time(1)/time(p), an upper bound: memory bandwidth shared by the cores
// and the cheap steps that run whole (counted here by FLOPs) make the
// real one lower.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/acgen/acgen/driver"
	"github.com/acgen/acgen/plan"
	"github.com/acgen/acgen/target"
)

func main() {
	fs := flag.NewFlagSet("scaling", flag.ExitOnError)
	nets := fs.String("nets", "resnet20,resnet56,resnet18", "networks, comma-separated")
	isa := fs.String("isa", "avx512", "the target whose plan to estimate")
	fs.Parse(os.Args[1:])
	t := target.Lookup(*isa)
	if t == nil {
		fmt.Fprintln(os.Stderr, "scaling: unknown -isa", *isa)
		os.Exit(2)
	}
	threads := []int{1, 2, 4, 8, 16}
	fmt.Printf("%-10s %-7s", "network", "isa")
	for _, p := range threads {
		fmt.Printf(" %7s", fmt.Sprintf("p=%d", p))
	}
	fmt.Println()
	for _, name := range strings.Split(*nets, ",") {
		dir := filepath.Join(repoRoot(), "bench", "peers", "out", name)
		res, err := driver.Run(&driver.Config{Spec: filepath.Join(dir, "net.yaml"), Weights: filepath.Join(dir, "model.pth"), Targets: []*target.Target{t}})
		if err == nil {
			var pk *plan.Package
			pk, err = plan.BuildPackage(res.Fused, []*target.Target{t}, plan.Options{})
			if err == nil {
				fmt.Printf("%-10s %-7s", name, t.Name)
				one := latency(pk.Programs[0], 1)
				for _, p := range threads {
					fmt.Printf(" %6.2fx", one/latency(pk.Programs[0], p))
				}
				fmt.Println()
			}
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "scaling:", name+":", err)
			os.Exit(1)
		}
	}
}

// latency is the estimated cycles of one call over p goroutines.
func latency(prog *plan.Program, p int) float64 {
	t := prog.Target
	total := 0.0
	for _, s := range prog.Steps {
		cycles := float64(s.FLOPs) / (2 * float64(t.Lanes) * t.Cost.FMAsPerCycle * t.Cost.Efficiency)
		if s.Kind == plan.Conv && s.Conv.Cycles > 0 {
			cycles = s.Conv.Cycles
		}
		parts := min(p, s.MaxParts(t))
		units := s.Units()
		share := float64((units+parts-1)/parts) / float64(units)
		total += cycles * share
		if p > 1 {
			total += t.Cost.SyncCycles
		}
	}
	return total
}

func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}
