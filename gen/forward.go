package gen

import (
	"fmt"

	"github.com/dave/jennifer/jen"

	"github.com/acgen/acgen/graph"
	"github.com/acgen/acgen/plan"
)

// forwardFile writes the portable program: forward, which runs the steps
// in order (each convolution calls its own specialised function: the
// assembly kernel when asm is set and the program has one, else the Go
// kernel of kernels.go; the cheap ops call the shared helpers of
// support.go with constant arguments), the program's run-time state,
// and its level.
func (g *generator) forwardFile() *jen.File {
	f := g.newFile()
	p := g.p
	calls := g.calls[p]
	f.Comment("forward runs one sample of the portable program from src to dst, using")
	f.Comment("ws as scratch, w as the packed weights and u as the transformed Winograd")
	f.Comment("weights; asm selects the program's assembly kernels.")
	params := jen.List(jen.Id("ws"), jen.Id("w"), jen.Id("u"), jen.Id("dst"), jen.Id("src")).Index().Float32()
	f.Func().Id("forward").Params(params, jen.Id("asm").Bool()).BlockFunc(func(body *jen.Group) {
		if len(calls) == 0 {
			body.Id("_").Op("=").Id("asm")
		}
		for i, s := range p.Steps {
			body.Comment(fmt.Sprintf("%s: %s -> %s", s.Name, DescribeStep(s), stepOutput(s)))
			body.Add(g.stepCode(p, i, s, whole(s)))
		}
	})
	f.Line()
	g.partFunc(f, p, true)
	g.phaseTable(f, p, false)
	if len(calls) > 0 {
		g.phaseTable(f, p, true)
	}
	g.programState(f, p)
	f.Comment("portableLevel runs the portable Go kernels, everywhere.")
	f.Var().Id("portableLevel").Op("=").Op("&").Id("level").Values(jen.Dict{
		jen.Id("name"):   jen.Lit("go"),
		jen.Id("prog"):   jen.Op("&").Id("portableProgram"),
		jen.Id("run"):    jen.Func().Params(params).Block(jen.Id("forward").Call(jen.Id("ws"), jen.Id("w"), jen.Id("u"), jen.Id("dst"), jen.Id("src"), jen.False())),
		jen.Id("phases"): jen.Id(PhasesVar(p, false)),
		jen.Id("part"): jen.Func().Params(params, jen.Id("ph").Op("*").Id("phase"), jen.List(jen.Id("lo"), jen.Id("hi"), jen.Id("scratch")).Int()).Block(
			jen.Id("forwardPart").Call(jen.Id("ws"), jen.Id("w"), jen.Id("u"), jen.Id("dst"), jen.Id("src"), jen.False(), jen.Id("ph"), jen.Id("lo"), jen.Id("hi"), jen.Id("scratch"))),
		jen.Id("supported"): jen.True(),
	})
	return f
}

// programFile writes a program that runs only with its own assembly
// kernels (AVX-512's, NEON's): its forward, tables and state, built only
// where the assembly is.
func (g *generator) programFile(p *plan.Program) *jen.File {
	f := g.newFile()
	f.HeaderComment("")
	f.HeaderComment("//go:build " + p.Target.BuildTag())
	name := ForwardName(p, false)
	f.Comment(fmt.Sprintf("%s runs one sample of the %s program (see forward).", name, p.Target.Name))
	f.Func().Id(name).Params(jen.List(jen.Id("ws"), jen.Id("w"), jen.Id("u"), jen.Id("dst"), jen.Id("src")).Index().Float32()).BlockFunc(func(body *jen.Group) {
		for i, s := range p.Steps {
			body.Comment(fmt.Sprintf("%s: %s -> %s", s.Name, DescribeStep(s), stepOutput(s)))
			body.Add(g.stepCode(p, i, s, whole(s)))
		}
	})
	f.Line()
	g.partFunc(f, p, false)
	g.phaseTable(f, p, true)
	g.programState(f, p)
	g.winogradTables(f, p)
	return f
}

