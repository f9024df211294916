package asm

import (
	"fmt"
	"strings"

	"github.com/acgen/acgen/gen"
	"github.com/acgen/acgen/plan"
	"github.com/acgen/acgen/templates"
)

// asmTestFile is the generated package's TestRequireAssembly
// (templates/requireasm.go) with the package's levels, best first, and
// the /proc/cpuinfo flags each needs.
func asmTestFile(pkg string, progs []*plan.Program) gen.File {
	var rows []string
	for _, p := range progs {
		rows = append(rows, fmt.Sprintf("\t{%q, %q},", p.Target.Name, strings.Join(p.Target.Features, " ")))
	}
	src := gen.Header + "\n\n//go:build " + buildTag + "\n\npackage " + pkg + "\n" + templates.TestSource("requireasm") +
		"\n// asmLevelFlags are the package's assembly levels, best first, and the\n// flags each needs.\nvar asmLevelFlags = []struct{ name, flags string }{\n" +
		strings.Join(rows, "\n") + "\n}\n"
	return gen.File{Name: "kernels_amd64_test.go", Data: []byte(src)}
}
