package tests

import (
	"github.com/acgen/acgen/gen"
	"github.com/acgen/acgen/internal/emitters"
)

// assembler is the kernel emitters the end-to-end tests use: the same
// as the command's.
func assembler() gen.Emitters { return emitters.All() }
