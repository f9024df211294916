package gen

import (
	"github.com/dave/jennifer/jen"
)

// netFile declares the package's constants and array types; the
// functions that use them come from templates/api.go.
func (g *generator) netFile() *jen.File {
	f := g.newFile()
	in, out := g.p.Input, g.p.Output
	f.Comment("The shape of one sample's input and output, in C,H,W order.")
	f.Const().Defs(
		jen.Id("InputChannels").Op("=").Lit(in.C),
		jen.Id("InputHeight").Op("=").Lit(in.H),
		jen.Id("InputWidth").Op("=").Lit(in.W),
		jen.Id("InputLen").Op("=").Id("InputChannels").Op("*").Id("InputHeight").Op("*").Id("InputWidth"),
		jen.Line(),
		jen.Id("OutputChannels").Op("=").Lit(out.C),
		jen.Id("OutputHeight").Op("=").Lit(out.H),
		jen.Id("OutputWidth").Op("=").Lit(out.W),
		jen.Id("OutputLen").Op("=").Id("OutputChannels").Op("*").Id("OutputHeight").Op("*").Id("OutputWidth"),
	)
	f.Line()
	f.Comment("Input and Output hold one sample, for InferArray.")
	f.Type().Defs(
		jen.Id("Input").Index(jen.Id("InputLen")).Float32(),
		jen.Id("Output").Index(jen.Id("OutputLen")).Float32(),
	)
	f.Line()
	st := g.stats()
	f.Comment("FLOPs is the floating-point operations one sample takes (a multiply-add")
	f.Comment("counts two); Params is the number of parameters after fusion.")
	f.Const().Defs(
		jen.Id("FLOPs").Op("=").Lit(st.flops),
		jen.Id("Params").Op("=").Lit(st.params),
	)
	f.Line()
	f.Comment("SpecSHA256 and WeightsSHA256 identify the files the package was")
	f.Comment("generated from (hex SHA-256 of their bytes).")
	f.Const().Defs(
		jen.Id("SpecSHA256").Op("=").Lit(g.in.Spec.SHA256),
		jen.Id("WeightsSHA256").Op("=").Lit(g.in.Weights.SHA256),
	)
	f.Line()
	f.Const().Id("packageName").Op("=").Lit(g.in.Package)
	return f
}

type stats struct {
	flops, params int64
}

func (g *generator) stats() stats {
	var s stats
	for _, st := range g.p.Steps {
		s.flops += st.FLOPs
	}
	for _, n := range g.p.Graph.Nodes {
		s.params += int64(n.Params())
	}
	return s
}
