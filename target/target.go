package target

import (
	"fmt"
	"strings"

	"golang.org/x/sys/cpu"
)

// Target is one backend.
type Target struct {
	// Name is how users pick the target: the -isa flag's words and the
	// ACGEN_ISA environment variable of a generated package.
	Name string
	// Suffix is appended to the Go identifiers of the target's program.
	Suffix string
	// Title is how documentation names it.
	Title string
	// Asm: the target's kernels are amd64 assembly (else portable Go).
	Asm bool
	// Lanes is the floats per vector register the kernels compute with,
	// and the channel block of the program's activation layout: one
	// register holds one block of one pixel.
	Lanes int
	// Regs is the number of vector registers the direct and Winograd
	// product kernels may use.
	Regs int
	// DirectShapes are the register tiles the direct convolution may
	// use: Vectors weight vectors (Vectors channel blocks) by
	// Pixels adjacent output pixels, with Vectors*Pixels accumulators,
	// Vectors weight registers and one broadcast within Regs.
	DirectShapes []Shape
	// Cost is the cost model's view of one core.
	Cost Cost
	// Features are the /proc/cpuinfo flags a CPU must show to run the
	// target (the generated TestRequireAssembly checks that a package
	// runs its best target on such a CPU). The run-time check itself is
	// derived from the instructions the kernels use.
	Features []string
}

// Shape is a register tile of the direct convolution.
type Shape struct{ Vectors, Pixels int }

// Cost holds the constants of the planner's cycle model for one core.
// They describe the instruction set's usual server core, not a
// particular chip; where chips of one ISA differ (AMD Zen 4 runs a
// 512-bit FMA as two 256-bit ones) the notes say so.
type Cost struct {
	FMAsPerCycle  float64 // vector FMAs issued per cycle
	LoadsPerCycle float64 // vector loads or broadcasts per cycle
	FMALatency    float64 // cycles before an accumulator can take the next FMA
	Efficiency    float64 // the fraction of FMA peak whole kernels reach
	// Bytes of weights read per cycle from the last-level cache, and
	// from memory when a network's weights exceed it.
	CacheBytesPerCycle, MemoryBytesPerCycle float64
	// StoresPerCycle is the vector stores a core retires per cycle.
	StoresPerCycle float64
	// The data caches a core has to itself (bytes), and the rate L2
	// streams to the FMAs: a direct convolution keeps each pass's weights
	// within half of L1 (plan.DirectSchedule).
	L1Bytes, L2Bytes int
	L2BytesPerCycle  float64
	// Cycles per tile and channel block of Winograd's input and output
	// transforms, for F(2x2) and F(4x4).
	WinogradIn2, WinogradOut2, WinogradIn4, WinogradOut4 float64
	// SyncCycles is what sharing a step between goroutines costs (a
	// spinning barrier, and the parts' imbalance): each goroutine's share
	// of a step must be worth at least this much for the step to be split.
	SyncCycles float64
}

// WeightGroup is how many output channels the packed weights keep
// together: the widest vector of any target, so that every target reads
// the same packed weights (narrower ones read part of a group) and a
// package holding several targets carries its weights once.
const WeightGroup = 16

func (t *Target) String() string { return t.Name }

// ByName returns the targets named in a comma-separated list, in the
// order of All (best first).
func ByName(list string) ([]*Target, error) {
	want := map[string]bool{}
	for _, w := range strings.Split(list, ",") {
		w = strings.ToLower(strings.TrimSpace(w))
		if w == "" {
			continue
		}
		if Lookup(w) == nil {
			return nil, fmt.Errorf("unknown ISA %q (known: %s)", w, strings.Join(Names(), ", "))
		}
		want[w] = true
	}
	if len(want) == 0 {
		return nil, fmt.Errorf("no ISA named (known: %s)", strings.Join(Names(), ", "))
	}
	var ts []*Target
	for _, t := range All {
		if want[t.Name] {
			ts = append(ts, t)
		}
	}
	return ts, nil
}

// Lookup returns the target called name, or nil.
func Lookup(name string) *Target {
	for _, t := range All {
		if t.Name == name {
			return t
		}
	}
	return nil
}

// Names lists the targets' names, best first.
func Names() []string {
	var n []string
	for _, t := range All {
		n = append(n, t.Name)
	}
	return n
}

// OnHost reports whether the machine running acgen can run t's kernels
// (for timing a package here; the generated code does its own check).
func (t *Target) OnHost() bool {
	switch t {
	case AVX512:
		return cpu.X86.HasAVX512F && cpu.X86.HasAVX2 && cpu.X86.HasFMA
	case AVX2:
		return cpu.X86.HasAVX2 && cpu.X86.HasFMA
	}
	return !t.Asm
}
