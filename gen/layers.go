package gen

import (
	"fmt"

	"github.com/dave/jennifer/jen"
)

// layersTestFile writes BenchmarkLayers, which times every step of
// forward on its own (sub-benchmarks named after the steps, so benchstat
// can compare them) and reports each one's GFLOP/s: the per-layer view
// of where the time goes, on the user's own machine.
func (g *generator) layersTestFile(asmCalls map[int]string) *jen.File {
	f := g.newFile()
	f.ImportName("testing", "testing")
	f.Comment("BenchmarkLayers times each step of forward alone, on a workspace")
	f.Comment("holding the activations of a real input.")
	f.Func().Id("BenchmarkLayers").Params(jen.Id("b").Op("*").Qual("testing", "B")).BlockFunc(func(body *jen.Group) {
		body.List(jen.Id("inputs"), jen.Id("_")).Op(":=").Id("goldenSamples").Call(jen.Id("b"))
		body.List(jen.Id("w"), jen.Id("u")).Op(":=").Id("loadWeights").Call()
		body.Id("ws").Op(":=").Make(jen.Index().Float32(), jen.Id("workspaceLen"))
		body.Id("dst").Op(":=").Make(jen.Index().Float32(), jen.Id("OutputLen"))
		body.Id("src").Op(":=").Id("inputs").Index(jen.Lit(0))
		body.Id("forward").Call(jen.Id("ws"), jen.Id("w"), jen.Id("u"), jen.Id("dst"), jen.Id("src"))
		body.Id("steps").Op(":=").Index().Struct(
			jen.Id("name").String(),
			jen.Id("flops").Float64(),
			jen.Id("run").Func().Params(),
		).ValuesFunc(func(vals *jen.Group) {
			for i, s := range g.p.Steps {
				call := g.stepCall(i, s)
				var run jen.Code = call
				if name, ok := asmCalls[i]; ok {
					run = jen.If(jen.Id("useAsm")).Block(asmCall(name, s)).Else().Block(call)
				}
				vals.Values(
					jen.Lit(fmt.Sprintf("%02d_%s", i, s.Name)),
					jen.Lit(float64(s.FLOPs)),
					jen.Func().Params().Block(run),
				)
			}
		})
		body.For(jen.List(jen.Id("_"), jen.Id("s")).Op(":=").Range().Id("steps")).Block(
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
	return f
}
