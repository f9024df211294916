package plan

import (
	"fmt"
	"sort"
	"strings"
)

// Winograd minimal filtering F(m x m, 3 x 3) (Lavin and Gray, 2015): an
// m x m tile of outputs from an (m+2) x (m+2) tile of inputs as
//
//	Y = A^T [ (G g G^T) .* (B^T d B) ] A
//
// so the (m+2)^2 elementwise products, summed over input channels, are
// a batch of (m+2)^2 small matrix products: (m+2)^2/m^2 multiplies per
// output instead of 9. F(2x2) needs 16/4 = 4, F(4x4) 36/16 = 2.25.

// WinogradMatrices are the transforms of F(M x M, 3 x 3); A = M + 2.
type WinogradMatrices struct {
	M, A int
	BT   [][]float64 // A x A, input transform
	G    [][]float64 // A x 3, weight transform
	AT   [][]float64 // M x A, output transform
}

// WinogradTransforms returns the matrices of F(m x m, 3 x 3), m 2 or 4, with the
// interpolation points 0, 1, -1 (and 2, -2 for m = 4) and infinity.
func WinogradTransforms(m int) WinogradMatrices {
	switch m {
	case 2:
		return WinogradMatrices{M: 2, A: 4,
			BT: [][]float64{
				{1, 0, -1, 0},
				{0, 1, 1, 0},
				{0, -1, 1, 0},
				{0, 1, 0, -1},
			},
			G: [][]float64{
				{1, 0, 0},
				{0.5, 0.5, 0.5},
				{0.5, -0.5, 0.5},
				{0, 0, 1},
			},
			AT: [][]float64{
				{1, 1, 1, 0},
				{0, 1, -1, -1},
			},
		}
	case 4:
		return WinogradMatrices{M: 4, A: 6,
			BT: [][]float64{
				{4, 0, -5, 0, 1, 0},
				{0, -4, -4, 1, 1, 0},
				{0, 4, -4, -1, 1, 0},
				{0, -2, -1, 2, 1, 0},
				{0, 2, -1, -2, 1, 0},
				{0, 4, 0, -5, 0, 1},
			},
			G: [][]float64{
				{1.0 / 4, 0, 0},
				{-1.0 / 6, -1.0 / 6, -1.0 / 6},
				{-1.0 / 6, 1.0 / 6, -1.0 / 6},
				{1.0 / 24, 1.0 / 12, 1.0 / 6},
				{1.0 / 24, -1.0 / 12, 1.0 / 6},
				{0, 0, 1},
			},
			AT: [][]float64{
				{1, 1, 1, 1, 1, 0},
				{0, 1, -1, 2, -2, 0},
				{0, 1, 1, 4, 4, 0},
				{0, 1, -1, 8, -8, 1},
			},
		}
	}
	panic("plan: Winograd tile size must be 2 or 4")
}

// winogradM returns the tile size to use for c, or 0 when c should run
// directly. Winograd needs a dense 3x3 stride-1 undilated convolution;
// whether it pays is up to convCycles' estimate. When the output does not
// tile evenly, the last row and column of tiles reach past it (into the
// halo, cleared afterwards), wasted work the estimate counts.
func (p *planner) winogradM(c *ConvStep) (int, []winogradOption) {
	if p.opt.NoWinograd || c.KH != 3 || c.KW != 3 || c.StrideH != 1 || c.StrideW != 1 ||
		c.DilH != 1 || c.DilW != 1 || c.Groups != 1 {
		return 0, nil
	}
	if !p.opt.ForceWinograd && (c.In < 8 || c.Out < 8) {
		return 0, nil
	}
	// Winograd must win clearly: its weights are larger (they cost memory
	// in every process, and time to transform on first use) and
	// the estimate is rough.
	const margin = 1.2
	direct := p.convCycles(c, 0) / margin
	best, bestCost := 0, direct
	if p.opt.ForceWinograd {
		bestCost = 1e300
	}
	why := []string{fmt.Sprintf("direct %.0f", direct*margin/1e3)}
	var opts []winogradOption
	for _, m := range []int{4, 2} {
		if p.opt.WinogradM != 0 && m != p.opt.WinogradM {
			continue
		}
		cost := p.convCycles(c, m)
		why = append(why, fmt.Sprintf("F(%d) %.0f", m, cost/1e3))
		if cost < direct || p.opt.ForceWinograd {
			opts = append(opts, winogradOption{m, cost})
		}
		if cost < bestCost {
			best, bestCost = m, cost
		}
	}
	sort.Slice(opts, func(i, j int) bool { return opts[i].cycles < opts[j].cycles })
	c.Why = fmt.Sprintf("kcycles %s (Winograd if 1.2x faster)", strings.Join(why, ", "))
	return best, opts
}

