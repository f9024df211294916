package plan

import (
	"fmt"

	"github.com/acgen/acgen/graph"
	"github.com/acgen/acgen/target"
)

// chooseKernels picks each convolution's algorithm and register tiles.
func (p *planner) chooseKernels() {
	wino := p.chooseWinograd()
	for _, s := range p.prog.Steps {
		if s.Kind == MaxPool {
			p.windowedMaxPool(s)
			continue
		}
		if s.Kind != Conv {
			continue
		}
		c := s.Conv
		m := wino[s]
		switch {
		case m > 0:
			p.planWinograd(c, m)
		case c.Groups == c.In && c.Groups == c.Out && p.target.Runs(Depthwise):
			c.Algo = Depthwise
			chooseDepthwise(c)
		default:
			c.Algo = Direct
			p.chooseDirect(c)
			if c.Why != "" {
				c.Why = c.Direct.Why + "; " + c.Why
			} else {
				c.Why = c.Direct.Why
			}
		}
		// A direct convolution whose weights outweigh its input is split
		// by tiles (see ConvStep.ByTiles): each goroutine sharing it then
		// reads the whole input but only its share of the weights, and
		// the layers this picks (small images, many channels: a network's
		// last stages and its linear layers) have too few rows to split
		// evenly anyway.
		c.ByTiles = c.Algo == Direct && len(c.Tiles) > 1 && c.weightFloats() > s.In[0].Layout.Len()
		c.Cycles = p.convCycles(c, m)
	}
}

// windowedMaxPool gives a max pooling step a window geometry, so that an
// assembly kernel can run it over a halo, when that halo can be zero:
// with no padding and no ceil_mode window reaching past the input, or
// when the input cannot be negative (it comes out of a ReLU), so that
// zeros lose every max to a real value as PyTorch's -inf padding does
// (every window holds an input value: PyTorch's ceil rule starts the
// last inside the input).
func (p *planner) windowedMaxPool(s *Step) {
	pl, x, out := s.Pool, s.In[0].Layout, s.Out.Layout
	c := lowered(x, poolWindow(x.C, pl), nil)
	c.OutH, c.OutW = out.H, out.W // with ceil_mode, more than a convolution's
	if c.Reach(x.H, x.W) > 0 && !p.nonNegative(s.In[0]) {
		return
	}
	s.Conv = c
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
		case s.Act.Func().NonNegative:
			return true
		case s.Kind.Row().SignKeeping:
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
		if f := s.Kind.Row().Pack; f != nil {
			f(p, s)
		}
	}
}

// Group is the output channels the packed weights keep together (see
// target.WeightGroup).
const Group = target.WeightGroup

// padded is n rounded up to whole weight groups: a vector of per-channel
// values is stored so, that a kernel may read a whole vector for the
// last channels.
func padded(n int) int { return (n + Group - 1) / Group * Group }

// reserveVector reserves node's section role of n per-channel values,
// padded to whole weight groups with zeros; values gives them at fill
// time, and already at planning tells nil (an absent bias: zeros) from
// values to come.
func (p *planner) reserveVector(node *graph.Node, role string, n int, values func() []float64) int {
	if values() == nil {
		// An absent bias: one section of zeros serves every layer.
		return p.blob.reserve(nil, fmt.Sprintf("zeros/%d", padded(n)), padded(n), nil)
	}
	return p.blob.reserve(node, role, padded(n), func(dst []float32) {
		for i, x := range values() {
			dst[i] = float32(x)
		}
	})
}

// WeightGroupRange is one group of Group output channels of a direct
// convolution's packed weights: [ICHi-ICLo][KH*KW][Group] floats from
// Off, the input channels any of the group's channels reads.
type WeightGroupRange struct {
	Off        int
	ICLo, ICHi int
}

func (p *planner) packConv(s *Step) {
	c := s.Conv
	node, weights := s.Nodes[0], c.weights
	c.BiasOff = p.reserveVector(node, "bias", c.Out, func() []float64 { _, b := weights(); return b })
	if c.Algo == Depthwise {
		// [ky][kx][Out rounded up to Group]: one tap's weights of every
		// channel in a row, so that a kernel walking the channel blocks
		// finds them one block apart.
		taps := c.KH * c.KW
		cp := c.DepthwiseRow()
		out := c.Out
		c.WeightOff = p.blob.reserve(node, "depthwise", taps*cp, func(dst []float32) {
			w, _ := weights()
			for oc := 0; oc < out; oc++ {
				for k := 0; k < taps; k++ {
					dst[k*cp+oc] = float32(w[oc*taps+k])
				}
			}
		})
		for i := range c.Tiles {
			c.Tiles[i].WeightOff = c.WeightOff + c.Tiles[i].Block0*c.Block
		}
		return
	}
	p.packGroups(node, c)
	if c.Algo == Winograd {
		p.layoutWinograd(c)
		return
	}
	for i := range c.Tiles {
		t := &c.Tiles[i]
		t.WeightOff = c.BlockWeights(t.Block0, t.ICLo)
	}
}

