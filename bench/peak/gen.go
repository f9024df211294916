//go:build ignore

// gen.go writes peak_amd64.s: an FMA loop that keeps both FMA pipes busy,
// to measure this machine's fp32 peak. Run `go generate ./bench/peak`.
package main

import (
	"fmt"
	"os"

	"github.com/mmcloughlin/avo/build"
	"github.com/mmcloughlin/avo/buildtags"
	"github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/pass"
	"github.com/mmcloughlin/avo/printer"
	"github.com/mmcloughlin/avo/reg"
)

func main() {
	ctx := build.NewContext()
	ymm := []reg.VecPhysical{reg.Y0, reg.Y1, reg.Y2, reg.Y3, reg.Y4, reg.Y5, reg.Y6, reg.Y7, reg.Y8, reg.Y9, reg.Y10, reg.Y11, reg.Y14, reg.Y15}
	zmm := []reg.VecPhysical{reg.Z0, reg.Z1, reg.Z2, reg.Z3, reg.Z4, reg.Z5, reg.Z6, reg.Z7, reg.Z8, reg.Z9, reg.Z10, reg.Z11,
		reg.Z12, reg.Z13, reg.Z14, reg.Z15, reg.Z16, reg.Z17, reg.Z18, reg.Z19, reg.Z20, reg.Z21, reg.Z22, reg.Z23, reg.Z30, reg.Z31}
	// AVX2: 12 accumulators cover 2 pipes x 4 cycles of latency with room;
	// AVX-512: 24, for cores with two 512-bit FMA units.
	fmaLoop(ctx, "fmaLoop", ymm[:12], ymm[12], ymm[13], 768, func(r reg.VecPhysical) { ctx.VXORPS(r, r, r) })
	fmaLoop(ctx, "fmaLoopZMM", zmm[:24], zmm[24], zmm[25], 3072, func(r reg.VecPhysical) { ctx.VPXORD(r, r, r) })
	f, err := ctx.Result()
	if err != nil {
		panic(err)
	}
	c, _ := buildtags.ParseConstraint("amd64")
	f.Constraints = buildtags.Constraints{c}
	if err := pass.Compile.Execute(f); err != nil {
		panic(err)
	}
	cfg := printer.Config{Name: "bench/peak/gen.go", Pkg: "peak"}
	for file, p := range map[string]printer.Printer{"peak_amd64.s": printer.NewGoAsm(cfg), "peak_amd64.go": printer.NewStubs(cfg)} {
		b, err := p.Print(f)
		if err != nil {
			panic(err)
		}
		if err := os.WriteFile(file, b, 0o644); err != nil {
			panic(err)
		}
	}
}

// fmaLoop writes a function running n iterations of 4 VFMADD231PS on
// each independent accumulator: flops an iteration.
func fmaLoop(ctx *build.Context, name string, acc []reg.VecPhysical, a, b reg.VecPhysical, flops int, zero func(reg.VecPhysical)) {
	ctx.Function(name)
	ctx.Attributes(0)
	ctx.SignatureExpr("func(n int)")
	ctx.Doc(fmt.Sprintf("%s runs n iterations of %d FMAs on %d independent accumulators:", name, 4*len(acc), len(acc)), fmt.Sprintf("%d flops an iteration.", flops))
	n := reg.RAX
	ctx.Load(ctx.Param("n"), n)
	for _, y := range append(acc, a, b) {
		zero(y)
	}
	ctx.Label(name + "_loop")
	for r := 0; r < 4; r++ {
		for _, y := range acc {
			ctx.VFMADD231PS(a, b, y)
		}
	}
	ctx.DECQ(n)
	ctx.JNZ(operand.LabelRef(name + "_loop"))
	ctx.VZEROUPPER()
	ctx.RET()
}
