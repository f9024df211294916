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
)

// Generator writes AVX2 kernels for a program's convolutions; it
// implements gen.Assembler.
type Generator struct{}

// buildTag selects the assembly: amd64, unless the portable kernels are
// asked for with -tags purego (as Go's own crypto packages do). avoTag is
// the same in the syntax avo's build tag parser takes.
const (
	buildTag = "amd64 && !purego"
	avoTag   = "amd64,!purego"
)

// Generate returns kernels_amd64.s, the Go declarations of its functions,
// the CPU check, and the stand-ins other builds compile instead.
func (Generator) Generate(p *plan.Program, pkg string) ([]gen.File, map[int]string, error) {
	ctx := build.NewContext()
	calls := map[int]string{}
	for i, s := range p.Steps {
		name := fmt.Sprintf("step%dAVX2", i)
		if s.Kind == plan.MaxPool && s.Conv != nil {
			maxPool(ctx, name, s)
			calls[i] = name
			continue
		}
		if s.Kind != plan.Conv {
			continue
		}
		switch s.Conv.Algo {
		case plan.Direct:
			direct(ctx, name, s)
		case plan.Depthwise:
			depthwise(ctx, name, s)
		case plan.Winograd:
			winograd(ctx, name, s)
		default:
			continue // the Go kernel runs it
		}
		calls[i] = name
	}
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
	isa := requiredISA(f)
	check, err := cpuCheckFile(pkg, isa)
	if err != nil {
		return nil, nil, err
	}
	return []gen.File{
		{Name: "kernels_amd64.s", Data: asmSrc},
		{Name: "kernels_amd64.go", Data: stubs},
		{Name: "cpu_amd64.go", Data: check},
		{Name: "noasm.go", Data: noAsmFile(pkg, calls)},
		asmTestFile(pkg),
	}, calls, nil
}

// requiredISA is the union of the extensions avo found each kernel uses.
func requiredISA(f *ir.File) []string {
	set := map[string]bool{}
	for _, fn := range f.Functions() {
		if fn.Name == "cpuid" || fn.Name == "xgetbv" {
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
