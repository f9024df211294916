package gen

import (
	"fmt"

	"github.com/dave/jennifer/jen"

	"github.com/acgen/acgen/plan"
)

// layersTestFile writes BenchmarkLayers, which times every step of the
// level Infer runs on its own (sub-benchmarks named after the steps, so
// benchstat can compare them) and reports each one's GFLOP/s: the
// per-layer view of where the time goes, on the user's own machine.
func (g *generator) layersTestFile() *jen.File {
	f := g.newFile()
	f.ImportName("testing", "testing")
	f.ImportName("time", "time")
	f.Comment("layerStep is one step of a program, to time alone.")
	f.Type().Id("layerStep").Struct(
		jen.Id("name").String(),
		jen.Id("flops").Float64(),
		jen.Id("run").Func().Params(),
	)
	f.Line()
	f.Comment("levelLayers lists each level's steps over a workspace.")
	f.Var().Id("levelLayers").Op("=").Map(jen.String()).Func().Params(jen.List(jen.Id("ws"), jen.Id("w"), jen.Id("u")).Index().Float32()).Index().Id("layerStep").Values(jen.Dict{
		jen.Lit("go"): jen.Func().Params(jen.List(jen.Id("ws"), jen.Id("w"), jen.Id("u")).Index().Float32()).Index().Id("layerStep").Block(
			jen.Return(jen.Id("portableLayers").Call(jen.Id("ws"), jen.Id("w"), jen.Id("u"), jen.False())),
		),
	})
	f.Line()
	g.layerList(f, g.p, "portableLayers", true)
	f.Comment("BenchmarkLayers times each step of the current level alone, on a")
	f.Comment("workspace holding the activations of a real input.")
	f.Func().Id("BenchmarkLayers").Params(jen.Id("b").Op("*").Qual("testing", "B")).BlockFunc(func(body *jen.Group) {
		layerBenchSetup(body)
		body.For(jen.List(jen.Id("_"), jen.Id("s")).Op(":=").Range().Id("levelLayers").Index(jen.Id("l").Dot("name")).Call(jen.Id("ws"), jen.Id("w"), jen.Id("u"))).Block(
			jen.Id("b").Dot("Run").Call(jen.Id("s").Dot("name"), jen.Func().Params(jen.Id("b").Op("*").Qual("testing", "B")).Block(
				jen.For(jen.Id("i").Op(":=").Lit(0), jen.Id("i").Op("<").Id("b").Dot("N"), jen.Id("i").Op("++")).Block(
					jen.Id("s").Dot("run").Call(),
				),
				jen.If(jen.Id("s").Dot("flops").Op(">").Lit(0)).Block(
					jen.Id("b").Dot("ReportMetric").Call(
						jen.Id("s").Dot("flops").Op("*").Float64().Parens(jen.Id("b").Dot("N")).Op("/").Id("b").Dot("Elapsed").Call().Dot("Seconds").Call().Op("/").Lit(1e9),
						jen.Lit("GFLOP/s"),
					),
				),
			)),
		)
	})
	f.Line()
	f.Comment("BenchmarkLayersInContext times each step of the current level inside")
	f.Comment("whole inferences: each iteration runs every step in order, as Infer")
	f.Comment("does, so that a step finds its weights and input where the steps")
	f.Comment("before it left them (in memory, or in caches they shared), not")
	f.Comment("warm from its own last run as in BenchmarkLayers. Its metric")
	f.Comment("µs/STEP is the step's mean time; the steps' sum against their sum")
	f.Comment("in BenchmarkLayers is what running in sequence costs, step by step.")
	f.Func().Id("BenchmarkLayersInContext").Params(jen.Id("b").Op("*").Qual("testing", "B")).BlockFunc(func(body *jen.Group) {
		layerBenchSetup(body)
		body.Id("steps").Op(":=").Id("levelLayers").Index(jen.Id("l").Dot("name")).Call(jen.Id("ws"), jen.Id("w"), jen.Id("u"))
		body.Id("spent").Op(":=").Make(jen.Index().Qual("time", "Duration"), jen.Len(jen.Id("steps")))
		body.Id("b").Dot("ResetTimer").Call()
		body.For(jen.Id("i").Op(":=").Lit(0), jen.Id("i").Op("<").Id("b").Dot("N"), jen.Id("i").Op("++")).Block(
			jen.For(jen.List(jen.Id("j"), jen.Id("s")).Op(":=").Range().Id("steps")).Block(
				jen.Id("start").Op(":=").Qual("time", "Now").Call(),
				jen.Id("s").Dot("run").Call(),
				jen.Id("spent").Index(jen.Id("j")).Op("+=").Qual("time", "Since").Call(jen.Id("start")),
			),
		)
		body.For(jen.List(jen.Id("j"), jen.Id("s")).Op(":=").Range().Id("steps")).Block(
			jen.Id("b").Dot("ReportMetric").Call(
				jen.Id("spent").Index(jen.Id("j")).Dot("Seconds").Call().Op("*").Lit(1e6).Op("/").Float64().Parens(jen.Id("b").Dot("N")),
				jen.Lit("µs/").Op("+").Id("s").Dot("name"),
			),
		)
	})
	return f
}

