package target

import (
	"fmt"
	"strings"
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
	// GOARCH is the architecture the target's assembly kernels are
	// written for, and BuildTag() the constraint of their files; "" for
	// the portable Go kernels, which build everywhere.
	GOARCH string
	// Emitter names the generator of the target's kernels (gen.Emitter's
	// Name): "avo" for package asm's amd64 kernels, "neon" for package
	// neon's arm64 ones; "" for the portable Go kernels, which package gen
	// writes itself.
	Emitter string
	// Unfused are the activations (act table op names) the target's
	// kernels cannot apply in their epilogues: the planner leaves them to
	// an activation step of their own (its Go helper), slower but right.
	Unfused []string
	// Algos are the convolution algorithms the target's kernels
	// implement: the planner gives the target no other.
	Algos []Algo
	// Lanes is the floats per vector register the kernels compute with,
	// and the channel block of the program's activation layout: one
	// register holds one block of one pixel.
	Lanes int
	// Regs is the number of vector registers the direct and Winograd
	// product kernels may use.
	Regs int
	// DirectShapes are the register tiles the direct convolution may
	// use: Vectors weight vectors (Vectors channel blocks) by Pixels
	// adjacent output pixels, with Vectors*Pixels accumulators; TileRegs
	// counts the registers one takes.
	DirectShapes []Shape
	// RowShapes are register tiles the direct convolution takes only
	// for tiles of whole output rows, one or several
	// (plan.DirectSchedule.Rows), and Winograd's products never: on
	// wider maps a tile of fewer vectors reads the input once per fewer
	// output channels, which the cost model does not count (2x14 ran a
	// 1x1 layer of 16 channels at 112x112 1.22x slower than 3x8 on an
	// Ice Lake Xeon, where it ran 7x7 and 14x14 layers 1.1-1.5x faster
	// than tiles of part of a row).
	RowShapes []Shape
	// PixelRegs is the registers a direct tile keeps per pixel besides
	// its accumulators: 0 where each input value is broadcast into one
	// register that every pixel's FMAs take in turn (x86), 1 where each
	// pixel's input vector of Lanes channels stays loaded while the FMAs
	// take its lanes one by one (NEON's FMLA by element).
	PixelRegs int
	// Cost is the cost model's view of one core.
	Cost Cost
	// Features are the /proc/cpuinfo flags a CPU must show to run the
	// target (the generated TestRequireAssembly checks that a package
	// runs its best target on such a CPU). The run-time check itself is
	// derived from the instructions the kernels use.
	Features []string
	// Baseline says every CPU of GOARCH runs the kernels (ASIMD on
	// arm64): the generated package checks nothing at run time, and
	// TestRequireAssembly requires the level wherever GOARCH is.
	Baseline bool
	// Host reports whether the machine running acgen can run the
	// kernels (for timing a package here; the generated code does its
	// own check). Nil: the portable kernels, which run everywhere.
	Host func() bool
	// Shares, for the portable target, is the assembly target whose
	// program the Go kernels run when the package holds it (the same
	// lanes, tiles and costs): one program less to carry, and the Go
	// kernels become the reference that target's assembly is tested
	// against buffer by buffer.
	Shares *Target
}

// Shape is a register tile of the direct convolution.
type Shape struct{ Vectors, Pixels int }

// TileRegs is the vector registers tile sh takes: its accumulators, its
// weight vectors, and its inputs (one broadcast, or one vector a pixel;
// see PixelRegs).
func (t *Target) TileRegs(sh Shape) int {
	return sh.Vectors*sh.Pixels + sh.Vectors + max(1, sh.Pixels*t.PixelRegs)
}

// InputLoads is the loads of input a direct tile makes per pixel and
// input channel: one broadcast each (PixelRegs 0), or one vector load
// for every Lanes channels.
func (t *Target) InputLoads() float64 {
	if t.PixelRegs > 0 {
		return 1 / float64(t.Lanes)
	}
	return 1
}

// Asm reports whether the target's kernels are assembly (else portable
// Go).
func (t *Target) Asm() bool { return t.GOARCH != "" }

// BuildTag is the build constraint of the target's assembly: its GOARCH,
// unless the portable kernels are asked for with -tags purego (as Go's
// own crypto packages do).
func (t *Target) BuildTag() string { return t.GOARCH + " && !purego" }

// Runs reports whether the target's kernels implement algorithm a.
func (t *Target) Runs(a Algo) bool {
	for _, b := range t.Algos {
		if a == b {
			return true
		}
	}
	return false
}

// Algo is a convolution algorithm (package plan chooses among them and
// describes each).
type Algo int

const (
	// Direct broadcasts input values against vectors of output
	// channels' weights; it serves every dense or grouped convolution.
	Direct Algo = iota
	// Depthwise multiplies input and weight vectors lane by lane.
	Depthwise
	// Winograd computes 3x3 stride-1 convolutions as F(m x m, 3 x 3).
	Winograd
)

// AllAlgos is every algorithm.
var AllAlgos = []Algo{Direct, Depthwise, Winograd}

func (a Algo) String() string { return [...]string{"direct", "depthwise", "winograd"}[a] }

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
func (t *Target) OnHost() bool { return t.Host == nil || t.Host() }

// Fuses reports whether t's kernels apply activation op in their
// epilogues (see Unfused).
func (t *Target) Fuses(op string) bool {
	for _, u := range t.Unfused {
		if u == op {
			return false
		}
	}
	return true
}
