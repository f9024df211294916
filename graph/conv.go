package graph

// conv is nn.Conv2d in float64: zero padding, stride, dilation, groups,
// optional bias. It is the reference runtime's hot loop (checking VGG-16
// runs 31 GFLOP of it), so it computes each output as a dot product over
// (input channel, ky, kx) of a weight row and a row of the input
// gathered for that output pixel (im2col, a block of pixels at a time),
// two output channels by two pixels at once: every load feeds two
// multiply-adds, and the loops carry no bounds to test. Each sum runs in
// (input channel, ky, kx) order, as PyTorch's definition writes it.
func conv(x Tensor, c *Conv) Tensor { return convWith(x, c, dot2x2) }

// convWith is conv with dot computing the products of a pair of weight
// rows with a pair of input rows.
func convWith(x Tensor, c *Conv, dot func(w0, w1, r0, r1 []float64) (s00, s01, s10, s11 float64)) Tensor {
	oh, ow := c.OutSize(x.H, x.W)
	out := NewTensor(Shape{C: c.Out, H: oh, W: ow})
	inPer, outPer := c.In/c.Groups, c.Out/c.Groups
	k := inPer * c.KH * c.KW // a dot product's length
	pixels := oh * ow
	// A block of pixels gathers at most 4 MB, and at least two pixels.
	block := max(2, min(64, (1<<19)/max(k, 1)))
	blocks := (pixels + block - 1) / block
	Parallel(c.Groups*blocks, func(job int) {
		g, b := job/blocks, job%blocks
		p0, p1 := b*block, min((b+1)*block, pixels)
		col := im2col(x, c, g, p0, p1, ow)
		for o := g * outPer; o < (g+1)*outPer; o += 2 {
			o1 := min(o+1, (g+1)*outPer-1) // an odd last channel pairs with itself
			w0, w1 := c.Weight[o*k:(o+1)*k], c.Weight[o1*k:(o1+1)*k]
			var b0, b1 float64
			if c.Bias != nil {
				b0, b1 = c.Bias[o], c.Bias[o1]
			}
			d0 := out.Data[o*pixels : (o+1)*pixels]
			d1 := out.Data[o1*pixels : (o1+1)*pixels]
			for p := p0; p < p1; p += 2 {
				q := min(p+1, p1-1) // an odd last pixel pairs with itself
				r0, r1 := col[(p-p0)*k:(p-p0+1)*k], col[(q-p0)*k:(q-p0+1)*k]
				s00, s01, s10, s11 := dot(w0, w1, r0, r1)
				d0[p], d0[q], d1[p], d1[q] = b0+s00, b0+s01, b1+s10, b1+s11
			}
		}
	})
	return out
}

// dot2x2 is the four dot products of weight rows w0, w1 with input rows
// r0, r1, all of one length.
func dot2x2(w0, w1, r0, r1 []float64) (s00, s01, s10, s11 float64) {
	w1, r0, r1 = w1[:len(w0)], r0[:len(w0)], r1[:len(w0)] // no bounds checks in the loop
	for i, u := range w0 {
		z, a, b := w1[i], r0[i], r1[i]
		s00 += u * a
		s01 += u * b
		s10 += z * a
		s11 += z * b
	}
	return
}

// im2col gathers, for output pixels p0 to p1-1 (row-major, ow a row) of
// group g, the input values each multiplies, in the weights' (input
// channel, ky, kx) order; zero where a tap falls in the padding.
func im2col(x Tensor, c *Conv, g, p0, p1, ow int) []float64 {
	inPer := c.In / c.Groups
	k := inPer * c.KH * c.KW
	col := make([]float64, (p1-p0)*k)
	for p := p0; p < p1; p++ {
		oy, ox := p/ow, p%ow
		row := col[(p-p0)*k : (p-p0+1)*k]
		i := 0
		for ic := 0; ic < inPer; ic++ {
			plane := x.Data[(g*inPer+ic)*x.H*x.W : (g*inPer+ic+1)*x.H*x.W]
			for ky := 0; ky < c.KH; ky++ {
				iy := oy*c.StrideH - c.PadH + ky*c.DilH
				for kx := 0; kx < c.KW; kx++ {
					ix := ox*c.StrideW - c.PadW + kx*c.DilW
					if iy >= 0 && iy < x.H && ix >= 0 && ix < x.W {
						row[i] = plane[iy*x.W+ix]
					}
					i++
				}
			}
		}
	}
	return col
}