// programState declares the program's run-time state: workspace size and
// Winograd steps.
func (g *generator) programState(f *jen.File, p *plan.Program) {
	v := g.programVar(p)
	f.Comment(fmt.Sprintf("%s is the %s program's state: %d floats of workspace per", v, p.Target.Name, p.WorkspaceLen))
	f.Comment(fmt.Sprintf("inference, %d floats of transformed Winograd weights.", p.WinogradLen))
	f.Var().Id(v).Op("=").Id("program").Values(jen.Dict{
		jen.Id("workspaceLen"): jen.Lit(p.WorkspaceLen),
		jen.Id("scratchLen"):   jen.Lit(p.ScratchLen),
		jen.Id("winogradLen"):  jen.Lit(p.WinogradLen),
		jen.Id("winogradSteps"): jen.Index().Op("*").Id("winogradConv").ValuesFunc(func(vals *jen.Group) {
			for i, s := range p.Steps {
				if s.Kind == plan.Conv && s.Conv.Algo == plan.Winograd {
					vals.Op("&").Id(g.winogradVar(p, i))
				}
			}
		}),
	})
	f.Line()
}

func stepOutput(s *plan.Step) string {
	if s.Out == nil {
		return "dst"
	}
	return s.Out.Layout.String()
}

// lay is the layout literal of a value, as support.go defines it.
func lay(v *plan.Value) *jen.Statement {
	l := v.Layout
	return jen.Id("layout").Values(jen.Lit(v.Buf.Offset), jen.Lit(l.C), jen.Lit(l.H), jen.Lit(l.W), jen.Lit(l.Halo), jen.Lit(l.Block))
}

// windowLit is a pooling window as templates/pool.go's window type.
func windowLit(p *graph.Pool) *jen.Statement {
	return jen.Id("window").Values(jen.Lit(p.KH), jen.Lit(p.KW), jen.Lit(p.StrideH), jen.Lit(p.StrideW),
		jen.Lit(p.PadH), jen.Lit(p.PadW), jen.Lit(p.DilH), jen.Lit(p.DilW), jen.Lit(p.CountPad))
}

func lays(vs []*plan.Value) *jen.Statement {
	return jen.Index().Id("layout").ValuesFunc(func(g *jen.Group) {
		for _, v := range vs {
			l := v.Layout
			g.Values(jen.Lit(v.Buf.Offset), jen.Lit(l.C), jen.Lit(l.H), jen.Lit(l.W), jen.Lit(l.Halo), jen.Lit(l.Block))
		}
	})
}

// span is the part of a step a call computes: units lo to hi-1 (see
// plan.Step.Units), with Winograd scratch space scratch floats past the
// step's.
type span struct{ lo, hi, scratch jen.Code }

// whole is all of step s.
func whole(s *plan.Step) span { return span{jen.Lit(0), jen.Lit(s.Units()), jen.Lit(0)} }

// partSpan is the part named by forwardPart's parameters.
var partSpan = span{jen.Id("lo"), jen.Id("hi"), jen.Id("scratch")}

// asmCall calls step s's assembly kernel name on part sp; a Winograd
// step's three phase kernels run block by block (sp's units are blocks).
func asmCall(name string, s *plan.Step, sp span) *jen.Statement {
	if s.Kind == plan.Conv && s.Conv.Algo == plan.Winograd {
		c := s.Conv
		b, r0, r1 := jen.Id("b"), jen.Lit(0), jen.Lit(c.BlockRows)
		return jen.For(jen.Id("b").Op(":=").Add(sp.lo), jen.Id("b").Op("<").Add(sp.hi), jen.Id("b").Op("++")).Block(
			inputCall(name, s, b, r0, r1, sp.scratch),
			productsAndOutput(name, s, b, r0, r1, allTiles(c), [2]jen.Code{jen.Lit(0), jen.Lit(c.OutBlocks())}, sp.scratch),
		)
	}
	return jen.Id(name).Call(jen.Op("&").Id("ws").Index(jen.Lit(0)), jen.Op("&").Id(weightsOf(s)).Index(jen.Lit(0)), sp.lo, sp.hi, sp.scratch)
}

// allTiles is every output channel tile of c.
func allTiles(c *plan.ConvStep) [2]jen.Code { return [2]jen.Code{jen.Lit(0), jen.Lit(len(c.Tiles))} }

