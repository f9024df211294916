package templates

import (
	_ "embed"
	"fmt"
	"strconv"
	"strings"
)

var (
	//go:embed support.go
	support string
	//go:embed pool.go
	pool string
	//go:embed norm.go
	norm string
	//go:embed grn.go
	grnSrc string
	//go:embed api.go
	api string
	//go:embed acgentest.go
	acgenTest string
	//go:embed winograd.go
	winograd string
	//go:embed grid.go
	grid string
	//go:embed dispatch.go
	dispatch string
	//go:embed parallel.go
	parallel string
	//go:embed helpers.go
	helpersSrc string
	//go:embed example.go
	example string

	// Test templates: only some packages get them (see TestSource).
	//go:embed harness.go
	harnessSrc string
	//go:embed pytorchtest.go
	pytorchSrc string
	//go:embed accuracytest.go
	accuracySrc string
	//go:embed requireasm.go
	requireAsmSrc string
)

// TestSource returns the body (everything after the package clause) of a
// test template: "requireasm", which package asm adds to every package
// with assembly (with its asmLevelFlags), and "harness", "pytorch" and
// "accuracy", which acgen's own tests add to the packages they build.
// Kept as real files here, they are compiled and vetted with acgen.
func TestSource(name string) string {
	src, ok := map[string]string{"harness": harnessSrc, "pytorch": pytorchSrc, "accuracy": accuracySrc, "requireasm": requireAsmSrc}[name]
	if !ok {
		panic("templates: no test template " + name)
	}
	return body(src)
}

// File is a template file to copy into a generated package.
type File struct {
	Name   string
	Source string // with the package clause and everything before it removed
}

// Files returns the files every generated package gets.
func Files() []File {
	return []File{
		{Name: "api.go", Source: body(api)},
		{Name: "support.go", Source: body(support)},
		{Name: "pool.go", Source: body(pool)},
		{Name: "norm.go", Source: body(norm)},
		{Name: "grn.go", Source: body(grnSrc)},
		{Name: "winograd.go", Source: body(winograd)},
		{Name: "grid.go", Source: body(grid)},
		{Name: "dispatch.go", Source: body(dispatch)},
		{Name: "parallel.go", Source: body(parallel)},
		{Name: "helpers.go", Source: body(helpersSrc)},
		{Name: "acgen_test.go", Source: body(acgenTest)},
		{Name: ExampleFile, Source: body(example)},
	}
}

// ExampleFile is the generated package's Example. Its Output line depends
// on the network: the generator replaces ExampleOutput(1), which example.go
// holds (OutputLen is 1 here), with ExampleOutput of the package's own
// output count.
const ExampleFile = "example_test.go"

// ExampleOutput is the Example's Output line for a network of n outputs.
func ExampleOutput(n int) string {
	return fmt.Sprintf("// Output: %d outputs; the top 3 are %d of them, best first: true", n, min(3, n))
}

// Tolerances is the declaration of the package tests' tolerances
// (acgen_test.go's goldenTolerance and isaTolerance).
func Tolerances(golden, isa float64) string {
	return fmt.Sprintf("const goldenTolerance, isaTolerance = %s, %s\n", short(golden), short(isa))
}

// short formats x as Go source the way a person writes it: 1e-4, 3.6e-4.
func short(x float64) string {
	s := strconv.FormatFloat(x, 'e', -1, 64)
	return strings.Replace(strings.Replace(s, "e-0", "e-", 1), "e+0", "e+", 1)
}

// body strips everything up to and including the package clause, so that
// the generator can write its own header and package name.
func body(src string) string {
	const clause = "package templates\n"
	i := strings.Index(src, clause)
	if i < 0 {
		panic("templates: a template file lacks its package clause") // caught by TestFiles
	}
	return src[i+len(clause):]
}
