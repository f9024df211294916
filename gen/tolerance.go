package gen

import "math"

// tolerances are the package tests' bounds on the relative error of its
// outputs against the reference (golden) and between two instruction sets
// (isa), for a network whose outputs move by sensitivity when every
// weight moves by float32 rounding: 1e-4 and 5e-5, or 8x the sensitivity
// where that is more. A float32 inference of such a network, PyTorch's
// included, is that far from float64 whatever its kernels: an
// ACNet-ified Inception-v3 at 75x75 (sensitivity 4.5e-5) was 7.9e-5 from
// float64 in PyTorch and 1.9e-4 in acgen's AVX kernels, and its
// instruction sets 1e-4 apart without Winograd. Two instruction sets
// each that far from the reference, in their own directions, are up to
// twice that apart, so isa allows 16x: EfficientNet-V2-M at 64x64
// (sensitivity 9e-4) had AVX2 and the Go kernels each within 7.2e-3 of
// the reference and 7.5e-3 apart.
func tolerances(sensitivity float64) (golden, isa float64) {
	s := 8 * sensitivity
	return roundUp(math.Max(1e-4, s)), roundUp(math.Max(5e-5, 2*s))
}

// roundUp rounds x up to two significant digits, so that the printed
// bound is never below the computed one.
func roundUp(x float64) float64 {
	e := math.Pow(10, math.Floor(math.Log10(x))-1)
	return math.Ceil(x/e-1e-9) * e
}
