package asm

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/dave/jennifer/jen"
	"github.com/mmcloughlin/avo/build"
	"github.com/mmcloughlin/avo/reg"

	"github.com/acgen/acgen/gen"
	"github.com/acgen/acgen/plan"
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
	"AVX":      {1, "ecx", 28},
	"FMA3":     {1, "ecx", 12},
	"AVX2":     {7, "ebx", 5},
	"AVX512F":  {7, "ebx", 16},
	"AVX512DQ": {7, "ebx", 17},
	"AVX512BW": {7, "ebx", 30},
	"AVX512VL": {7, "ebx", 31},
}

// XCR0 bits the OS sets when it saves a register file across context
// switches: XMM and YMM state; and for AVX-512, the opmask registers and
// both halves of the ZMM state.
const (
	xcr0YMM    = 1<<1 | 1<<2
	xcr0AVX512 = xcr0YMM | 1<<5 | 1<<6 | 1<<7
)

// asmLevel is one assembly program and what its kernels use.
type asmLevel struct {
	prog *plan.Program
	isa  []string // as avo recorded it
}

// checkName is the function that says whether this CPU runs level l.
func (l asmLevel) checkName() string { return "supports" + l.prog.Target.Suffix }

// cpuCheckFile writes, for each level, a check that the CPU has every
// extension its kernels use (as avo recorded them) and that the OS saves
// the registers they use.
func cpuCheckFile(pkg string, levels []asmLevel) ([]byte, error) {
	f := jen.NewFile(pkg)
	f.HeaderComment(gen.Header)
	f.HeaderComment("")
	f.HeaderComment("//go:build " + buildTag)
	for _, l := range levels {
		if err := cpuCheck(f, l); err != nil {
			return nil, err
		}
	}
	var buf bytes.Buffer
	if err := f.Render(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func cpuCheck(f *jen.File, l asmLevel) error {
	var needed []string
	leaves := map[uint32]bool{}
	xcr0 := xcr0YMM
	for _, x := range l.isa {
		ft, ok := features[x]
		if !ok {
			// Every amd64 CPU has these: SSE, SSE2 and the prefetch
			// instructions (avo's "MMX+").
			if x == "SSE" || x == "SSE2" || x == "MMX+" {
				continue
			}
			return fmt.Errorf("asm: the %s kernels use %s, which the CPU check does not know", l.prog.Target.Name, x)
		}
		needed = append(needed, x)
		leaves[ft.leaf] = true
		if strings.HasPrefix(x, "AVX512") {
			xcr0 = xcr0AVX512
		}
	}
	f.Line()
	f.Comment(fmt.Sprintf("%s checks the extensions the %s kernels use (%v, as", l.checkName(), l.prog.Target.Name, l.isa))
	f.Comment("avo recorded them) and that the OS saves their registers across context switches.")
	f.Func().Id(l.checkName()).Params().Bool().BlockFunc(func(g *jen.Group) {
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
		g.If(jen.List(jen.Id("xcr0"), jen.Id("_")).Op(":=").Id("xgetbv").Call(), jen.Id("xcr0").Op("&").Lit(xcr0).Op("!=").Lit(xcr0)).Block(
			jen.Comment("the OS does not save the registers the kernels use"),
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
	return nil
}
