package driver

import "math/rand/v2"

// perturb moves every value of v by a relative 2^-24 (half a float32
// ulp), each up or down at random: what rounding the fused weights to
// float32 does, applied to the training form (see fuseMismatch). Every
// op's tensors are its row's (graph.Row.Tensors), so none is left out.
func perturb(v []float64, rng *rand.Rand) {
	for k, x := range v {
		v[k] = x * (1 + float64(rng.IntN(2)*2-1)*0x1p-24)
	}
}