// tileBlocks is the first output channel block of c's tile i (i may be
// len(c.Tiles): the block after the last), from a table of them.
func tileBlocks(c *plan.ConvStep, i jen.Code) *jen.Statement { return blockTable(c).Index(i) }

// blockTable is the first output channel block of each of c's tiles and
// the block after the last.
func blockTable(c *plan.ConvStep) *jen.Statement {
	return jen.Index().Int().ValuesFunc(func(g *jen.Group) {
		for _, t := range c.Tiles {
			g.Lit(t.Block0)
		}
		g.Lit(c.OutBlocks())
	})
}

// inputCall transforms every input channel block of tile rows r0 to
// r1-1 of block blk of Winograd step s, into V in the scratch space
// scratch floats past the step's.
func inputCall(name string, s *plan.Step, blk, r0, r1, scratch jen.Code) *jen.Statement {
	return phaseCall(name, "In", s, blk, jen.Lit(0), jen.Lit(s.Conv.InBlocks()), r0, r1, allTiles(s.Conv), scratch, scratch)
}

// productsAndOutput computes tile rows r0 to r1-1 of block blk of
// Winograd step s for output channel tiles tiles, which cover output
// channel blocks ocb: every transform element's products, then the
// output transform, with V and M in the scratch space scratch floats
// past the step's.
func productsAndOutput(name string, s *plan.Step, blk, r0, r1 jen.Code, tiles, ocb [2]jen.Code, scratch jen.Code) *jen.Statement {
	a := s.Conv.WinogradM + 2
	return phaseCall(name, "Gemm", s, blk, jen.Lit(0), jen.Lit(a*a), r0, r1, tiles, scratch, scratch).Line().
		Add(phaseCall(name, "Out", s, blk, ocb[0], ocb[1], r0, r1, tiles, scratch, scratch))
}

// winogradGrid runs units lo to hi-1 of Winograd step s's grid of
// (tile row, output channel tile) units, numbered row-major by the rows
// schedule and tile-major by the channels schedule (whose lo and hi
// count (tile row, channel block) units; see templates' grid.go), block
// by block in the part's own scratch space: the input
// of every tile row the part covers, then each of its rectangles'
// products and outputs.
func winogradGrid(name string, s *plan.Step, kind plan.PhaseKind) *jen.Statement {
	c := s.Conv
	br := jen.Lit(c.BlockRows)
	part := jen.Id("winogradRowsPart").Call(jen.Id("lo"), jen.Id("hi"), jen.Lit(len(c.Tiles)))
	if kind == plan.WinogradChannels {
		part = jen.Id("winogradChannelsPart").Call(jen.Id("lo"), jen.Id("hi"), jen.Lit(c.TilesY), blockTable(c))
	}
	at := func(v, field string, i int) *jen.Statement { return jen.Id(v).Dot(field).Index(jen.Lit(i)) }
	rowsIn := func(v string) *jen.Statement { // v's tile rows in block b
		return jen.Id("lineRange").Call(at(v, "rows", 0), at(v, "rows", 1), jen.Id("b"), br)
	}
	tiles := [2]jen.Code{at("q", "tiles", 0), at("q", "tiles", 1)}
	sc := jen.Id("scratch")
	return jen.Block(
		jen.Id("p").Op(":=").Add(part),
		jen.For(jen.Id("b").Op(":=").Add(at("p", "rows", 0)).Op("/").Add(br), jen.Id("b").Op("*").Add(br).Op("<").Add(at("p", "rows", 1)), jen.Id("b").Op("++")).Block(
			jen.List(jen.Id("r0"), jen.Id("r1")).Op(":=").Add(rowsIn("p")),
			inputCall(name, s, jen.Id("b"), jen.Id("r0"), jen.Id("r1"), sc),
			jen.For(jen.List(jen.Id("_"), jen.Id("q")).Op(":=").Range().Id("p").Dot("rects").Index(jen.Op(":").Id("p").Dot("n"))).Block(
				jen.If(jen.List(jen.Id("q0"), jen.Id("q1")).Op(":=").Add(rowsIn("q")), jen.Id("q0").Op("<").Id("q1")).Block(
					productsAndOutput(name, s, jen.Id("b"), jen.Id("q0"), jen.Id("q1"), tiles, [2]jen.Code{tileBlocks(c, tiles[0]), tileBlocks(c, tiles[1])}, sc),
				),
			),
		),
	)
}

