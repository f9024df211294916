package gen

import (
	"fmt"
	"math/bits"

	"github.com/dave/jennifer/jen"

	"github.com/acgen/acgen/plan"
)

// kernelsFile holds one Go function per convolution step of the
// portable program. They are the portable kernels (and the reference the
// assembly is tested against): every shape, stride and offset is a
// constant, and the taps of the kernel window are unrolled.
func (g *generator) kernelsFile() *jen.File {
	f := g.newFile()
	p := g.p
	for i, s := range p.Steps {
		if s.Kind != plan.Conv {
			continue
		}
		name := kernelName(i)
		c := s.Conv
		f.Comment(fmt.Sprintf("%s computes %s: %s, %s -> %s, stride %d, padding %d.",
			name, s.Name, DescribeStep(s), s.In[0].Layout, s.Out.Layout, c.StrideH, c.PadH))
		f.Func().Id(name).Params(jen.List(jen.Id("ws"), jen.Id("w")).Index().Float32(), jen.List(jen.Id("lo"), jen.Id("hi"), jen.Id("scratch")).Int()).BlockFunc(func(body *jen.Group) {
			switch c.Algo {
			case plan.Winograd:
				body.Id(g.winogradVar(p, i)).Dot("run").Call(jen.Id("ws"), jen.Id("w"), jen.Id("lo"), jen.Id("hi"), jen.Id("scratch"))
			default:
				body.Id("_").Op("=").Id("scratch")
			}
			switch c.Algo {
			case plan.Winograd:
			case plan.Depthwise:
				depthwiseKernel(body, g.tilesVar(p, i), s)
			default:
				directKernel(body, name+"Groups", s)
			}
		})
		f.Line()
		if c.Algo == plan.Direct {
			// The Go kernel walks the weight groups: whole vectors of
			// Group channels, whatever tiles the assembly uses.
			f.Var().Id(name + "Groups").Op("=").Index(jen.Op("...")).Id("convTile").ValuesFunc(func(vals *jen.Group) {
				ocb := c.OutBlocks()
				per := plan.Group / c.Block
				for j, r := range c.WeightGroups {
					vals.Values(jen.Lit(j*per), jen.Lit(min(per, ocb-j*per)), jen.Lit(r.ICLo), jen.Lit(r.ICHi), jen.Lit(r.Off))
				}
			})
			f.Line()
			if c.ByTiles {
				f.Var().Id(name + "GroupsByTile").Op("=").Index(jen.Op("...")).Id("tileGroups").ValuesFunc(func(vals *jen.Group) {
					for _, t := range tileGroupsOf(c) {
						vals.Values(jen.Lit(t[0]), jen.Lit(t[1]), jen.Lit(t[2]), jen.Lit(t[3]))
					}
				})
				f.Line()
			}
			continue
		}
		g.stepTables(f, p, i, s)
	}
	return f
}

// winogradTables writes the tile tables and Winograd descriptions of
// program p's Winograd steps, which its load-time transform reads.
func (g *generator) winogradTables(f *jen.File, p *plan.Program) {
	for i, s := range p.Steps {
		if s.Kind == plan.Conv && s.Conv.Algo == plan.Winograd {
			g.stepTables(f, p, i, s)
		}
	}
}

func (g *generator) stepTables(f *jen.File, p *plan.Program, i int, s *plan.Step) {
	c := s.Conv
	if c.Algo == plan.Winograd {
		f.Var().Id(g.winogradVar(p, i)).Op("=").Add(winogradParams(g.tilesVar(p, i), s))
		f.Line()
	}
	f.Var().Id(g.tilesVar(p, i)).Op("=").Index(jen.Op("...")).Id("convTile").ValuesFunc(func(vals *jen.Group) {
		for _, t := range c.Tiles {
			vals.Values(jen.Lit(t.Block0), jen.Lit(t.Blocks), jen.Lit(t.ICLo), jen.Lit(t.ICHi), jen.Lit(t.WeightOff))
		}
	})
	f.Line()
}

