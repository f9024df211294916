package plan

// chooseKernels picks each convolution's algorithm and register tiles.
func (p *planner) chooseKernels() {
	for _, s := range p.prog.Steps {
		if s.Kind == MaxPool {
			p.windowedMaxPool(s)
			continue
		}
		if s.Kind != Conv {
			continue
		}
		c := s.Conv
		switch m := p.winogradM(c); {
		case m > 0:
			planWinograd(c, m)
		case c.Groups == c.In && c.Groups == c.Out:
			c.Algo = Depthwise
			chooseDepthwise(c)
		default:
			c.Algo = Direct
			chooseDirect(c)
		}
	}
}

// windowedMaxPool gives a max pooling step a window geometry, so that an
// assembly kernel can run it over a halo, when that halo can be zero: with
// no padding, or when the input cannot be negative (it comes out of a
// ReLU), so that zeros lose every max to a real value as PyTorch's -inf
// padding does.
func (p *planner) windowedMaxPool(s *Step) {
	pl := s.Pool
	if pl.Pad > 0 && !p.nonNegative(s.In[0]) {
		return
	}
	x := s.In[0].Layout
	s.Conv = lowered(x, x.C, pl.K, pl.K, pl.Stride, pl.Pad, x.C, nil, nil)
	s.Conv.Algo = Depthwise
	chooseDepthwise(s.Conv)
}

// nonNegative reports whether every value of v is >= 0 by construction.
func (p *planner) nonNegative(v *Value) bool {
	for _, s := range p.prog.Steps {
		if s.Out != v {
			continue
		}
		switch {
		case s.Act == ActReLU || s.Act == ActReLU6:
			return true
		case s.Kind == MaxPool || s.Kind == Concat:
			for _, in := range s.In {
				if !p.nonNegative(in) {
					return false
				}
			}
			return true
		}
		return false
	}
	return false
}

// pack lays each step's parameters out in the weight blob in the order
// its kernel reads them.
func (p *planner) pack() {
	for _, s := range p.prog.Steps {
		switch s.Kind {
		case Conv:
			p.packConv(s)
		case Linear:
			p.packLinear(s)
		case Affine:
			a := s.Nodes[0].Affine
			s.Affine.ScaleOff = p.appendPadded(a.Scale)
			s.Affine.ShiftOff = p.appendPadded(a.Shift)
		}
	}
}

// section starts a 64-byte aligned section of n floats and returns its
// offset and storage.
func (p *planner) section(n int) (int, []float32) {
	w := &p.prog.Weights
	off := align16(len(*w))
	*w = append(*w, make([]float32, off-len(*w)+n)...)
	return off, (*w)[off : off+n]
}

// appendPadded stores v padded with zeros to whole blocks.
func (p *planner) appendPadded(v []float64) int {
	off, dst := p.section((len(v) + Block - 1) / Block * Block)
	for i, x := range v {
		dst[i] = float32(x)
	}
	return off
}

func (p *planner) packConv(s *Step) {
	c := s.Conv
	n := &c.Conv // weights as lowered
	c.BiasOff = p.appendPadded(biasOrZero(n.Bias, c.Out))
	if c.Algo == Winograd {
		p.packWinograd(c, n.Weight)
		return
	}
	inPer, outPer := c.In/c.Groups, c.Out/c.Groups
	taps := c.KH * c.KW
	// One section for all tiles, each tile's weights right after the
	// previous one's (a multiple of 8 floats, so 32-byte aligned), so that
	// a kernel looping over similar tiles just walks on.
	total := 0
	for _, t := range c.Tiles {
		total += tileWeights(c, t)
	}
	off, blob := p.section(total)
	for i := range c.Tiles {
		t := &c.Tiles[i]
		t.WeightOff = off
		dst := blob[:tileWeights(c, *t)]
		blob = blob[len(dst):]
		off += len(dst)
		switch c.Algo {
		case Depthwise:
			// [ky][kx][8 lanes]
			for k := 0; k < taps; k++ {
				for l := 0; l < Block; l++ {
					if oc := t.Block0*Block + l; oc < c.Out {
						dst[k*Block+l] = float32(n.Weight[oc*taps+k])
					}
				}
			}
		case Direct:
			// [ic in ICLo..ICHi][ky][kx][Blocks*8 lanes]; lanes of output
			// channels outside ic's group, or beyond Out, hold zeros.
			lanes := t.Blocks * Block
			for ic := t.ICLo; ic < t.ICHi; ic++ {
				for k := 0; k < taps; k++ {
					row := dst[((ic-t.ICLo)*taps+k)*lanes:]
					for l := 0; l < lanes; l++ {
						oc := t.Block0*Block + l
						if oc >= c.Out || ic/inPer != oc/outPer {
							continue
						}
						row[l] = float32(n.Weight[(oc*inPer+ic%inPer)*taps+k])
					}
				}
			}
		}
	}
}

// tileWeights is the number of packed weights of one tile.
func tileWeights(c *ConvStep, t OCTile) int {
	taps := c.KH * c.KW
	if c.Algo == Depthwise {
		return taps * Block
	}
	return (t.ICHi - t.ICLo) * taps * t.Blocks * Block
}

// packLinear permutes the weights into the blocked order of the input
// layout ([CB][H][W][8], halo excluded), with zeros for padded lanes.
func (p *planner) packLinear(s *Step) {
	l := s.Linear
	n := s.Nodes[0]
	in := s.In[0].Layout
	l.K = in.CB() * in.H * in.W * Block
	l.BiasOff = p.appendPadded(biasOrZero(n.Linear.Bias, l.Out))
	off, dst := p.section(l.Out * l.K)
	l.WeightOff = off
	for o := 0; o < l.Out; o++ {
		row := dst[o*l.K : (o+1)*l.K]
		k := 0
		for cb := 0; cb < in.CB(); cb++ {
			for y := 0; y < in.H; y++ {
				for x := 0; x < in.W; x++ {
					for lane := 0; lane < Block; lane++ {
						if c := cb*Block + lane; c < in.C {
							row[k] = float32(n.Linear.Weight[o*l.In+(c*in.H+y)*in.W+x])
						}
						k++
					}
				}
			}
		}
	}
}

func biasOrZero(b []float64, n int) []float64 {
	if b == nil {
		return make([]float64, n)
	}
	return b
}
