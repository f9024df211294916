//go:build ignore

// gen.go writes peak_amd64.s: an FMA loop that keeps both FMA pipes busy,
// to measure this machine's fp32 peak. Run `go generate ./bench/peak`.
package main

import (
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
	ctx.Function("fmaLoop")
	ctx.Attributes(0)
	ctx.SignatureExpr("func(n int)")
	ctx.Doc("fmaLoop runs n iterations of 48 VFMADD231PS on 12 independent accumulators:", "768 flops an iteration.")
	n := reg.RAX
	ctx.Load(ctx.Param("n"), n)
	acc := []reg.VecPhysical{reg.Y0, reg.Y1, reg.Y2, reg.Y3, reg.Y4, reg.Y5, reg.Y6, reg.Y7, reg.Y8, reg.Y9, reg.Y10, reg.Y11}
	for _, y := range acc {
		ctx.VXORPS(y, y, y)
	}
	ctx.VXORPS(reg.Y14, reg.Y14, reg.Y14)
	ctx.VXORPS(reg.Y15, reg.Y15, reg.Y15)
	ctx.Label("loop")
	for r := 0; r < 4; r++ {
		for _, y := range acc {
			ctx.VFMADD231PS(reg.Y14, reg.Y15, y)
		}
	}
	ctx.DECQ(n)
	ctx.JNZ(operand.LabelRef("loop"))
	ctx.VZEROUPPER()
	ctx.RET()
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
