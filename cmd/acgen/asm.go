package main

import (
	"github.com/acgen/acgen/asm"
	"github.com/acgen/acgen/gen"
)

// assembler returns the amd64 kernel generator.
func assembler() gen.Assembler { return asm.Generator{} }