// phaseCall calls the Winograd phase kernel name+phase for tile rows r0
// to r1-1 of block blk, units lo to hi-1 (the products kernel also
// output channel tiles tiles[0] to tiles[1]-1), with its transform
// temporary scratch floats past the step's and V and M vm floats past
// (see PhaseSignatures).
func phaseCall(name, phase string, s *plan.Step, blk, lo, hi, r0, r1 jen.Code, tiles [2]jen.Code, scratch, vm jen.Code) *jen.Statement {
	args := []jen.Code{jen.Op("&").Id("ws").Index(jen.Lit(0)), jen.Op("&").Id(weightsOf(s)).Index(jen.Lit(0)), blk, lo, hi, r0, r1}
	if phase == "Gemm" {
		args = append(args, tiles[:]...)
	}
	args = append(args, scratch, vm)
	return jen.Id(name + phase).Call(args...)
}

// PhasesVar is the phase table of program p's level with or without its
// assembly (see plan.Program.Phases).
func PhasesVar(p *plan.Program, asm bool) string {
	if asm {
		return "phases" + p.Target.Suffix
	}
	return "phasesGo"
}

// phaseTable declares the phase table of program p's level.
func (g *generator) phaseTable(f *jen.File, p *plan.Program, asm bool) {
	f.Comment(fmt.Sprintf("%s is how calls sharing a step between goroutines split the work.", PhasesVar(p, asm)))
	f.Var().Id(PhasesVar(p, asm)).Op("=").Index().Id("phase").ValuesFunc(func(vals *jen.Group) {
		for _, ph := range p.Phases(asm) {
			vals.Values(jen.Lit(ph.Step), jen.Lit(int(ph.Kind)), jen.Lit(ph.Block), jen.Lit(ph.Units), jen.Lit(ph.MaxParts), jen.Lit(ph.MinThreads), jen.Lit(ph.MaxThreads))
		}
	})
	f.Line()
}

// partFunc writes forwardPart, which runs part of one step of program p
// (for calls sharing each step between goroutines; see parallel.go).
func (g *generator) partFunc(f *jen.File, p *plan.Program, portable bool) {
	name := PartName(p, portable)
	calls := g.calls[p]
	params := []jen.Code{jen.List(jen.Id("ws"), jen.Id("w"), jen.Id("u"), jen.Id("dst"), jen.Id("src")).Index().Float32()}
	if portable {
		params = append(params, jen.Id("asm").Bool())
	}
	params = append(params, jen.Id("ph").Op("*").Id("phase"), jen.List(jen.Id("lo"), jen.Id("hi"), jen.Id("scratch")).Int())
	f.Comment(fmt.Sprintf("%s runs units lo to hi-1 of one phase of the %s program.", name, p.Target.Name))
	f.Func().Id(name).Params(params...).BlockFunc(func(body *jen.Group) {
		if portable && len(calls) == 0 {
			body.Id("_").Op("=").Id("asm")
		}
		body.Switch(jen.Id("ph").Dot("step")).BlockFunc(func(sw *jen.Group) {
			for i, s := range p.Steps {
				sp := partSpan
				if s.Units() == 1 {
					sp = whole(s) // runs whole; lo, hi are 0, 1
				}
				code := g.stepCode(p, i, s, sp)
				if name, ok := calls[i]; ok && s.Kind == plan.Conv && s.Conv.Algo == plan.Winograd {
					// The assembly runs a range of tile rows, or one of the
					// three phases of one block with V and M shared.
					code = jen.Switch(jen.Id("ph").Dot("kind")).BlockFunc(func(k *jen.Group) {
						k.Case(jen.Lit(int(plan.WinogradRows))).Add(winogradGrid(name, s, plan.WinogradRows))
						k.Case(jen.Lit(int(plan.WinogradChannels))).Add(winogradGrid(name, s, plan.WinogradChannels))
						for j, phase := range WinogradPhases {
							k.Case(jen.Lit(int(plan.WinogradIn) + j)).Add(phaseCall(name, phase, s, jen.Id("ph").Dot("blk"), jen.Id("lo"), jen.Id("hi"),
								jen.Lit(0), jen.Lit(s.Conv.BlockRows), allTiles(s.Conv), jen.Id("scratch"), jen.Lit(0)))
						}
					})
					if portable {
						code = jen.If(jen.Id("asm")).Block(code).Else().Block(g.stepCall(p, i, s, sp))
					}
				}
				sw.Case(jen.Lit(i)).Add(code)
			}
		})
	})
	f.Line()
}

