// Command scaling estimates, on paper, how one Infer call's latency
// scales with SetThreads on a machine with more cores than this one:
//
//	go run ./bench/scaling                 # the networks bench/peers exported
//	go run ./bench/scaling -nets resnet18 -isa avx2
//	go run ./bench/scaling -nets resnet20 -phases 2   # and what a call over 2 runs
//
// For each phase of the assembly level that a call over p goroutines
// runs (plan.Program.Phases: a step, a range of a Winograd step's grid
// of (tile row, channel tile) units, or, where those are too few, one of
// Winograd's three phases of one block) it takes the planner's cycle estimate, shares it out as the
// generated package does (up to MaxParts parts of its units, each a whole
// number of units), and charges one barrier (the target's SyncCycles)
// per phase that has one: time(p) = sum over phases of
// ceil(units/parts)/units * cycles (+ SyncCycles). The speedup it prints
// is time(1)/time(p), an upper bound: the cores slowing each other, the
// work splitting adds (input transformed twice, weights read by both) and
// data moving between their caches make the real one lower (see
// bench/README.md).
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
	show := fs.Int("phases", 0, "also list the phases of a call over this many goroutines, with their parts' estimates")
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
		res, err := driver.Run(&driver.Config{Spec: filepath.Join(dir, "net.yaml"), Weights: filepath.Join(dir, "model.pth"), Targets: []*target.Target{t}, KeepWeights: true})
		if err == nil {
			var pk *plan.Package
			pk, err = plan.BuildPackage(res.Fused, []*target.Target{t}, plan.Options{})
			if err == nil {
				fmt.Printf("%-10s %-7s", name, t.Name)
				if *show > 0 {
					printPhases(pk.Programs[0], *show)
				}
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

// latency is the estimated cycles of one call over p goroutines: the
// phases of a call over p (plan.Phase.Runs), each its largest part of
// its estimate, plus the barriers the runtime keeps.
func latency(prog *plan.Program, p int) float64 {
	t := prog.Target
	var phases []plan.Phase
	for _, ph := range prog.Phases(true) {
		if ph.Runs(p) {
			phases = append(phases, ph)
		}
	}
	total, prev := 0.0, 0
	for _, ph := range phases {
		k := min(p, ph.MaxParts)
		total += ph.Cycles * float64((ph.Units+k-1)/k) / float64(ph.Units)
		if prev > 1 || prev == 1 && k > 1 {
			total += t.Cost.SyncCycles
		}
		prev = k
	}
	if prev > 1 {
		total += t.Cost.SyncCycles
	}
	return total
}

// printPhases lists the phases of a call over p goroutines: what each is
// a range of, how many parts it takes, and the cycles of the largest.
func printPhases(prog *plan.Program, p int) {
	fmt.Println()
	for _, ph := range prog.Phases(true) {
		if !ph.Runs(p) {
			continue
		}
		k := min(p, ph.MaxParts)
		fmt.Printf("  step %2d %-28.28s kind %d  units %3d  parts %2d  cycles %9.0f  largest part %9.0f\n", ph.Step, prog.Steps[ph.Step].Name, ph.Kind, ph.Units, k, ph.Cycles, ph.Cycles*float64((ph.Units+k-1)/k)/float64(ph.Units))
	}
	fmt.Printf("%-18s", "")
}

func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}
