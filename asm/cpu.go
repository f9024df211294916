package asm

import (
	"bytes"
	"fmt"
	"sort"
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
	prog     *plan.Program
	portable bool     // the portable program run with its assembly
	isa      []string // as avo recorded it
}

// checkName is the function that says whether this CPU runs level l.
func (l asmLevel) checkName() string { return "supports" + l.prog.Target.Suffix }

// cpuCheckFile writes, for each level, a check that the CPU has every
// extension its kernels use (as avo recorded them) and that the OS saves
// the registers they use; and asmLevels, the levels best first.
func cpuCheckFile(pkg string, levels []asmLevel) ([]byte, error) {
	f := jen.NewFile(pkg)
	f.HeaderComment(gen.Header)
	f.HeaderComment("")
	f.HeaderComment("//go:build " + buildTag)
	f.Comment("asmLevels are the package's assembly levels, best first; each")
	f.Comment("runs where its check says the CPU can.")
	f.Func().Id("asmLevels").Params().Index().Op("*").Id("level").Block(
		jen.Return(jen.Index().Op("*").Id("level").ValuesFunc(func(vals *jen.Group) {
			for _, l := range levels {
				p := l.prog
				var run jen.Code = jen.Id(gen.ForwardName(p, false))
				var part jen.Code = jen.Id(gen.PartName(p, false))
				bufs := jen.List(jen.Id("ws"), jen.Id("w"), jen.Id("u"), jen.Id("dst"), jen.Id("src")).Index().Float32()
				args := []jen.Code{jen.Id("ws"), jen.Id("w"), jen.Id("u"), jen.Id("dst"), jen.Id("src"), jen.True()}
				if l.portable {
					run = jen.Func().Params(bufs).Block(jen.Id("forward").Call(args...))
					part = jen.Func().Params(bufs, jen.Id("ph").Op("*").Id("phase"), jen.List(jen.Id("lo"), jen.Id("hi"), jen.Id("scratch")).Int()).Block(
						jen.Id(gen.PartName(p, true)).Call(append(args, jen.Id("ph"), jen.Id("lo"), jen.Id("hi"), jen.Id("scratch"))...))
				}
				vals.Values(jen.Dict{
					jen.Id("name"):      jen.Lit(p.Target.Name),
					jen.Id("prog"):      jen.Op("&").Id(gen.ProgramVar(p, l.portable)),
					jen.Id("run"):       run,
					jen.Id("phases"):    jen.Id(gen.PhasesVar(p, true)),
					jen.Id("part"):      part,
					jen.Id("supported"): jen.Id(l.checkName()).Call(),
				})
			}
		})),
	)
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

// noAsmFile is compiled where the assembly is not: there are no assembly
// levels, so forward never takes its asm branches and the stand-ins below
// (which it names) are never called.
func noAsmFile(pkg string, p *plan.Program, calls map[int]string) []byte {
	f := jen.NewFile(pkg)
	f.HeaderComment(gen.Header)
	f.HeaderComment("")
	f.HeaderComment("//go:build !amd64 || purego")
	f.Comment("asmLevels is empty where there are no assembly kernels.")
	f.Func().Id("asmLevels").Params().Index().Op("*").Id("level").Block(jen.Return(jen.Nil()))
	var steps []int
	for i := range calls {
		steps = append(steps, i)
	}
	sort.Ints(steps)
	for _, i := range steps {
		f.Line()
		names, sigs := []string{calls[i]}, []string{Signature}
		if s := p.Steps[i]; s.Kind == plan.Conv && s.Conv.Algo == plan.Winograd {
			names, sigs = nil, PhaseSignatures
			for _, ph := range gen.WinogradPhases {
				names = append(names, calls[i]+ph)
			}
		}
		for j, name := range names {
			var ps []jen.Code
			for _, n := range intParams(sigs[j]) {
				ps = append(ps, jen.Id(n))
			}
			f.Func().Id(name).Params(jen.List(jen.Id("ws"), jen.Id("w")).Op("*").Float32(), jen.List(ps...).Int()).Block(
				jen.Panic(jen.Lit("acgen: assembly kernel called where it does not exist")),
			)
		}
	}
	var buf bytes.Buffer
	if err := f.Render(&buf); err != nil {
		panic(err) // static code; a bug if it does not render
	}
	return buf.Bytes()
}

// intParams are the int parameters of a kernel signature,
// "func(ws, w *float32, a, b int)": the stand-ins take the same.
func intParams(sig string) []string {
	_, list, _ := strings.Cut(sig, "*float32, ")
	list, _, _ = strings.Cut(list, " int)")
	return strings.Split(list, ", ")
}
