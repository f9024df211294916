package gen

import "strings"

// The signatures of the assembly kernels, which every emitter writes and
// gen's Go code calls (see forward.go's asmCall and phaseCall). ws and w
// are the workspace and the weights (the transformed ones, for a
// Winograd step); every other argument is an int counting units, rows or
// floats.

// KernelSignature is a direct, depthwise or max pooling kernel's: it
// computes output rows lo to hi-1 (or the (tile, row) pairs of a step
// split by tiles, plan.ConvStep.ByTiles), so that several goroutines can
// share a step; scratch is the float offset of the caller's own scratch
// space from the step's (Winograd only; the others ignore it).
const KernelSignature = "func(ws, w *float32, lo, hi, scratch int)"

// PhaseSignature is the Winograd input and output transform kernels':
// for tile rows r0 to r1-1 of block blk, input (or output) channel
// blocks lo to hi-1; scratch is where this goroutine's transform
// temporary is, and vm where the V and M the phase reads and writes are,
// in floats past the step's (0 when goroutines share a block's phases,
// scratch when each runs its rows or channel tiles in its own space).
const PhaseSignature = "func(ws, w *float32, blk, lo, hi, r0, r1, scratch, vm int)"

// GemmSignature is the products kernel's: transform elements lo to hi-1,
// and the range of the step's output channel tiles, t0 to t1-1, so that
// goroutines can split a step of large weights by output channels, each
// reading its tiles' weights only.
const GemmSignature = "func(ws, w *float32, blk, lo, hi, r0, r1, t0, t1, scratch, vm int)"

// WinogradPhases are the suffixes of a Winograd step's three kernels, in
// the order they run, and PhaseSignatures their signatures.
var (
	WinogradPhases  = []string{"In", "Gemm", "Out"}
	PhaseSignatures = []string{PhaseSignature, GemmSignature, PhaseSignature}
)

// intParams are the int parameters of a kernel signature,
// "func(ws, w *float32, a, b int)": the stand-ins take the same.
func intParams(sig string) []string {
	_, list, _ := strings.Cut(sig, "*float32, ")
	list, _, _ = strings.Cut(list, " int)")
	return strings.Split(list, ", ")
}