// convConsts declares the geometry a conv kernel needs as constants: for
// the input, the index of the first window's top-left tap (which lies in
// the halo when there is padding); for the output and the residual, the
// index of pixel (0, 0).
func convConsts(body *jen.Group, s *plan.Step) {
	c := s.Conv
	in, out := s.In[0], s.Out
	il := in.Layout
	inBase := in.Buf.Offset + (il.Halo-c.PadH)*il.Row() + (il.Halo-c.PadW)*c.Block
	defs := []jen.Code{
		jen.Id("inBase").Op("=").Lit(inBase),
		jen.Id("inRow").Op("=").Lit(il.Row()),
		jen.Id("inPlane").Op("=").Lit(il.Plane()),
		jen.Id("outBase").Op("=").Lit(out.Buf.Offset + out.Layout.Origin()),
		jen.Id("outRow").Op("=").Lit(out.Layout.Row()),
		jen.Id("outPlane").Op("=").Lit(out.Layout.Plane()),
		jen.Id("bias").Op("=").Lit(c.BiasOff),
	}
	if r := s.Residual(); r != nil {
		defs = append(defs,
			jen.Id("resBase").Op("=").Lit(r.Buf.Offset+r.Layout.Origin()),
			jen.Id("resRow").Op("=").Lit(r.Layout.Row()),
			jen.Id("resPlane").Op("=").Lit(r.Layout.Plane()),
		)
	}
	body.Const().Defs(defs...)
}

// tapOffsets are the input offsets of the kernel window's taps, row by
// row, relative to its top-left tap.
func tapOffsets(s *plan.Step) []int {
	c := s.Conv
	row := s.In[0].Layout.Row()
	var offs []int
	for ky := 0; ky < c.KH; ky++ {
		for kx := 0; kx < c.KW; kx++ {
			offs = append(offs, ky*c.DilH*row+kx*c.DilW*c.Block)
		}
	}
	return offs
}

// epilogue is the value stored for accumulator acc: plus the residual at
// index r+l, then the activation.
func epilogue(s *plan.Step, acc *jen.Statement) *jen.Statement {
	v := acc
	if s.Residual() != nil {
		v = v.Op("+").Id("ws").Index(jen.Id("r").Op("+").Id("l"))
	}
	return actCall(s.Act, v)
}

// pixelLoops runs inner for each output pixel of rows lo to hi-1.
func pixelLoops(s *plan.Step, lo, hi string, inner func(g *jen.Group)) *jen.Statement {
	c := s.Conv
	return jen.For(jen.Id("oy").Op(":=").Id(lo), jen.Id("oy").Op("<").Id(hi), jen.Id("oy").Op("++")).Block(
		jen.For(jen.Id("ox").Op(":=").Lit(0), jen.Id("ox").Op("<").Lit(c.OutW), jen.Id("ox").Op("++")).BlockFunc(inner),
	)
}

// tileRows declares r0 and r1, the output rows of tile i among units lo
// to hi of a step split by tiles (see plan.ConvStep.ByTiles).
func tileRows(g *jen.Group, s *plan.Step) {
	g.List(jen.Id("r0"), jen.Id("r1")).Op(":=").Id("lineRange").Call(jen.Id("lo"), jen.Id("hi"), jen.Id("i"), jen.Lit(s.Conv.OutH))
}

// tileGroupsOf lists, for each tile of a step split by tiles, the
// portable kernel's weight groups that cover it (see tileGroups).
func tileGroupsOf(c *plan.ConvStep) [][4]int {
	per := plan.Group / c.Block // blocks a weight group
	var parts [][4]int
	for _, t := range c.Tiles {
		parts = append(parts, [4]int{t.Block0 / per, (t.Block0 + t.Blocks + per - 1) / per, t.Block0, t.Block0 + t.Blocks})
	}
	return parts
}

