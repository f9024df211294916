package driver

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/acgen/acgen/gen"
)

// checkFusion runs the unfused network (the oracle) and the fused one on
// a few random inputs, streaming the weights one layer at a time and
// packing the fused ones into the plan as it goes (see stream). The
// unfused outputs become the golden vectors of the generated package's
// test; the largest difference between the two is reported, and a
// difference beyond float32 rounding is a bug in acgen, so it fails the
// run.
func checkFusion(cfg *Config, r *Result) error {
	defer r.Checkpoint.Close() // every weight is read, or the run failed
	n := cfg.GoldenSamples
	if n <= 0 {
		n = 2
	}
	n, err := checkSamples(cfg, r, n)
	if err != nil {
		return err
	}
	if err := checkMemory(cfg, r, n); err != nil {
		return err
	}
	// Seeded from the weights, so that regenerating gives the same files,
	// and editing the spec's comments changes none of the code: the
	// emulation of the plan runs on the first of these inputs (replan).
	seed := binary.LittleEndian.Uint64([]byte(r.weightsSum[:16]))
	rng := rand.New(rand.NewPCG(seed, uint64(n)))
	inputs := make([][]float64, n)
	in32 := make([][]float32, n)
	for i := range inputs {
		inputs[i] = make([]float64, r.Unfused.Input.Len())
		in32[i] = make([]float32, len(inputs[i]))
		for j := range inputs[i] {
			in32[i][j] = float32(rng.NormFloat64())
			inputs[i][j] = float64(in32[i][j])
		}
	}
	// Only a caller that uses the weights after Run holds them (KeepWeights):
	// streaming is as fast as holding (ResNet-50: 7.8 s against 8.2 s) for
	// half the peak memory (611 MB against 1.10 GB).
	s := newStream(r, inputs, cfg.KeepWeights)
	if err := s.run(); err != nil {
		return err
	}
	if wantsEmulation(cfg, r) {
		if err := s.replan(cfg); err != nil {
			return err
		}
	}
	r.Golden = nil
	r.MaxFuseErr = 0
	worst := 0 // the sample fusion moves most, whose conditioning is measured below
	for i := range inputs {
		want, got := s.unfused[r.Unfused.Output][i], s.fused[r.Fused.Output][i]
		if !finite(want) {
			// Not acgen's fault: the trained network itself leaves
			// float32's range (PyTorch's float32 model would too).
			return fmt.Errorf("%s: the network's output for a random input holds %g, beyond float32's range; check the weights (a BatchNorm's running_var + eps near 0?)",
				cfg.Weights, firstNonFinite(want))
		}
		if e := maxRelErr(got, want); !(e <= r.MaxFuseErr) {
			r.MaxFuseErr, worst = e, i
		}
		out32 := make([]float32, len(want))
		for j, v := range want {
			out32[j] = float32(v)
		}
		r.Golden = append(r.Golden, gen.Sample{Input: in32[i], Output: out32})
	}
	// How far float32 rounding of the weights and activations moves the
	// outputs: the package's tests allow for it (gen.Input.Sensitivity),
	// and a fused network further off than it is acgen's fault.
	moved, err := s.perturbedOutput(worst, func(v []float64) { perturb(v, rng) })
	if err != nil {
		return fmt.Errorf("reference run: %w", err)
	}
	r.Sensitivity = maxRelErr(moved, float64s(r.Golden[worst].Output))
	if !(r.MaxFuseErr <= 1e-4) {
		return fuseMismatch(cfg, r)
	}
	return nil
}

// fuseMismatch explains a fused network that differs from the unfused
// one. Fusion rounds the weights to float32 once, a relative change of
// about 6e-8; a network that turns such small changes into large ones is
// ill-conditioned, and no float32 inference of it (PyTorch's included)
// can be accurate. So it measures how far the unfused network itself
// moves when its parameters and activations are rounded as float32
// rounds them: if that is within two orders of magnitude of the fused
// network's difference, the network is to blame, else acgen.
//
// An ill-conditioned network is still generated, as PyTorch still runs
// it in float32: with a warning that says how far float32 moves it, and
// tests that allow for the fused network's difference (Sensitivity
// raised to it), so that the package is as faithful as float32 lets any
// inference be and says so.
func fuseMismatch(cfg *Config, r *Result) error {
	if sens := r.Sensitivity; sens*100 >= r.MaxFuseErr {
		r.Warnings = append(r.Warnings, fmt.Sprintf("%s: the network is ill-conditioned: rounding its weights and activations to float32 moves its output by %.3g (relative) and fusing its weights by %.3g, so no float32 inference of it, PyTorch's included, is accurate to more than that; the package's tests allow for it (check the weights: tiny BatchNorm variances? a deep stack without normalisation?)",
			cfg.Weights, sens, r.MaxFuseErr))
		r.Sensitivity = max(sens, r.MaxFuseErr)
		return nil
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

func firstNonFinite(v []float64) float64 {
	for _, x := range v {
		if !(math.Abs(x) <= math.MaxFloat32) {
			return x
		}
	}
	return 0
}