// weightsOf names the weights a conv step's kernel reads: u, the
// transformed weights, for a Winograd step; else w.
func weightsOf(s *plan.Step) string {
	if s.Kind == plan.Conv && s.Conv.Algo == plan.Winograd {
		return "u"
	}
	return "w"
}

// weightSlice is w[off : off+n].
func weightSlice(off, n int) *jen.Statement {
	return jen.Id("w").Index(jen.Lit(off).Op(":").Lit(off + n))
}

// stepCode runs part sp of step i of program p: its assembly kernel if
// it has one (in the portable program, when asm says so), else its Go
// call.
func (g *generator) stepCode(p *plan.Program, i int, s *plan.Step, sp span) jen.Code {
	name, ok := g.calls[p][i]
	switch {
	case !ok:
		return g.stepCall(p, i, s, sp)
	case g.portable(p):
		return jen.If(jen.Id("asm")).Block(asmCall(name, s, sp)).Else().Block(g.stepCall(p, i, s, sp))
	}
	return asmCall(name, s, sp)
}

// stepCall is the Go call that runs step i of program p: its Go kernel
// for a convolution (the portable program's only), else a helper.
func (g *generator) stepCall(p *plan.Program, i int, s *plan.Step, sp span) jen.Code {
	call := goCalls[s.Kind]
	if call == nil {
		panic(fmt.Sprintf("gen: no call for step kind %v", s.Kind)) // TestGoCalls: every kind has one
	}
	return call(g, p, i, s, sp)
}

// A goCall is the Go call that runs part sp of step i of program p.
type goCall func(g *generator, p *plan.Program, i int, s *plan.Step, sp span) jen.Code

