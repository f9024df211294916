// Package emitters lists the emitter of every target row's kernels, the
// set the command and the tests give package gen: package asm's (avo,
// amd64) and package neon's (internal/a64, arm64).
package emitters

import (
	"github.com/acgen/acgen/asm"
	"github.com/acgen/acgen/gen"
	"github.com/acgen/acgen/neon"
)

// All returns every emitter.
func All() gen.Emitters { return gen.Emitters{asm.Generator{}, neon.Generator{}} }
