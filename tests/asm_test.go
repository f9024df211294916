package tests

import (
	"github.com/acgen/acgen/asm"
	"github.com/acgen/acgen/gen"
)

// assembler is the kernel generator the end-to-end tests use: the same
// as the command's.
func assembler() gen.Assembler { return asm.Generator{} }
