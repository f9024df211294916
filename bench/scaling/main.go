// Command scaling estimates, on paper, how one Infer call's latency
// scales with SetThreads on a machine with more cores than this one:
//
//	go run ./bench/scaling                 # the networks bench/peers exported
//	go run ./bench/scaling -nets resnet18 -isa avx2
//
// For each phase of the assembly level (plan.Program.Phases: a step, or
// one of Winograd's three phases of one block) it takes the planner's
// cycle estimate, shares it out as the generated package does (up to
// MaxParts parts of its units, each a whole number of units), and
// charges one barrier (the target's SyncCycles) per phase that has one:
// time(p) = sum over phases of ceil(units/parts)/units * cycles (+
// SyncCycles). The speedup it prints is time(1)/time(p), an upper bound:
// memory bandwidth shared by the cores, and data moving between their
// caches, make the real one lower (see bench/README.md).
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
	phases := prog.Phases(true)
	// A step's cycles are shared among its phases by their units' weight
	// in the split (Winograd's three phases of every block).
	perStep := map[int]int{}
	for _, ph := range phases {
		perStep[ph.Step]++
	}
	parts := func(i int) int {
		if i >= len(phases) {
			return 1
		}
		return min(p, phases[i].MaxParts)
	}
	total := 0.0
	for i, ph := range phases {
		s := prog.Steps[ph.Step]
		cycles := s.Cycles(t) / float64(perStep[ph.Step])
		k := parts(i)
		total += cycles * float64((ph.Units+k-1)/k) / float64(ph.Units)
		if k > 1 || parts(i+1) > 1 { // the barriers the runtime keeps
			total += t.Cost.SyncCycles
		}
	}
	return total
}

func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}