// asmLayersTestFile registers the step lists of a's levels.
func (g *generator) asmLayersTestFile(a *arch) *jen.File {
	f := g.newFile()
	f.HeaderComment("")
	f.HeaderComment("//go:build " + a.tag)
	wsArgs := jen.List(jen.Id("ws"), jen.Id("w"), jen.Id("u")).Index().Float32()
	f.Func().Id("init").Params().BlockFunc(func(body *jen.Group) {
		for _, p := range a.progs {
			var list jen.Code
			if p == g.p {
				list = jen.Id("portableLayers").Call(jen.Id("ws"), jen.Id("w"), jen.Id("u"), jen.True())
			} else {
				list = jen.Id("layers"+p.Target.Suffix).Call(jen.Id("ws"), jen.Id("w"), jen.Id("u"))
			}
			body.Id("levelLayers").Index(jen.Lit(p.Target.Name)).Op("=").Func().Params(wsArgs).Index().Id("layerStep").Block(jen.Return(list))
		}
	})
	f.Line()
	for _, p := range a.progs {
		if p != g.p {
			g.layerList(f, p, "layers"+p.Target.Suffix, false)
		}
	}
	return f
}

// layerList writes the function listing program p's steps as closures
// over a workspace.
func (g *generator) layerList(f *jen.File, p *plan.Program, name string, portable bool) {
	params := []jen.Code{jen.List(jen.Id("ws"), jen.Id("w"), jen.Id("u")).Index().Float32()}
	if portable {
		params = append(params, jen.Id("asm").Bool())
	}
	f.Func().Id(name).Params(params...).Index().Id("layerStep").BlockFunc(func(body *jen.Group) {
		body.Id("dst").Op(":=").Make(jen.Index().Float32(), jen.Id("OutputLen"))
		body.Id("src").Op(":=").Make(jen.Index().Float32(), jen.Id("InputLen"))
		if portable && len(g.calls[p]) == 0 {
			body.Id("_").Op("=").Id("asm")
		}
		body.Return(jen.Index().Id("layerStep").ValuesFunc(func(vals *jen.Group) {
			for i, s := range p.Steps {
				vals.Values(
					jen.Lit(fmt.Sprintf("%02d_%s", i, s.Name)),
					jen.Lit(float64(s.FLOPs)),
					jen.Func().Params().Block(g.stepCode(p, i, s, whole(s))),
				)
			}
		}))
	})
	f.Line()
}

// layerBenchSetup starts a layer benchmark: the current level's weights
// and a workspace holding the activations of a real input (l, w, u, ws).
func layerBenchSetup(body *jen.Group) {
	body.List(jen.Id("inputs"), jen.Id("_")).Op(":=").Id("goldenSamples").Call(jen.Id("b"))
	body.Id("l").Op(":=").Id("current").Call()
	body.Id("w").Op(":=").Id("packedWeights").Call(jen.Id("l").Dot("align"))
	body.Id("u").Op(":=").Id("l").Dot("prog").Dot("transformed").Call(jen.Id("w"))
	body.Id("ws").Op(":=").Make(jen.Index().Float32(), jen.Id("l").Dot("prog").Dot("workspaceLen"))
	body.Id("dst").Op(":=").Make(jen.Index().Float32(), jen.Id("OutputLen"))
	body.Id("l").Dot("run").Call(jen.Id("ws"), jen.Id("w"), jen.Id("u"), jen.Id("dst"), jen.Id("inputs").Index(jen.Lit(0)))
}
