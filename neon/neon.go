package neon

import (
	"fmt"

	"github.com/dave/jennifer/jen"

	"github.com/acgen/acgen/gen"
	"github.com/acgen/acgen/internal/a64"
	"github.com/acgen/acgen/plan"
	"github.com/acgen/acgen/target"
)

// Generator writes the arm64 kernels of the targets whose rows name it
// ("neon"); it implements gen.Emitter.
type Generator struct{}

// Name is the emitter's name in the target table.
func (Generator) Name() string { return "neon" }

// builder writes the kernel of one step; kernel is the table of them.
// A step without a row runs its Go code in every program.
type builder func(f *a64.File, name string, t *target.Target, s *plan.Step)

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

// Emit returns kernels_arm64.s with the kernels of the arm64 programs
// progs and their Go declarations. Every arm64 CPU runs them (Go's arm64
// port itself needs ASIMD), so each level is supported unconditionally.
func (Generator) Emit(progs []*plan.Program, pkg string) (*gen.Kernels, error) {
	f := a64.NewFile()
	calls := gen.Calls{}
	supported := map[*plan.Program]jen.Code{}
	for _, p := range progs {
		t := p.Target
		if t.BuildTag() != a64.BuildTag || t.Lanes != lanes {
			return nil, fmt.Errorf("neon: the %s program is not for arm64 with %d-float vectors", t.Name, lanes)
		}
		calls[p] = map[int]string{}
		for i, s := range p.Steps {
			b := kernel(s)
			if b == nil {
				continue
			}
			name := gen.AsmKernelName(p, i)
			b(f, name, t, s)
			calls[p][i] = name
		}
		supported[p] = jen.True()
	}
	asm, err := f.Asm()
	if err != nil {
		return nil, fmt.Errorf("neon: %w", err)
	}
	stubs, err := f.GoFile(pkg)
	if err != nil {
		return nil, fmt.Errorf("neon: %w", err)
	}
	return &gen.Kernels{Calls: calls, Asm: asm, Stubs: stubs, Supported: supported}, nil
}

// lanes is the floats of a vector, the channel block of every NEON
// program; vb its bytes.
const (
	lanes = 4
	vb    = 16
	f32   = 4 // bytes per float
)
