package gen

import (
	"bytes"
	"fmt"
	"sort"
	"strings"

	"github.com/dave/jennifer/jen"

	"github.com/acgen/acgen/plan"
	"github.com/acgen/acgen/templates"
)

// arch is the assembly programs of one GOARCH, best first, and what
// their emitter wrote.
type arch struct {
	goarch string
	tag    string // the build tag of its files
	progs  []*plan.Program
	k      *Kernels
}

// assembly groups the assembly programs by GOARCH (in the order of the
// targets, best first), has each group's emitter write its kernels, and
// returns the files of every architecture and the fallback: for each,
// kernels_GOARCH.s and .go (the emitter's), levels_GOARCH.go (its levels
// for the dispatch), kernels_GOARCH_test.go (TestRequireAssembly) and
// the emitter's own files; and noasm.go, built where none is.
func (g *generator) assembly() ([]File, error) {
	byArch := map[string]*arch{}
	for _, p := range g.in.Plan.Programs {
		t := p.Target
		if !t.Asm() {
			if p != g.p {
				return nil, fmt.Errorf("gen: the %s program is not the portable one but has no assembly", t.Name)
			}
			continue
		}
		a := byArch[t.GOARCH]
		if a == nil {
			a = &arch{goarch: t.GOARCH, tag: t.BuildTag()}
			byArch[t.GOARCH] = a
			g.arches = append(g.arches, a)
		}
		if len(a.progs) > 0 && a.progs[0].Target.Emitter != t.Emitter {
			return nil, fmt.Errorf("gen: the %s targets %s and %s name different emitters", t.GOARCH, a.progs[0].Target.Name, t.Name)
		}
		a.progs = append(a.progs, p)
	}
	var files []File
	for _, a := range g.arches {
		t := a.progs[0].Target
		e := g.in.Asm.Lookup(t.Emitter)
		if e == nil {
			return nil, fmt.Errorf("gen: the %s program needs the %q emitter's kernels, which acgen was not given", t.Name, t.Emitter)
		}
		k, err := e.Emit(a.progs, g.in.Package)
		if err != nil {
			return nil, err
		}
		a.k = k
		for _, p := range a.progs {
			for i, s := range p.Steps {
				if _, ok := k.Calls[p][i]; s.NeedsKernel() && !ok {
					return nil, fmt.Errorf("gen: the %s emitter has no kernel for step %d (%s, %s) of the %s program", t.Emitter, i, s.Name, DescribeStep(s), p.Target.Name)
				}
			}
			g.calls[p] = k.Calls[p]
		}
		levels, err := render(g.levelsFile(a))
		if err != nil {
			return nil, err
		}
		files = append(files,
			File{Name: "kernels_" + a.goarch + ".s", Data: k.Asm},
			File{Name: "kernels_" + a.goarch + ".go", Data: k.Stubs},
			File{Name: "levels_" + a.goarch + ".go", Data: levels},
			g.requireAsmFile(a),
		)
		files = append(files, k.Files...)
	}
	if len(g.arches) == 0 {
		return files, nil
	}
	noasm, err := render(g.noAsmFile())
	if err != nil {
		return nil, err
	}
	files = append(files, File{Name: "noasm.go", Data: noasm})
	if len(g.calls[g.p]) > 0 {
		standins, err := render(g.standInsFile())
		if err != nil {
			return nil, err
		}
		files = append(files, File{Name: "kernels_standins.go", Data: standins})
	}
	return files, nil
}

