package templates

// Names that the generated part of every package defines, declared here
// so that this package compiles on its own. This file is not copied.

// weightsRaw is the packed weight blob, embedded from weights.bin.
var weightsRaw string

// weightsHeader is the length of the generated-code header that starts
// weights.bin, skipped when decoding.
const weightsHeader = 64

// workspaceLen is the number of floats one inference needs.
const workspaceLen = 1024

// winogradLen is the floats of transformed Winograd weights, computed
// when loading from the kernels of winogradSteps.
const winogradLen = 0

var winogradSteps []*winogradConv

// The shapes of one sample, and the package's name for messages.
const (
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

// forward runs the network's steps.
func forward(ws, w, u, dst, src []float32) {}
