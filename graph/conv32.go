package graph

// Conv32 computes convolution c of x as float32 arithmetic would: the
// inputs, weights and bias rounded to float32, each output a chain of
// fused multiply-adds in float32 over its input channels and taps in
// order, as a direct kernel sums them. The values are float64 slots
// holding float32s. It is the baseline against which acgen measures what
// Winograd costs in accuracy (see package driver's emulation).
func Conv32(x Tensor, c *Conv) Tensor {
	oh, ow := c.OutSize(x.H, x.W)
	out := NewTensor(Shape{C: c.Out, H: oh, W: ow})
	inPer, outPer := c.In/c.Groups, c.Out/c.Groups
	k := inPer * c.KH * c.KW
	pixels := oh * ow
	block := max(2, min(64, (1<<19)/max(k, 1)))
	blocks := (pixels + block - 1) / block
	w32 := make([]float32, len(c.Weight))
	for i, v := range c.Weight {
		w32[i] = float32(v)
	}
	parallel(c.Groups*blocks, func(job int) {
		g, b := job/blocks, job%blocks
		p0, p1 := b*block, min((b+1)*block, pixels)
		col := im2col(x, c, g, p0, p1, ow)
		col32 := make([]float32, len(col))
		for i, v := range col {
			col32[i] = float32(v)
		}
		for o := g * outPer; o < (g+1)*outPer; o += 2 {
			o1 := min(o+1, (g+1)*outPer-1) // an odd last channel pairs with itself
			w0, w1 := w32[o*k:(o+1)*k], w32[o1*k:(o1+1)*k]
			var b0, b1 float32
			if c.Bias != nil {
				b0, b1 = float32(c.Bias[o]), float32(c.Bias[o1])
			}
			d0 := out.Data[o*pixels : (o+1)*pixels]
			d1 := out.Data[o1*pixels : (o1+1)*pixels]
			for p := p0; p < p1; p += 2 {
				q := min(p+1, p1-1) // an odd last pixel pairs with itself
				r0, r1 := col32[(p-p0)*k:(p-p0+1)*k], col32[(q-p0)*k:(q-p0+1)*k]
				s00, s01, s10, s11 := fma2x2(w0, w1, r0, r1)
				d0[p], d0[q], d1[p], d1[q] = float64(s00+b0), float64(s01+b0), float64(s10+b1), float64(s11+b1)
			}
		}
	})
	return out
}

// fma2x2 is the four dot products of weight rows w0, w1 with input rows
// r0, r1, each a chain of float32 fused multiply-adds (the product is
// exact in float64, so one rounding of the sum to float32 is the FMA's).
func fma2x2(w0, w1, r0, r1 []float32) (s00, s01, s10, s11 float32) {
	w1, r0, r1 = w1[:len(w0)], r0[:len(w0)], r1[:len(w0)]
	for i, u := range w0 {
		z, a, b := float64(w1[i]), float64(r0[i]), float64(r1[i])
		x := float64(u)
		s00 = float32(float64(s00) + x*a)
		s01 = float32(float64(s01) + x*b)
		s10 = float32(float64(s10) + z*a)
		s11 = float32(float64(s11) + z*b)
	}
	return
}
