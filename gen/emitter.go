package gen

import (
	"github.com/dave/jennifer/jen"

	"github.com/acgen/acgen/plan"
)

// An Emitter writes the assembly kernels of the targets whose rows name
// it (target.Target.Emitter): package asm's, with avo, for amd64;
// package neon's, with internal/a64, for arm64. gen does the rest for
// every architecture alike: the file names and build tags, the levels
// and their dispatch, the programs' Go code that calls the kernels, the
// no-assembly fallback and the tests that require the fast path.
type Emitter interface {
	// Name is the name target rows give the emitter.
	Name() string
	// Emit writes the kernels of progs, the assembly programs of one
	// GOARCH whose targets name the emitter, for package pkg: one for
	// every step whose plan.Step.NeedsKernel says so (gen refuses a
	// package otherwise), with the signatures of signature.go.
	Emit(progs []*plan.Program, pkg string) (*Kernels, error)
}

// Kernels is what an Emitter writes for one GOARCH.
type Kernels struct {
	// Calls names the kernel of each program's steps.
	Calls Calls
	// Asm is the whole .s file and Stubs the whole Go file declaring its
	// functions, both under the GOARCH's build tag; gen names them
	// kernels_GOARCH.s and kernels_GOARCH.go.
	Asm, Stubs []byte
	// Supported is, for each program, the Go expression that says
	// whether the CPU running the package runs its kernels (true where
	// every CPU of the GOARCH does).
	Supported map[*plan.Program]jen.Code
	// Files are any more files the emitter writes (package asm's CPUID
	// checks), under the GOARCH's build tag.
	Files []File
}

// Emitters are the emitters a package is generated with.
type Emitters []Emitter

// Lookup returns the emitter called name, or nil.
func (es Emitters) Lookup(name string) Emitter {
	for _, e := range es {
		if e.Name() == name {
			return e
		}
	}
	return nil
}