// convCycles estimates a convolution's cycles on one core of the target,
// directly (m = 0) or by Winograd F(m x m, 3 x 3): the larger of its
// arithmetic (the target's vector FMAs a cycle at its efficiency, plus
// the Winograd transforms) and the time to read its weights, which
// Winograd makes (m+2)^2/9 times larger. When the whole network's
// weights do not fit in the last-level cache (streaming), every
// inference reads them from memory; else from cache. On an AMD EPYC
// (Zen 4) these constants have ResNet-18's last stage (512 channels,
// 7x7) run F(2) from 16.8 MB of transformed weights about 15% faster
// than directly from 9.4 MB. The price is memory: Winograd's weights are
// (m+2)^2/9 as large, computed on first use.
func (p *planner) convCycles(c *ConvStep, m int) float64 {
	cost := p.target.Cost
	ic, oc := float64(c.In), float64(c.Out)
	icb, ocb := float64(c.InBlocks()), float64(c.OutBlocks()) // a block is a vector
	bw := p.prog.weightBandwidth()
	fmaPerCycle := cost.FMAsPerCycle * cost.Efficiency
	if m == 0 {
		// Each output channel reads its group's input channels: all of
		// them, one for a depthwise convolution.
		icg := ic / float64(max(1, c.Groups))
		fmas := float64(c.OutH*c.OutW) * icg * ocb * float64(c.KH*c.KW)
		return max(fmas/fmaPerCycle, oc*icg*float64(c.KH*c.KW)*4/bw)
	}
	a := float64(m + 2)
	tiles := float64(ceilDiv(c.OutH, m) * ceilDiv(c.OutW, m))
	gemm := a * a * tiles * ic * ocb / fmaPerCycle
	inCost, outCost := transformCycles(cost, m)
	transforms := tiles * (icb*inCost + ocb*outCost)
	return max(gemm+transforms, oc*ic*a*a*4/bw)
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// WinogradChain is the most input channels a Winograd step's products sum
// in one chain of FMAs: a chain's M is stored and the next chain's sums
// added to it as it ends, which rounds less than one chain over all the
// channels (F(4x4) over 64 channels made 0.77x the error in chains of 32
// as in one, emulated against float64; see the accuracy budget), for a
// load and a store of each accumulator a chain.
const WinogradChain = 32

// WinogradOverhang is how many rows and columns the tiles cover beyond
// the output: the output and residual halos must be at least that wide,
// and the input halo that much wider than the padding.
func (c *ConvStep) WinogradOverhang() int {
	return max(c.TilesY*c.WinogradM-c.OutH, c.TilesX*c.WinogradM-c.OutW)
}

// planWinograd sets the tiling of a Winograd step: blocks of whole rows
// of output tiles go through the three phases together, sized so that
// the GEMM has a dozen or more tiles to work across while the transformed
// data stays near the cache (about 64 KiB).
func (p *planner) planWinograd(c *ConvStep, m int) {
	c.Algo, c.WinogradM = Winograd, m
	a := m + 2
	c.TilesY, c.TilesX = ceilDiv(c.OutH, m), ceilDiv(c.OutW, m)
	icb, ocb := c.InBlocks(), c.OutBlocks()
	perRow := a * a * (icb + ocb) * c.TilesX * c.Block * 4 // bytes of V and M per tile row
	c.BlockRows = 1
	for r := 2; r <= c.TilesY; r++ {
		if c.TilesY%r != 0 {
			continue
		}
		if r*perRow > 64<<10 && c.BlockRows*c.TilesX >= 12 {
			break
		}
		c.BlockRows = r
		if r*c.TilesX >= 16 {
			break
		}
	}
	// The GEMM of each transform element is a 1x1 convolution over the
	// block's tiles: tile it like one.
	gemm := &ConvStep{Conv: c.Conv, OutH: 1, OutW: c.BlockRows * c.TilesX, Block: c.Block}
	gemm.KH, gemm.KW, gemm.Groups = 1, 1, 1
	p.chooseTiles(gemm)
	c.Tiles, c.Pixels = gemm.Tiles, gemm.Pixels
}

// WinogradScratch is the workspace a Winograd step uses between its
// phases, in floats: V (transformed inputs), M (products), and one
// (m+2) x (m+2) tile of vectors for the transforms.
func (c *ConvStep) WinogradScratch() (v, m, tmp int) {
	a := c.WinogradM + 2
	t := c.BlockRows * c.TilesX
	icb, ocb := c.InBlocks(), c.OutBlocks()
	return a * a * icb * t * c.Block, a * a * ocb * t * c.Block, a * a * c.Block
}

// layoutWinograd lays out the transformed weights the package computes
// on first use, from the weights packGroups stored (U = G g G^T, in
// float64 from the float32 kernels, rounded once): the bias, then
// [xi][tile][ic][Blocks*Block lanes], in the program's own region.
func (p *planner) layoutWinograd(c *ConvStep) {
	a := c.WinogradM + 2
	c.KernelsOff = c.WeightOff
	c.RawBiasOff = c.BiasOff
	c.BiasOff = p.winogradSection((c.Out + Group - 1) / Group * Group)
	per := 0
	for _, t := range c.Tiles {
		per += c.In * t.Blocks * c.Block
	}
	c.XiStride = per
	off := p.winogradSection(a * a * per)
	for ti := range c.Tiles {
		t := &c.Tiles[ti]
		t.WeightOff = off
		off += c.In * t.Blocks * c.Block
	}
}

// winogradSection reserves a 64-byte aligned section of n floats of
// transformed Winograd weights and returns its offset.
func (p *planner) winogradSection(n int) int {
	off := align16(p.prog.WinogradLen)
	p.prog.WinogradLen = off + n
	return off
}
