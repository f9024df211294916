package asm

import (
	"fmt"
	"sort"

	"github.com/mmcloughlin/avo/build"
	"github.com/mmcloughlin/avo/buildtags"
	"github.com/mmcloughlin/avo/ir"
	"github.com/mmcloughlin/avo/pass"
	"github.com/mmcloughlin/avo/printer"

	"github.com/acgen/acgen/gen"
	"github.com/acgen/acgen/plan"
	"github.com/acgen/acgen/target"
)

// Generator writes the assembly kernels of a package's programs; it
// implements gen.Assembler.
type Generator struct{}

// buildTag selects the assembly (see gen.AsmBuildTag). avoTag is the
// same in the syntax avo's build tag parser takes.
const (
	buildTag = gen.AsmBuildTag
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

// Generate returns kernels_amd64.s with the kernels of every assembly
// program, their Go declarations, the CPU checks and the levels they
// enable, and the stand-ins other builds compile instead.
func (Generator) Generate(pk *plan.Package, pkg string) ([]gen.File, gen.Calls, error) {
	ctx := build.NewContext()
	calls := gen.Calls{}
	var progs []*plan.Program
	for _, p := range pk.Programs {
		if !p.Target.Asm {
			continue
		}
		progs = append(progs, p)
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
	tag, err := buildtags.ParseConstraint(avoTag)
	if err != nil {
		return nil, nil, err
	}
	f.Constraints = buildtags.Constraints{tag}
	if err := pass.Compile.Execute(f); err != nil {
		return nil, nil, fmt.Errorf("asm: %w", err)
	}
	cfg := printer.Config{Name: "acgen", Pkg: pkg}
	asmSrc, err := printer.NewGoAsm(cfg).Print(f)
	if err != nil {
		return nil, nil, err
	}
	stubs, err := printer.NewStubs(cfg).Print(f)
	if err != nil {
		return nil, nil, err
	}
	var levels []asmLevel
	for _, p := range progs {
		levels = append(levels, asmLevel{prog: p, portable: p == pk.Portable(), isa: requiredISA(f, calls[p])})
	}
	check, err := cpuCheckFile(pkg, levels)
	if err != nil {
		return nil, nil, err
	}
	return []gen.File{
		{Name: "kernels_amd64.s", Data: asmSrc},
		{Name: "kernels_amd64.go", Data: stubs},
		{Name: "cpu_amd64.go", Data: check},
		{Name: "noasm.go", Data: noAsmFile(pkg, pk.Portable(), calls[pk.Portable()])},
		asmTestFile(pkg, progs),
	}, calls, nil
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
