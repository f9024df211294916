package gen

import (
	"fmt"
	"go/format"
	"strings"

	"github.com/dave/jennifer/jen"

	"github.com/acgen/acgen/act"
	"github.com/acgen/acgen/plan"
)

// actFuncName is the generated package's function of activation f.
func actFuncName(f *act.Func) string {
	name := "act"
	for _, part := range strings.Split(f.Name(), "_") {
		name += strings.ToUpper(part[:1]) + part[1:]
	}
	return name
}

// actLit is the actKind value of a step's activation, as the template
// kernels take it.
func actLit(a plan.Act) *jen.Statement {
	f := a.Func()
	return jen.Id("actKind").Values(jen.Lit(f.Index()), jen.Lit(a.Param), jen.Lit(!f.ZeroAtZero))
}

// actCall is the Go expression of activation a applied to v, for the
// generated convolution kernels: ReLU and ReLU6 written out, the others
// a call of their (inlinable) function.
func actCall(a plan.Act, v *jen.Statement) *jen.Statement {
	switch {
	case a.None():
		return v
	case a.Is("relu"):
		return jen.Max(v, jen.Lit(0))
	case a.Is("relu6"):
		return jen.Min(jen.Max(v, jen.Lit(0)), jen.Lit(6))
	}
	return jen.Id(actFuncName(a.F)).Call(v, jen.Lit(a.Param))
}

// actFile is act.go: one function per row of the act table, and act,
// which the template kernels call with an actKind.
func actFile() []byte {
	var b strings.Builder
	b.WriteString(Header + "\n\npackage PKG\n\nimport \"math\"\n\n")
	b.WriteString("// act applies activation a.k, a row of acgen's act table.\nfunc act(v float32, a actKind) float32 {\n\tswitch a.k {\n")
	for i, f := range act.Table[1:] {
		fmt.Fprintf(&b, "\tcase %d:\n\t\treturn %s(v, a.p)\n", i+1, actFuncName(f))
	}
	b.WriteString("\t}\n\treturn v\n}\n\n")
	for _, f := range act.Table[1:] {
		fmt.Fprintf(&b, "// %s is %s.\nfunc %s(v, p float32) float32 { return %s }\n\n", actFuncName(f), f.Name(), actFuncName(f), f.Go)
	}
	b.WriteString(act.Helpers)
	b.WriteString("\nvar _ = math.Exp\n")
	src, err := format.Source([]byte(b.String()))
	if err != nil {
		panic(fmt.Sprintf("gen: act.go does not parse: %v", err)) // the table's Go expressions are checked by TestActFile
	}
	return src
}
