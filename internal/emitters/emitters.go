// Package emitters lists the emitter of every target row's kernels, the
// set the command and the tests give package gen: package asm's (avo,
// amd64).
package emitters

import (
	"github.com/acgen/acgen/asm"
	"github.com/acgen/acgen/gen"
)

// All returns every emitter.
func All() gen.Emitters { return gen.Emitters{asm.Generator{}} }
