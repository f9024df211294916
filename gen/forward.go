package gen

import (
	"fmt"

	"github.com/dave/jennifer/jen"

	"github.com/acgen/acgen/plan"
)

// forwardFile writes forward, which runs the steps in order. Convolutions
// call their own specialised function (an assembly kernel when the CPU
// has one, else the Go kernel of kernels.go); the cheap ops call the
// shared helpers of support.go with constant arguments.
func (g *generator) forwardFile(asmCalls map[int]string) *jen.File {
	f := g.newFile()
	f.Comment("forward runs one sample from src to dst, using ws as scratch, w as")
	f.Comment("the packed weights and u as the transformed Winograd weights.")
	f.Func().Id("forward").Params(jen.List(jen.Id("ws"), jen.Id("w"), jen.Id("u"), jen.Id("dst"), jen.Id("src")).Index().Float32()).BlockFunc(func(body *jen.Group) {
		for i, s := range g.p.Steps {
			body.Comment(fmt.Sprintf("%s: %s -> %s", s.Name, DescribeStep(s), stepOutput(s)))
			call := g.stepCall(i, s)
			if name, ok := asmCalls[i]; ok {
				body.If(jen.Id("useAsm")).Block(asmCall(name, s)).Else().Block(call)
			} else {
				body.Add(call)
			}
		}
	})
	return f
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
	return jen.Id("layout").Values(jen.Lit(v.Buf.Offset), jen.Lit(l.C), jen.Lit(l.H), jen.Lit(l.W), jen.Lit(l.Halo))
}

func lays(vs []*plan.Value) *jen.Statement {
	return jen.Index().Id("layout").ValuesFunc(func(g *jen.Group) {
		for _, v := range vs {
			l := v.Layout
			g.Values(jen.Lit(v.Buf.Offset), jen.Lit(l.C), jen.Lit(l.H), jen.Lit(l.W), jen.Lit(l.Halo))
		}
	})
}

// asmCall calls step s's assembly kernel name.
func asmCall(name string, s *plan.Step) *jen.Statement {
	return jen.Id(name).Call(jen.Op("&").Id("ws").Index(jen.Lit(0)), jen.Op("&").Id(weightsOf(s)).Index(jen.Lit(0)))
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

func (g *generator) stepCall(i int, s *plan.Step) jen.Code {
	ws := jen.Id("ws")
	act := jen.Lit(int(s.Act))
	switch s.Kind {
	case plan.Pack:
		return jen.Id("packInput").Call(ws, lay(s.Out), jen.Id("src"))
	case plan.Unpack:
		return jen.Id("unpackOutput").Call(jen.Id("dst"), ws, lay(s.In[0]))
	case plan.Conv:
		return jen.Id(kernelName(i)).Call(ws, jen.Id(weightsOf(s)))
	case plan.Linear:
		l := s.Linear
		return jen.Id("linear").Call(ws, lay(s.In[0]), lay(s.Out),
			weightSlice(l.WeightOff, l.Out*l.K), weightSlice(l.BiasOff, l.Out), jen.Lit(l.K), act)
	case plan.MaxPool, plan.AvgPool:
		fn := map[plan.Kind]string{plan.MaxPool: "maxPool", plan.AvgPool: "avgPool"}[s.Kind]
		return jen.Id(fn).Call(ws, lay(s.In[0]), lay(s.Out), jen.Lit(s.Pool.K), jen.Lit(s.Pool.Stride), jen.Lit(s.Pool.Pad))
	case plan.GlobalAvgPool:
		return jen.Id("globalAvgPool").Call(ws, lay(s.In[0]), lay(s.Out))
	case plan.Add:
		return jen.Id("add").Call(ws, lays(s.In), lay(s.Out), act)
	case plan.Concat:
		return jen.Id("concat").Call(ws, lays(s.In), lay(s.Out))
	case plan.Affine:
		n := s.Out.Layout.CB() * plan.Block
		return jen.Id("affine").Call(ws, lay(s.In[0]), lay(s.Out),
			weightSlice(s.Affine.ScaleOff, n), weightSlice(s.Affine.ShiftOff, n), act)
	case plan.Activation:
		return jen.Id("activation").Call(ws, lay(s.In[0]), lay(s.Out), act)
	case plan.Flatten:
		return jen.Id("flatten").Call(ws, lay(s.In[0]), lay(s.Out))
	}
	panic(fmt.Sprintf("gen: no call for step kind %v", s.Kind)) // plan makes only the kinds above
}

// kernelName is the Go kernel of step i.
func kernelName(i int) string { return fmt.Sprintf("step%d", i) }