// goCalls hold each kind of step's Go call: the helpers of
// templates/support.go, or a convolution's generated Go kernel.
var goCalls = map[plan.Kind]goCall{
	plan.Pack: func(g *generator, p *plan.Program, i int, s *plan.Step, sp span) jen.Code {
		return jen.Id("packInput").Call(jen.Id("ws"), lay(s.Out), jen.Id("src"), sp.lo, sp.hi)
	},
	plan.Unpack: func(g *generator, p *plan.Program, i int, s *plan.Step, sp span) jen.Code {
		return jen.Id("unpackOutput").Call(jen.Id("dst"), jen.Id("ws"), lay(s.In[0]))
	},
	plan.Conv: func(g *generator, p *plan.Program, i int, s *plan.Step, sp span) jen.Code {
		if !g.portable(p) {
			panic(fmt.Sprintf("gen: step %d of the %s program has no assembly kernel", i, p.Target.Name)) // asm implements every convolution
		}
		return jen.Id(kernelName(i)).Call(jen.Id("ws"), jen.Id(weightsOf(s)), sp.lo, sp.hi, sp.scratch)
	},
	plan.Linear: func(g *generator, p *plan.Program, i int, s *plan.Step, sp span) jen.Code {
		l := s.Linear
		return jen.Id("linear").Call(jen.Id("ws"), lay(s.In[0]), lay(s.Out),
			weightSlice(l.WeightOff, l.Out*l.K), weightSlice(l.BiasOff, l.Out), jen.Lit(l.K), actLit(s.Act))
	},
	plan.MaxPool: func(g *generator, p *plan.Program, i int, s *plan.Step, sp span) jen.Code {
		lo, hi := sp.lo, sp.hi
		if s.Units() == 1 {
			lo, hi = jen.Lit(0), jen.Lit(s.Out.Layout.H)
		}
		return jen.Id("maxPool").Call(jen.Id("ws"), lay(s.In[0]), lay(s.Out), windowLit(s.Pool), lo, hi)
	},
	plan.AvgPool: func(g *generator, p *plan.Program, i int, s *plan.Step, sp span) jen.Code {
		return jen.Id("avgPool").Call(jen.Id("ws"), lay(s.In[0]), lay(s.Out), windowLit(s.Pool))
	},
	plan.LayerNorm: func(g *generator, p *plan.Program, i int, s *plan.Step, sp span) jen.Code {
		n := s.Out.Layout.CB() * s.Out.Layout.Block
		return jen.Id("layerNorm").Call(jen.Id("ws"), lay(s.In[0]), lay(s.Out),
			weightSlice(s.Norm.WeightOff, n), weightSlice(s.Norm.BiasOff, n), jen.Lit(s.Norm.Eps), sp.lo, sp.hi)
	},
	plan.GRN: func(g *generator, p *plan.Program, i int, s *plan.Step, sp span) jen.Code {
		n := s.Out.Layout.CB() * s.Out.Layout.Block
		return jen.Id("grn").Call(jen.Id("ws"), lay(s.In[0]), lay(s.Out),
			weightSlice(s.GRN.GammaOff, n), weightSlice(s.GRN.BetaOff, n), jen.Lit(s.GRN.Eps), jen.Lit(s.GRN.ScratchOff))
	},
	plan.Gather: func(g *generator, p *plan.Program, i int, s *plan.Step, sp span) jen.Code {
		return jen.Id("gather").Call(jen.Id("ws"), lay(s.In[0]), lay(s.Out), jen.Index().Int().ValuesFunc(func(vals *jen.Group) {
			for _, c := range s.Channels {
				vals.Lit(c)
			}
		}))
	},
	plan.AdaptiveAvgPool: func(g *generator, p *plan.Program, i int, s *plan.Step, sp span) jen.Code {
		return jen.Id("adaptiveAvgPool").Call(jen.Id("ws"), lay(s.In[0]), lay(s.Out))
	},
	plan.GlobalAvgPool: func(g *generator, p *plan.Program, i int, s *plan.Step, sp span) jen.Code {
		return jen.Id("globalAvgPool").Call(jen.Id("ws"), lay(s.In[0]), lay(s.Out))
	},
	plan.Add: func(g *generator, p *plan.Program, i int, s *plan.Step, sp span) jen.Code {
		return jen.Id("add").Call(jen.Id("ws"), lays(s.In), lay(s.Out), actLit(s.Act), sp.lo, sp.hi)
	},
	plan.Concat: func(g *generator, p *plan.Program, i int, s *plan.Step, sp span) jen.Code {
		return jen.Id("concat").Call(jen.Id("ws"), lays(s.In), lay(s.Out))
	},
	plan.Affine: func(g *generator, p *plan.Program, i int, s *plan.Step, sp span) jen.Code {
		n := s.Out.Layout.CB() * s.Out.Layout.Block
		return jen.Id("affine").Call(jen.Id("ws"), lay(s.In[0]), lay(s.Out),
			weightSlice(s.Affine.ScaleOff, n), weightSlice(s.Affine.ShiftOff, n), actLit(s.Act), sp.lo, sp.hi)
	},
	plan.Activation: func(g *generator, p *plan.Program, i int, s *plan.Step, sp span) jen.Code {
		return jen.Id("activation").Call(jen.Id("ws"), lay(s.In[0]), lay(s.Out), actLit(s.Act), sp.lo, sp.hi)
	},
	plan.Mul: func(g *generator, p *plan.Program, i int, s *plan.Step, sp span) jen.Code {
		if a, b := s.In[0].Layout, s.In[1].Layout; a.H == b.H && a.W == b.W {
			return jen.Id("mulElementwise").Call(jen.Id("ws"), lay(s.In[0]), lay(s.In[1]), lay(s.Out), actLit(s.Act), sp.lo, sp.hi)
		}
		return jen.Id("mul").Call(jen.Id("ws"), lay(s.In[0]), lay(s.In[1]), lay(s.Out), actLit(s.Act), sp.lo, sp.hi)
	},
	plan.Flatten: func(g *generator, p *plan.Program, i int, s *plan.Step, sp span) jen.Code {
		return jen.Id("flatten").Call(jen.Id("ws"), lay(s.In[0]), lay(s.Out))
	},
}

// kernelName is the Go kernel of step i.
func kernelName(i int) string { return fmt.Sprintf("step%d", i) }