// directKernel: for each weight group, pixel and input channel, the
// window's input values times the group's weights (Group lanes, the last
// group's padded with zeros; only its real blocks are stored). Inputs
// and weights are read through array pointers of constant length, so
// that the compiler can drop the bounds checks of the inner loops.
func directKernel(body *jen.Group, groups string, s *plan.Step) {
	c := s.Conv
	convConsts(body, s)
	taps := tapOffsets(s)
	span := taps[len(taps)-1] + 1
	lanes := plan.Group
	lo, hi := "lo", "hi"
	bLo, bHi := jen.Lit(0), jen.Id("t").Dot("blocks")
	loop := func(over *jen.Statement, inner *jen.Statement) { body.For(over).Block(inner) }
	if c.ByTiles {
		// Tile by tile, the weight groups covering it, storing the
		// tile's blocks only (AVX2 tiles may split a group).
		lo, hi = "r0", "r1"
		bLo = jen.Max(jen.Lit(0), jen.Id("p").Dot("blockLo").Op("-").Id("t").Dot("block0"))
		bHi = jen.Min(jen.Id("t").Dot("blocks"), jen.Id("p").Dot("blockHi").Op("-").Id("t").Dot("block0"))
		loop = func(over *jen.Statement, inner *jen.Statement) {
			body.For(jen.List(jen.Id("i"), jen.Id("p")).Op(":=").Range().Op("&").Id(groups + "ByTile")).BlockFunc(func(g *jen.Group) {
				tileRows(g, s)
				g.For(jen.List(jen.Id("_"), jen.Id("t")).Op(":=").Range().Id(groups).Index(jen.Id("p").Dot("groupLo").Op(":").Id("p").Dot("groupHi"))).Block(inner)
			})
		}
	}
	loop(jen.List(jen.Id("_"), jen.Id("t")).Op(":=").Range().Op("&").Id(groups),
		pixelLoops(s, lo, hi, func(px *jen.Group) {
			px.Var().Id("acc").Index(jen.Lit(lanes)).Float32()
			px.Copy(jen.Id("acc").Index(jen.Op(":")), jen.Id("w").Index(jen.Id("bias").Op("+").Id("t").Dot("block0").Op("*").Lit(c.Block).Op(":")))
			px.Id("wi").Op(":=").Id("t").Dot("wOff")
			px.Id("p0").Op(":=").Id("inBase").Op("+").Id("oy").Op("*").Lit(c.StrideH).Op("*").Id("inRow").
				Op("+").Id("ox").Op("*").Lit(c.StrideW * c.Block)
			px.For(jen.Id("ic").Op(":=").Id("t").Dot("icLo"), jen.Id("ic").Op("<").Id("t").Dot("icHi"), jen.Id("ic").Op("++")).BlockFunc(func(ic *jen.Group) {
				ic.Id("x").Op(":=").Parens(jen.Op("*").Index(jen.Lit(span)).Float32()).Parens(
					jen.Id("ws").Index(jen.Id("p0").Op("+").Parens(jen.Id("ic").Op(">>").Lit(bits.TrailingZeros(uint(c.Block)))).Op("*").Id("inPlane").Op("+").Id("ic").Op("&").Lit(c.Block - 1).Op(":")))
				for j, off := range taps {
					ic.Id(fmt.Sprintf("x%d", j)).Op(":=").Id("x").Index(jen.Lit(off))
				}
				ic.Id("k").Op(":=").Parens(jen.Op("*").Index(jen.Lit(len(taps) * lanes)).Float32()).Parens(jen.Id("w").Index(jen.Id("wi").Op(":")))
				ic.For(jen.Id("l").Op(":=").Lit(0), jen.Id("l").Op("<").Lit(lanes), jen.Id("l").Op("++")).Block(
					jen.Id("acc").Index(jen.Id("l")).Op("+=").Add(sum(len(taps), func(j int) *jen.Statement {
						k := jen.Id("k").Index(jen.Lit(j * lanes).Op("+").Id("l"))
						if j == 0 {
							k = jen.Id("k").Index(jen.Id("l"))
						}
						return k.Op("*").Id(fmt.Sprintf("x%d", j))
					})),
				)
				ic.Id("wi").Op("+=").Lit(len(taps) * lanes)
			})
			px.For(jen.Id("b").Op(":=").Add(bLo), jen.Id("b").Op("<").Add(bHi), jen.Id("b").Op("++")).BlockFunc(func(b *jen.Group) {
				b.Id("o").Op(":=").Id("outBase").Op("+").Parens(jen.Id("t").Dot("block0").Op("+").Id("b")).Op("*").Id("outPlane").
					Op("+").Id("oy").Op("*").Id("outRow").Op("+").Id("ox").Op("*").Lit(c.Block)
				if s.Residual() != nil {
					b.Id("r").Op(":=").Id("resBase").Op("+").Parens(jen.Id("t").Dot("block0").Op("+").Id("b")).Op("*").Id("resPlane").
						Op("+").Id("oy").Op("*").Id("resRow").Op("+").Id("ox").Op("*").Lit(c.Block)
				}
				b.For(jen.Id("l").Op(":=").Lit(0), jen.Id("l").Op("<").Lit(c.Block), jen.Id("l").Op("++")).Block(
					jen.Id("ws").Index(jen.Id("o").Op("+").Id("l")).Op("=").Add(epilogue(s, jen.Id("acc").Index(jen.Id("b").Op("*").Lit(c.Block).Op("+").Id("l")))),
				)
			})
		}),
	)
}

