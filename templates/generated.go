package templates

// Names that the generated part of every package defines, declared here
// so that this package compiles on its own. This file is not copied.

import acttable "github.com/acgen/acgen/act"

// weightsRaw is the packed weight blob, embedded from weights.bin.
var weightsRaw string

// weightsHeader is the length of the generated-code header that starts
// weights.bin, skipped when decoding.
const weightsHeader = 64

// act applies activation a.k of acgen's act table; the generator writes
// it from the table (act.go).
func act(v float32, a actKind) float32 {
	return float32(acttable.Table[a.k].Ref(float64(v), float64(a.p)))
}

// harnessBuffers and refNonFinite are what acgen's kernel tests write
// beside harness.go: each level's buffer layouts, and which outputs the
// reference runtime gives as NaN or Inf for the harness's non-finite
// sample.
var (
	harnessBuffers map[string][]layout
	refNonFinite   []bool
)

// asmLevelFlags are the package's assembly levels, best first, with the
// /proc/cpuinfo flags each needs; package gen writes them beside
// requireasm.go.
var asmLevelFlags []struct{ name, flags string }

// asmLevels are the levels of the assembly kernels this build holds.
func asmLevels() []*level { return nil }

// portableLevel runs the portable Go kernels.
var portableLevel = &level{
	name: "go", prog: &program{workspaceLen: 1024},
	run:       func(ws, w, u, dst, src []float32) {},
	part:      func(ws, w, u, dst, src []float32, ph *phase, lo, hi, scratch int) {},
	supported: true,
}

// The shapes of one sample, and the package's name for messages.
const (
	InputChannels, InputHeight, InputWidth = 1, 1, 3

	InputLen    = 3
	OutputLen   = 1
	packageName = "templates"
	FLOPs       = 1
)

// Input and Output are one sample's arrays.
type (
	Input  [InputLen]float32
	Output [OutputLen]float32
)
