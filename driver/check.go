package driver

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/acgen/acgen/gen"
	"github.com/acgen/acgen/runtime/ref"
)

// checkFusion runs the unfused network (the oracle) and the fused one on
// a few random inputs. The unfused outputs become the golden vectors of
// the generated package's test; the largest difference between the two
// is reported, and a difference beyond float32 rounding is a bug in
// acgen, so it fails the run.
func checkFusion(cfg *Config, r *Result) error {
	n := cfg.GoldenSamples
	if n <= 0 {
		n = 2
	}
	n, err := checkSamples(cfg, r, n)
	if err != nil {
		return err
	}
	// Seeded from the inputs, so that regenerating gives the same files.
	seed := binary.LittleEndian.Uint64([]byte(r.specSum[:8] + r.weightsSum[:8]))
	rng := rand.New(rand.NewPCG(seed, uint64(n)))
	r.Golden = nil
	r.MaxFuseErr = 0
	for i := 0; i < n; i++ {
		in := make([]float64, r.Unfused.Input.Len())
		in32 := make([]float32, len(in))
		for j := range in {
			in32[j] = float32(rng.NormFloat64())
			in[j] = float64(in32[j])
		}
		want, err := ref.Run(r.Unfused, in)
		if err != nil {
			return fmt.Errorf("reference run: %w", err)
		}
		for _, v := range want {
			if !(math.Abs(v) <= math.MaxFloat32) {
				// Not acgen's fault: the trained network itself leaves
				// float32's range (PyTorch's float32 model would too).
				return fmt.Errorf("%s: the network's output for a random input holds %g, beyond float32's range; check the weights (a BatchNorm's running_var + eps near 0?)",
					cfg.Weights, v)
			}
		}
		got, err := ref.Run(r.Fused, in)
		if err != nil {
			return fmt.Errorf("reference run of the fused network: %w", err)
		}
		r.MaxFuseErr = math.Max(r.MaxFuseErr, maxRelErr(got, want))
		out32 := make([]float32, len(want))
		for j, v := range want {
			out32[j] = float32(v)
		}
		r.Golden = append(r.Golden, gen.Sample{Input: in32, Output: out32})
	}
	if !(r.MaxFuseErr <= 1e-4) {
		return fuseMismatch(cfg, r, rng)
	}
	return nil
}

// fuseMismatch explains a fused network that differs from the unfused
// one. Fusion rounds the weights to float32 once, a relative change of
// about 6e-8; a network that turns such small changes into large ones is
// ill-conditioned, and no float32 inference of it (PyTorch's included)
// can be accurate. So it measures how far the unfused network itself
// moves when its parameters move by as much: if that is within two
// orders of magnitude of the fused network's difference, the network is
// to blame, else acgen.
func fuseMismatch(cfg *Config, r *Result, rng *rand.Rand) error {
	in := float64s(r.Golden[0].Input)
	moved, err := ref.Run(perturbed(r.Unfused, rng), in)
	if err != nil {
		return fmt.Errorf("reference run: %w", err)
	}
	want, err := ref.Run(r.Unfused, in)
	if err != nil {
		return fmt.Errorf("reference run: %w", err)
	}
	if sens := maxRelErr(moved, want); sens*100 >= r.MaxFuseErr {
		return fmt.Errorf("%s: the network is ill-conditioned: moving its weights by float32 rounding (6e-8) moves its output by %.3g (relative) and fusing them by %.3g, so no float32 inference of it, PyTorch's included, can be accurate; check the weights (tiny BatchNorm variances? a deep stack without normalisation?)",
			cfg.Weights, sens, r.MaxFuseErr)
	}
	return fmt.Errorf("internal error: the fused network differs from the unfused one by %.3g (relative) although the network is well-conditioned; please report this with the spec", r.MaxFuseErr)
}

func float64s(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

func maxRelErr(got, want []float64) float64 {
	var worst float64
	for i := range want {
		d := math.Abs(got[i]-want[i]) / math.Max(1, math.Abs(want[i]))
		if d > worst || d != d {
			worst = d
		}
	}
	return worst
}
