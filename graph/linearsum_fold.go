package graph

// Fold returns the one convolution the block equals in eval mode, in
// float64, with a bias. Each branch is composed, step by step, into one
// convolution of the block's input (a branchMap): a convolution after
// what came before convolves their kernels (the DBB paper's transform
// III, in general: strides and dilations spread the later kernel over
// the earlier one's output grid) and carries the earlier bias through
// its taps; a BatchNorm scales the rows and shifts the bias (I);
// average pooling is a kernel of 1/K^2 on each channel (V); zero padding
// moves the window. Every branch's kernel is then added into the folded
// one at its window's offset (II, VI: a 1x1 kernel at the centre, a
// dilated kernel spread over the large one), the identity as a 1 at the
// offset of each output channel's own input channel, and the BatchNorm
// after the sum folded in last.
func (s *LinearSum) Fold() *Conv {
	f := s.Fused
	k, inPer := f.KH, f.In/f.Groups
	f.Weight = make([]float64, f.Out*inPer*k*k)
	f.Bias = make([]float64, f.Out)
	for _, b := range s.Branches {
		m := &branchMap{out: f.In, inPer: inPer, extent: 1, stride: 1}
		for _, st := range b.Steps {
			switch {
			case st.Conv != nil:
				m.conv(st.Conv)
			case st.BN != nil:
				m.batchNorm(st.BN)
			default:
				m.conv(poolKernel(st.Pool, m.out))
			}
		}
		m.materialize()
		off, e := f.PadH-m.pad, m.extent
		for o := 0; o < f.Out; o++ {
			for i := 0; i < inPer; i++ {
				src := m.w[(o*inPer+i)*e*e : (o*inPer+i+1)*e*e]
				dst := f.Weight[(o*inPer+i)*k*k : (o*inPer+i+1)*k*k]
				for y := 0; y < e; y++ {
					for x := 0; x < e; x++ {
						dst[(off+y)*k+off+x] += src[y*e+x]
					}
				}
			}
			f.Bias[o] += m.b[o]
		}
	}
	if s.Post != nil {
		f.FoldBN(s.Post)
	}
	return &f
}

// branchMap is a branch so far as one convolution of the block's input:
// w is [out][inPer][extent][extent] with the folded convolution's groups
// (inPer input channels each), b its bias; the window starts pad pixels
// before the output's and moves stride pixels per output pixel. w nil is
// the identity, not yet written out.
type branchMap struct {
	out, inPer          int
	extent, stride, pad int
	w, b                []float64
}

// materialize writes out the identity: 1 at each channel's own input
// channel within its group.
func (m *branchMap) materialize() {
	if m.w != nil {
		return
	}
	m.w = make([]float64, m.out*m.inPer)
	for o := 0; o < m.out; o++ {
		m.w[o*m.inPer+o%m.inPer] = 1
	}
	m.b = make([]float64, m.out)
}

// conv composes convolution c after m.
func (m *branchMap) conv(c *Conv) {
	k, dil := c.KH, c.DilH
	inPer := c.In / c.Groups // c's input channels per group
	outPer := c.Out / c.Groups
	spread := dil * m.stride // c's taps, in input pixels
	e := (k-1)*spread + m.extent
	w := make([]float64, c.Out*m.inPer*e*e)
	b := make([]float64, c.Out)
	if c.Bias != nil {
		copy(b, c.Bias)
	}
	for o := 0; o < c.Out; o++ {
		grp := o / outPer
		for j := 0; j < inPer; j++ {
			mid := grp*inPer + j // the channel of m's output c reads
			for ky := 0; ky < k; ky++ {
				for kx := 0; kx < k; kx++ {
					v := c.Weight[((o*inPer+j)*k+ky)*k+kx]
					if v == 0 {
						continue
					}
					if m.w == nil { // the identity: c's tap on mid's own channel
						w[((o*m.inPer+mid%m.inPer)*e+ky*spread)*e+kx*spread] += v
						continue
					}
					for i := 0; i < m.inPer; i++ {
						src := m.w[(mid*m.inPer+i)*m.extent*m.extent:]
						dst := w[(o*m.inPer+i)*e*e:]
						for ty := 0; ty < m.extent; ty++ {
							for tx := 0; tx < m.extent; tx++ {
								dst[(ky*spread+ty)*e+kx*spread+tx] += v * src[ty*m.extent+tx]
							}
						}
					}
					b[o] += v * m.b[mid]
				}
			}
		}
	}
	m.w, m.b, m.out, m.extent = w, b, c.Out, e
	m.pad += c.PadH * m.stride
	m.stride *= c.StrideH
}

// batchNorm composes bn after m: each output row scaled, the bias
// scaled and shifted.
func (m *branchMap) batchNorm(bn *BatchNorm) {
	m.materialize()
	scale, shift := bn.ScaleShift()
	per := len(m.w) / m.out
	for o := 0; o < m.out; o++ {
		for i := o * per; i < (o+1)*per; i++ {
			m.w[i] *= scale[o]
		}
		m.b[o] = m.b[o]*scale[o] + shift[o]
	}
}

// poolKernel is average pooling over c channels as the depthwise
// convolution it is when the padding counts: 1/K^2 at every tap.
func poolKernel(p *Pool, c int) *Conv {
	w := make([]float64, c*p.KH*p.KW)
	for i := range w {
		w[i] = 1 / float64(p.KH*p.KW)
	}
	return &Conv{In: c, Out: c, KH: p.KH, KW: p.KW, StrideH: p.StrideH, StrideW: p.StrideW, PadH: p.PadH, PadW: p.PadW, DilH: 1, DilW: 1, Groups: c, Weight: w}
}
