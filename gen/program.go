package gen

import (
	"fmt"

	"github.com/acgen/acgen/plan"
)

// Names of each program's generated identifiers. The portable program
// (the last of the package, whose Go kernels run everywhere) keeps plain
// names; every other program's carry its target's suffix.

func (g *generator) portable(p *plan.Program) bool { return p == g.p }

func (g *generator) programVar(p *plan.Program) string { return ProgramVar(p, g.portable(p)) }

// ForwardName is the function that runs program p with its assembly
// kernels (the portable one's takes whether to use them).
func ForwardName(p *plan.Program, portable bool) string {
	if portable {
		return "forward"
	}
	return "forward" + p.Target.Suffix
}

// PartName is the function that runs part of one phase of program p
// (the portable one's takes whether to use its assembly).
func PartName(p *plan.Program, portable bool) string {
	if portable {
		return "forwardPart"
	}
	return "forwardPart" + p.Target.Suffix
}

// ProgramVar is the variable of program p's run-time state.
func ProgramVar(p *plan.Program, portable bool) string {
	if portable {
		return "portableProgram"
	}
	return "program" + p.Target.Suffix
}

// AsmKernelName is the assembly kernel of step i of program p.
func AsmKernelName(p *plan.Program, i int) string {
	return fmt.Sprintf("step%d%s", i, p.Target.Suffix)
}

func (g *generator) suffix(p *plan.Program) string {
	if g.portable(p) {
		return ""
	}
	return p.Target.Suffix
}

// tilesVar and winogradVar are a conv step's tile table and Winograd
// description.
func (g *generator) tilesVar(p *plan.Program, i int) string {
	return fmt.Sprintf("step%dTiles%s", i, g.suffix(p))
}

func (g *generator) winogradVar(p *plan.Program, i int) string {
	return fmt.Sprintf("step%dWinograd%s", i, g.suffix(p))
}