func render(f *jen.File) ([]byte, error) {
	var buf bytes.Buffer
	if err := f.Render(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// levelsFile declares asmLevels, the levels of a's programs, best first;
// each runs where its emitter's check says the CPU can.
func (g *generator) levelsFile(a *arch) *jen.File {
	f := g.newFile()
	f.HeaderComment("")
	f.HeaderComment("//go:build " + a.tag)
	f.Comment(fmt.Sprintf("asmLevels are the package's %s assembly levels, best first; each", a.goarch))
	f.Comment("runs where its check says the CPU can.")
	f.Func().Id("asmLevels").Params().Index().Op("*").Id("level").Block(
		jen.Return(jen.Index().Op("*").Id("level").ValuesFunc(func(vals *jen.Group) {
			for _, p := range a.progs {
				portable := p == g.p
				var run jen.Code = jen.Id(ForwardName(p, false))
				var part jen.Code = jen.Id(PartName(p, false))
				bufs := jen.List(jen.Id("ws"), jen.Id("w"), jen.Id("u"), jen.Id("dst"), jen.Id("src")).Index().Float32()
				args := []jen.Code{jen.Id("ws"), jen.Id("w"), jen.Id("u"), jen.Id("dst"), jen.Id("src"), jen.True()}
				if portable {
					run = jen.Func().Params(bufs).Block(jen.Id("forward").Call(args...))
					part = jen.Func().Params(bufs, jen.Id("ph").Op("*").Id("phase"), jen.List(jen.Id("lo"), jen.Id("hi"), jen.Id("scratch")).Int()).Block(
						jen.Id(PartName(p, true)).Call(append(args, jen.Id("ph"), jen.Id("lo"), jen.Id("hi"), jen.Id("scratch"))...))
				}
				supported := a.k.Supported[p]
				if supported == nil {
					supported = jen.False() // a bug in the emitter: never run kernels nobody vouched for
				}
				vals.Values(jen.Dict{
					jen.Id("name"):      jen.Lit(p.Target.Name),
					jen.Id("prog"):      jen.Op("&").Id(ProgramVar(p, portable)),
					jen.Id("run"):       run,
					jen.Id("phases"):    jen.Id(PhasesVar(p, true)),
					jen.Id("part"):      part,
					jen.Id("supported"): supported,
					jen.Id("align"):     jen.Lit(p.Target.Lanes * 4),
				})
			}
		})),
	)
	return f
}

// noAsmTag is the build constraint of the builds that hold none of the
// package's assembly: purego, or an architecture it has none for.
func (g *generator) noAsmTag() string {
	var not []string
	for _, a := range g.arches {
		not = append(not, "!"+a.goarch)
	}
	return "purego || " + strings.Join(not, " && ")
}

// noAsmFile is compiled where none of the assembly is: there are no
// assembly levels, so only the portable one runs.
func (g *generator) noAsmFile() *jen.File {
	f := g.newFile()
	f.HeaderComment("")
	f.HeaderComment("//go:build " + g.noAsmTag())
	f.Comment("asmLevels is empty where there are no assembly kernels.")
	f.Func().Id("asmLevels").Params().Index().Op("*").Id("level").Block(jen.Return(jen.Nil()))
	return f
}

// standInsFile is compiled where the portable program's own assembly
// is not (it may be where another architecture's is): forward, which
// names its kernels, then never takes its asm branches, so the stand-ins
// below are never called.
func (g *generator) standInsFile() *jen.File {
	f := g.newFile()
	t := g.p.Target
	f.HeaderComment("")
	f.HeaderComment("//go:build !" + t.GOARCH + " || purego")
	f.Comment(fmt.Sprintf("Stand-ins for the %s kernels that forward names, where they are not.", t.Name))
	calls := g.calls[g.p]
	var steps []int
	for i := range calls {
		steps = append(steps, i)
	}
	sort.Ints(steps)
	for _, i := range steps {
		f.Line()
		names, sigs := []string{calls[i]}, []string{KernelSignature}
		if s := g.p.Steps[i]; s.Kind == plan.Conv && s.Conv.Algo == plan.Winograd {
			names, sigs = nil, PhaseSignatures
			for _, ph := range WinogradPhases {
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
	return f
}

// requireAsmFile is the package's TestRequireAssembly for a's levels
// (templates/requireasm.go) with the levels, best first, and the
// /proc/cpuinfo flags each needs (none for a baseline target: every CPU
// of the architecture runs it).
func (g *generator) requireAsmFile(a *arch) File {
	var rows []string
	for _, p := range a.progs {
		rows = append(rows, fmt.Sprintf("\t{%q, %q},", p.Target.Name, strings.Join(p.Target.Features, " ")))
	}
	src := Header + "\n\n//go:build " + a.tag + "\n\npackage " + g.in.Package + "\n" + templates.TestSource("requireasm") +
		"\n// asmLevelFlags are the package's " + a.goarch + " assembly levels, best first, and the\n// flags each needs (none: every " + a.goarch + " CPU runs it).\nvar asmLevelFlags = []struct{ name, flags string }{\n" +
		strings.Join(rows, "\n") + "\n}\n"
	return File{Name: "kernels_" + a.goarch + "_test.go", Data: []byte(src)}
}
