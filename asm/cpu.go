package asm

import (
	"bytes"
	"fmt"
	"sort"

	"github.com/dave/jennifer/jen"
	"github.com/mmcloughlin/avo/build"
	"github.com/mmcloughlin/avo/reg"

	"github.com/acgen/acgen/gen"
)

// cpuFunctions adds cpuid and xgetbv, which the CPU check calls; the
// generated package needs nothing outside the standard library.
func cpuFunctions(ctx *build.Context) {
	ctx.Function("cpuid")
	ctx.Attributes(0)
	ctx.SignatureExpr("func(eaxArg, ecxArg uint32) (eax, ebx, ecx, edx uint32)")
	ctx.Doc("cpuid executes CPUID for leaf eaxArg, subleaf ecxArg.")
	ctx.Load(ctx.Param("eaxArg"), reg.EAX)
	ctx.Load(ctx.Param("ecxArg"), reg.ECX)
	ctx.CPUID()
	ctx.Store(reg.EAX, ctx.Return("eax"))
	ctx.Store(reg.EBX, ctx.Return("ebx"))
	ctx.Store(reg.ECX, ctx.Return("ecx"))
	ctx.Store(reg.EDX, ctx.Return("edx"))
	ctx.RET()

	ctx.Function("xgetbv")
	ctx.Attributes(0)
	ctx.SignatureExpr("func() (eax, edx uint32)")
	ctx.Doc("xgetbv reads XCR0, the register saying which state the OS saves.")
	ctx.XORL(reg.ECX, reg.ECX)
	ctx.XGETBV()
	ctx.Store(reg.EAX, ctx.Return("eax"))
	ctx.Store(reg.EDX, ctx.Return("edx"))
	ctx.RET()
}

// feature is where CPUID reports an instruction set extension.
type feature struct {
	leaf uint32
	reg  string // "ebx" or "ecx" of that leaf
	bit  uint
}

// features maps avo's names for extensions to their CPUID bits. An
// extension missing here fails generation rather than a run.
var features = map[string]feature{
	"AVX":  {1, "ecx", 28},
	"FMA3": {1, "ecx", 12},
	"AVX2": {7, "ebx", 5},
}

// cpuCheckFile writes useAsm: true when the CPU has every extension the
// kernels use (isa, as avo recorded it) and the OS saves the YMM state.
func cpuCheckFile(pkg string, isa []string) ([]byte, error) {
	for _, x := range isa {
		if _, ok := features[x]; !ok && x != "SSE" && x != "SSE2" {
			return nil, fmt.Errorf("asm: the kernels use %s, which the CPU check does not know", x)
		}
	}
	f := jen.NewFile(pkg)
	f.HeaderComment(gen.Header)
	f.HeaderComment("")
	f.HeaderComment("//go:build " + buildTag)
	f.Comment("useAsm reports whether this CPU runs the assembly kernels.")
	f.Var().Id("useAsm").Op("=").Id("cpuSupports").Call()
	f.Line()
	f.Comment(fmt.Sprintf("cpuSupports checks the extensions the kernels use (%v, as avo", isa))
	f.Comment("recorded them) and that the OS saves YMM registers across context switches.")
	var needed []string
	leaves := map[uint32]bool{}
	for _, x := range isa {
		if ft, ok := features[x]; ok {
			needed = append(needed, x)
			leaves[ft.leaf] = true
		}
	}
	f.Func().Id("cpuSupports").Params().Bool().BlockFunc(func(g *jen.Group) {
		g.List(jen.Id("maxLeaf"), jen.Id("_"), jen.Id("_"), jen.Id("_")).Op(":=").Id("cpuid").Call(jen.Lit(0), jen.Lit(0))
		g.If(jen.Id("maxLeaf").Op("<").Lit(7)).Block(jen.Return(jen.False()))
		g.List(jen.Id("_"), jen.Id("_"), jen.Id("ecx1"), jen.Id("_")).Op(":=").Id("cpuid").Call(jen.Lit(1), jen.Lit(0))
		if leaves[7] {
			g.List(jen.Id("_"), jen.Id("ebx7"), jen.Id("_"), jen.Id("_")).Op(":=").Id("cpuid").Call(jen.Lit(7), jen.Lit(0))
		}
		g.If(jen.Id("ecx1").Op("&").Parens(jen.Lit(1).Op("<<").Lit(27)).Op("==").Lit(0)).Block(
			jen.Comment("no OSXSAVE: XGETBV is not available"),
			jen.Return(jen.False()),
		)
		g.If(jen.List(jen.Id("xcr0"), jen.Id("_")).Op(":=").Id("xgetbv").Call(), jen.Id("xcr0").Op("&").Lit(6).Op("!=").Lit(6)).Block(
			jen.Comment("the OS does not save XMM and YMM state"),
			jen.Return(jen.False()),
		)
		for _, x := range needed {
			ft := features[x]
			v := fmt.Sprintf("%s%d", ft.reg, ft.leaf)
			g.If(jen.Id(v).Op("&").Parens(jen.Lit(1).Op("<<").Lit(int(ft.bit))).Op("==").Lit(0)).Block(
				jen.Comment("no "+x),
				jen.Return(jen.False()),
			)
		}
		g.Return(jen.True())
	})
	var buf bytes.Buffer
	if err := f.Render(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// noAsmFile is compiled where the assembly is not: useAsm is constant
// false, so the compiler drops every call of the stand-ins below.
func noAsmFile(pkg string, calls map[int]string) []byte {
	f := jen.NewFile(pkg)
	f.HeaderComment(gen.Header)
	f.HeaderComment("")
	f.HeaderComment("//go:build !amd64 || purego")
	f.Comment("useAsm is false where there are no assembly kernels.")
	f.Const().Id("useAsm").Op("=").False()
	var steps []int
	for i := range calls {
		steps = append(steps, i)
	}
	sort.Ints(steps)
	for _, i := range steps {
		f.Line()
		f.Func().Id(calls[i]).Params(jen.List(jen.Id("ws"), jen.Id("w")).Op("*").Float32()).Block(
			jen.Panic(jen.Lit("acgen: assembly kernel called where it does not exist")),
		)
	}
	var buf bytes.Buffer
	if err := f.Render(&buf); err != nil {
		panic(err) // static code; a bug if it does not render
	}
	return buf.Bytes()
}