// packGroups stores a dense or grouped convolution's weights group by
// group of Group output channels: [group][ic][ky][kx][Group lanes]. Lanes
// of channels outside ic's convolution group, or beyond Out, hold zeros.
// Every target reads this one layout, whatever its tiles; Winograd's
// transformed weights are computed from it on first use.
func (p *planner) packGroups(node *graph.Node, c *ConvStep) {
	inPer, outPer := c.In/c.Groups, c.Out/c.Groups
	taps := c.KH * c.KW
	ngroups := (c.Out + Group - 1) / Group
	c.WeightGroups = make([]WeightGroupRange, ngroups)
	size := 0
	for j := range c.WeightGroups {
		lastOC := min((j+1)*Group, c.Out) - 1
		r := WeightGroupRange{ICLo: (j * Group / outPer) * inPer, ICHi: (lastOC/outPer + 1) * inPer, Off: size}
		size += (r.ICHi - r.ICLo) * taps * Group
		c.WeightGroups[j] = r
	}
	groups := append([]WeightGroupRange(nil), c.WeightGroups...) // relative to the section
	out, weights := c.Out, c.weights
	c.WeightOff = p.blob.reserve(node, "groups", size, func(dst []float32) {
		w, _ := weights()
		for j, r := range groups {
			lastOC := min((j+1)*Group, out) - 1
			region := dst[r.Off:]
			for ic := r.ICLo; ic < r.ICHi; ic++ {
				for k := 0; k < taps; k++ {
					row := region[((ic-r.ICLo)*taps+k)*Group:]
					for l := 0; l < Group; l++ {
						oc := j*Group + l
						if oc > lastOC || ic/inPer != oc/outPer {
							continue
						}
						row[l] = float32(w[(oc*inPer+ic%inPer)*taps+k])
					}
				}
			}
		}
	})
	for j := range c.WeightGroups {
		c.WeightGroups[j].Off += c.WeightOff
	}
}

// BlockWeights is where, in the packed weights of a direct convolution,
// channel block b's weights for input channel ic and the window's first
// tap start; the next tap is Group floats on, the next input channel
// KH*KW*Group.
func (c *ConvStep) BlockWeights(b, ic int) int {
	g := c.WeightGroups[b*c.Block/Group]
	if ic < g.ICLo || ic > g.ICHi {
		panic("plan: input channel outside the weight group") // directTiles keeps tiles inside their groups' ranges
	}
	return g.Off + (ic-g.ICLo)*c.KH*c.KW*Group + (b*c.Block)%Group
}

// DepthwiseRow is the floats between the taps of a depthwise
// convolution's packed weights: Out rounded up to whole weight groups.
func (c *ConvStep) DepthwiseRow() int { return (c.Out + Group - 1) / Group * Group }

// packLinear permutes the weights into the blocked order of the input
// layout ([CB][H][W][Block], halo excluded), with zeros for padded lanes.
func (p *planner) packLinear(s *Step) {
	l := s.Linear
	n := s.Nodes[0]
	in := s.In[0].Layout
	l.K = in.CB() * in.H * in.W * in.Block
	l.BiasOff = p.reserveVector(n, "bias", l.Out, func() []float64 { return n.Linear.Bias })
	k, inLen := l.K, l.In
	// The layout depends on the target's block: its own section.
	l.WeightOff = p.blob.reserve(n, fmt.Sprintf("linear/%d", in.Block), l.Out*l.K, func(dst []float32) {
		w := n.Linear.Weight
		for o := 0; o < l.Out; o++ {
			row := dst[o*k : (o+1)*k]
			i := 0
			for cb := 0; cb < in.CB(); cb++ {
				for y := 0; y < in.H; y++ {
					for x := 0; x < in.W; x++ {
						for lane := 0; lane < in.Block; lane++ {
							if c := cb*in.Block + lane; c < in.C {
								row[i] = float32(w[o*inLen+(c*in.H+y)*in.W+x])
							}
							i++
						}
					}
				}
			}
		}
	})
}
