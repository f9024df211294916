package gen

import (
	"github.com/dave/jennifer/jen"
)

// weightsFile embeds weights.bin. Weights as Go literals do not scale
// (millions of them take the compiler minutes and gigabytes); an embedded
// file costs the compiler nothing. Every program of the package reads
// it; each computes its own Winograd weights from it when it first runs.
func (g *generator) weightsFile() *jen.File {
	f := g.newFile()
	f.Anon("embed")
	f.Comment("weightsRaw is the packed weights: float32, little-endian, after a")
	f.Comment("header of weightsHeader bytes (the generated-code line).")
	f.Comment("//go:embed weights.bin")
	f.Var().Id("weightsRaw").String()
	f.Line()
	f.Const().Id("weightsHeader").Op("=").Lit(BinaryHeaderLen)
	return f
}
