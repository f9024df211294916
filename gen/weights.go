package gen

import (
	"github.com/dave/jennifer/jen"

	"github.com/acgen/acgen/plan"
)

// weightsFile embeds weights.bin. Weights as Go literals do not scale
// (millions of them take the compiler minutes and gigabytes); an embedded
// file costs the compiler nothing. It also lists the Winograd steps,
// whose transformed weights the package computes from the 3x3 kernels
// in weights.bin when it loads, rather than carrying them (they are
// (m+2)^2/9 times as large).
func (g *generator) weightsFile() *jen.File {
	f := g.newFile()
	f.Anon("embed")
	f.Comment("weightsRaw is the packed weights: float32, little-endian, after a")
	f.Comment("header of weightsHeader bytes (the generated-code line).")
	f.Comment("//go:embed weights.bin")
	f.Var().Id("weightsRaw").String()
	f.Line()
	f.Const().Defs(
		jen.Id("weightsHeader").Op("=").Lit(BinaryHeaderLen),
		jen.Comment("workspaceLen is the floats of scratch one inference uses."),
		jen.Id("workspaceLen").Op("=").Lit(g.p.WorkspaceLen),
		jen.Comment("winogradLen is the floats of transformed Winograd weights."),
		jen.Id("winogradLen").Op("=").Lit(g.p.WinogradLen),
	)
	f.Line()
	f.Comment("winogradSteps are the steps whose weights loadWeights transforms.")
	f.Var().Id("winogradSteps").Op("=").Index().Op("*").Id("winogradConv").ValuesFunc(func(vals *jen.Group) {
		for i, s := range g.p.Steps {
			if s.Kind == plan.Conv && s.Conv.Algo == plan.Winograd {
				vals.Op("&").Id(kernelName(i) + "Winograd")
			}
		}
	})
	return f
}
