package gen

import "github.com/dave/jennifer/jen"

// weightsFile embeds weights.bin. Weights as Go literals do not scale
// (millions of them take the compiler minutes and gigabytes); an embedded
// file costs the compiler nothing.
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
	)
	return f
}
