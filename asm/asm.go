package asm

import (
	"fmt"
	"sort"

	"github.com/dave/jennifer/jen"

	"github.com/mmcloughlin/avo/build"
	"github.com/mmcloughlin/avo/buildtags"
	"github.com/mmcloughlin/avo/ir"
	"github.com/mmcloughlin/avo/printer"

	"github.com/acgen/acgen/gen"
	"github.com/acgen/acgen/plan"
	"github.com/acgen/acgen/target"
)

// Generator writes the amd64 kernels of the targets whose rows name it
// ("avo"); it implements gen.Emitter.
type Generator struct{}

// Name is the emitter's name in the target table.
func (Generator) Name() string { return "avo" }

// buildTag selects the assembly (target.Target.BuildTag); avoTag is the
// same in the syntax avo's build tag parser takes.
const (
	buildTag = "amd64 && !purego"
	avoTag   = "amd64,!purego"
)

// builder writes the kernel of one step for one target; kernel is the
// table of them. A step without a row runs its Go code in every program.
type builder func(ctx *build.Context, name string, t *target.Target, s *plan.Step)

func kernel(s *plan.Step) builder {
	switch {
	case s.Kind == plan.MaxPool && s.Conv != nil:
		return maxPool
	case s.Kind == plan.LayerNorm:
		return layerNorm
	case s.Kind.Elementwise() && s.NeedsKernel():
		return elementwise
	case s.Kind == plan.GRN:
		return grn
	case s.Kind != plan.Conv:
		return nil
	}
	return convBuilders[s.Conv.Algo]
}

var convBuilders = map[plan.Algo]builder{
	plan.Direct:    direct,
	plan.Depthwise: depthwise,
	plan.Winograd:  winograd,
}

// Emit returns kernels_amd64.s with the kernels of the amd64 programs
// progs, their Go declarations, and the CPU checks that enable their
// levels (cpu_amd64.go).
func (Generator) Emit(progs []*plan.Program, pkg string) (*gen.Kernels, error) {
	f, calls, err := kernelFile(progs)
	if err != nil {
		return nil, err
	}
	tag, err := buildtags.ParseConstraint(avoTag)
	if err != nil {
		return nil, err
	}
	f.Constraints = buildtags.Constraints{tag}
	if err := compile(f); err != nil {
		return nil, fmt.Errorf("asm: %w", err)
	}
	cfg := printer.Config{Name: "acgen", Pkg: pkg}
	asmSrc, err := printer.NewGoAsm(cfg).Print(f)
	if err != nil {
		return nil, err
	}
	stubs, err := printer.NewStubs(cfg).Print(f)
	if err != nil {
		return nil, err
	}
	var levels []asmLevel
	supported := map[*plan.Program]jen.Code{}
	for _, p := range progs {
		l := asmLevel{prog: p, isa: requiredISA(f, calls[p])}
		levels = append(levels, l)
		supported[p] = jen.Id(l.checkName()).Call()
	}
	check, err := cpuCheckFile(pkg, levels)
	if err != nil {
		return nil, err
	}
	return &gen.Kernels{
		Calls: calls, Asm: asmSrc, Stubs: stubs, Supported: supported,
		Files: []gen.File{{Name: "cpu_amd64.go", Data: check}},
	}, nil
}

// kernelFile returns the kernels of progs as avo's file, before register
// allocation, and the kernel each step calls.
func kernelFile(progs []*plan.Program) (*ir.File, gen.Calls, error) {
	ctx := build.NewContext()
	calls := gen.Calls{}
	for _, p := range progs {
		if p.Target.BuildTag() != buildTag {
			return nil, nil, fmt.Errorf("asm: the %s program is not for amd64", p.Target.Name)
		}
		calls[p] = map[int]string{}
		for i, s := range p.Steps {
			b := kernel(s)
			if b == nil {
				continue
			}
			name := gen.AsmKernelName(p, i)
			b(ctx, name, p.Target, s)
			calls[p][i] = name
		}
	}
	defineTables(ctx, progs)
	cpuFunctions(ctx)
	f, err := ctx.Result()
	if err != nil {
		return nil, nil, fmt.Errorf("asm: %w", err)
	}
	return f, calls, nil
}

// requiredISA is the union of the extensions avo found the named
// kernels use, a Winograd step's three phase kernels among them (a net of
// Winograd steps only had got no check at all, and its AVX-512 kernels
// ran, and faulted, on CPUs without it).
func requiredISA(f *ir.File, names map[int]string) []string {
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
		for _, ph := range gen.WinogradPhases {
			want[n+ph] = true
		}
	}
	set := map[string]bool{}
	for _, fn := range f.Functions() {
		if !want[fn.Name] {
			continue
		}
		for _, x := range fn.ISA {
			set[x] = true
		}
	}
	var isa []string
	for x := range set {
		isa = append(isa, x)
	}
	sort.Strings(isa)
	return isa
}