// depthwiseKernel: each output channel reads its own input channel, so
// input and weight vectors multiply lane by lane.
func depthwiseKernel(body *jen.Group, tiles string, s *plan.Step) {
	c := s.Conv
	convConsts(body, s)
	taps := tapOffsets(s)
	cp := c.DepthwiseRow()
	body.For(jen.List(jen.Id("_"), jen.Id("t")).Op(":=").Range().Op("&").Id(tiles)).Block(
		jen.Id("k").Op(":=").Id("w").Index(jen.Id("t").Dot("wOff").Op(":").Id("t").Dot("wOff").Op("+").Lit((len(taps)-1)*cp+c.Block)),
		pixelLoops(s, "lo", "hi", func(px *jen.Group) {
			px.Id("p").Op(":=").Id("inBase").Op("+").Id("t").Dot("block0").Op("*").Id("inPlane").
				Op("+").Id("oy").Op("*").Lit(c.StrideH).Op("*").Id("inRow").Op("+").Id("ox").Op("*").Lit(c.StrideW * c.Block)
			px.Id("o").Op(":=").Id("outBase").Op("+").Id("t").Dot("block0").Op("*").Id("outPlane").
				Op("+").Id("oy").Op("*").Id("outRow").Op("+").Id("ox").Op("*").Lit(c.Block)
			if s.Residual() != nil {
				px.Id("r").Op(":=").Id("resBase").Op("+").Id("t").Dot("block0").Op("*").Id("resPlane").
					Op("+").Id("oy").Op("*").Id("resRow").Op("+").Id("ox").Op("*").Lit(c.Block)
			}
			px.For(jen.Id("l").Op(":=").Lit(0), jen.Id("l").Op("<").Lit(c.Block), jen.Id("l").Op("++")).Block(
				jen.Id("v").Op(":=").Id("w").Index(jen.Id("bias").Op("+").Id("t").Dot("block0").Op("*").Lit(c.Block).Op("+").Id("l")).
					Op("+").Add(sum(len(taps), func(j int) *jen.Statement {
					return jen.Id("k").Index(jen.Lit(j * cp).Op("+").Id("l")).Op("*").Id("ws").Index(jen.Id("p").Op("+").Lit(taps[j]).Op("+").Id("l"))
				})),
				jen.Id("ws").Index(jen.Id("o").Op("+").Id("l")).Op("=").Add(epilogue(s, jen.Id("v"))),
			)
		}),
	)
}

// sum is term(0) + term(1) + ... + term(n-1).
func sum(n int, term func(j int) *jen.Statement) *jen.Statement {
	s := term(0)
	for j := 1; j < n; j++ {
		s = s.Op("+").Add(term(j))
	}
	return s
}

// winogradParams is the constant description of a Winograd step that the
// shared kernel of winograd.go runs.
func winogradParams(tiles string, s *plan.Step) *jen.Statement {
	c := s.Conv
	in := s.In[0]
	il := in.Layout
	m := c.WinogradM
	d := jen.Dict{
		jen.Id("m"):         jen.Lit(m),
		jen.Id("in"):        lay(in),
		jen.Id("inBase"):    jen.Lit(in.Buf.Offset + (il.Halo-c.PadH)*il.Row() + (il.Halo-c.PadW)*c.Block),
		jen.Id("out"):       lay(s.Out),
		jen.Id("act"):       actLit(s.Act),
		jen.Id("bias"):      jen.Lit(c.BiasOff),
		jen.Id("biasSrc"):   jen.Lit(c.RawBiasOff),
		jen.Id("kernels"):   jen.Lit(c.KernelsOff),
		jen.Id("xi"):        jen.Lit(c.XiStride),
		jen.Id("tiles"):     jen.Id(tiles).Index(jen.Op(":")),
		jen.Id("group"):     jen.Lit(plan.Group),
		jen.Id("tilesY"):    jen.Lit(c.TilesY),
		jen.Id("tilesX"):    jen.Lit(c.TilesX),
		jen.Id("blockRows"): jen.Lit(c.BlockRows),
		jen.Id("scratch"):   jen.Lit(c.ScratchOff),
	}
	if r := s.Residual(); r != nil {
		d[jen.Id("res")] = lay(r)
		d[jen.Id("hasRes")] = jen.True()
	}
	return jen.Id("winogradConv").Values(d)
}
