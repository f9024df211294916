package main

import (
	"github.com/acgen/acgen/gen"
	"github.com/acgen/acgen/internal/emitters"
)

// assembler returns the kernel emitters of every assembly target.
func assembler() gen.Emitters { return emitters.All() }
