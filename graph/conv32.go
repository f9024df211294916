package graph

// Conv32 computes convolution c of x as acgen's direct kernels compute it
// in float32: the inputs, weights and bias rounded to float32; each
// output's products, in order of input channel and tap, summed in chains
// of chain input channels (all of them for chain <= 0), each chain of
// fused multiply-adds in float32 from 0 and added to the chains before it
// in float32; the bias added last (the kernels start the first chain
// from it). The values are float64 slots holding float32s. It is the
// baseline against which acgen measures what Winograd costs in accuracy
// (see package driver's emulation), and its chains must be the kernels'
// (plan.DirectChain): one chain over a layer's thousands of products
// rounds twice as much (VGG-11-BN at 64x64: the emulated network 4.3e-6
// from float64, the kernels 2.0e-6), which made Winograd's error look
// half what it is beside it.
func Conv32(x Tensor, c *Conv, chain int) Tensor {
	r := *c
	r.Weight, r.Bias = Round32(c.Weight), Round32(c.Bias)
	k := c.In / c.Groups * c.KH * c.KW
	n := k // products a chain
	if chain > 0 {
		n = chain * c.KH * c.KW
	}
	out := convWith(Tensor{Shape: x.Shape, Data: Round32(x.Data)}, &r, func(w0, w1, r0, r1 []float64) (s00, s01, s10, s11 float64) {
		for i := 0; i < k; i += n {
			j := min(i+n, k)
			t00, t01, t10, t11 := fma2x2(w0[i:j], w1[i:j], r0[i:j], r1[i:j])
			s00, s01 = float64(float32(s00+t00)), float64(float32(s01+t01))
			s10, s11 = float64(float32(s10+t10)), float64(float32(s11+t11))
		}
		return
	})
	for i, v := range out.Data {
		out.Data[i] = float64(float32(v)) // the bias added in float32
	}
	return out
}

// Round32 is v rounded to float32 (nil for nil).
func Round32(v []float64) []float64 {
	if v == nil {
		return nil
	}
	r := make([]float64, len(v))
	for i, x := range v {
		r[i] = float64(float32(x))
	}
	return r
}

// fma2x2 is dot2x2 as chains of float32 fused multiply-adds, on rows of
// float32 values: the product is exact in float64, so one rounding of
// each sum to float32 is the FMA's.
func fma2x2(w0, w1, r0, r1 []float64) (s00, s01, s10, s11 float64) {
	w1, r0, r1 = w1[:len(w0)], r0[:len(w0)], r1[:len(w0)]
	for i, u := range w0 {
		z, a, b := w1[i], r0[i], r1[i]
		s00 = float64(float32(s00 + u*a))
		s01 = float64(float32(s01 + u*b))
		s10 = float64(float32(s10 + z*a))
		s11 = float64(float32(s11 + z*b))
	}
	return
}

// ConvLinear is convolution c of x in float64 without its bias: the
// linear part alone, for carrying a perturbation of x through c.
func ConvLinear(x Tensor, c *Conv) Tensor {
	r := *c
	r.Bias = nil
	return conv(x, &r)
}
