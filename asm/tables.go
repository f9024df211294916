package asm

import (
	"math"
	"sort"

	"github.com/mmcloughlin/avo/attr"
	"github.com/mmcloughlin/avo/build"
	"github.com/mmcloughlin/avo/operand"

	"github.com/acgen/acgen/plan"
	"github.com/acgen/acgen/spec"
)

// An activation whose vector code needs more constants than the
// registers an AVX2 second pass has (12) reads the rest from a table in
// read-only data: one entry of 64 bytes per constant, the value in every
// lane, so that a YMM or ZMM load or arithmetic operand reads it whole.

// tableEntry is the bytes between a constant table's entries.
const tableEntry = 64

// tableName is the read-only data symbol of op's constant table.
func tableName(op spec.Op) string { return "act_" + string(op) }

// tableEntryMem is entry i of op's constant table.
func tableEntryMem(op spec.Op, i int) operand.Mem {
	return operand.NewDataAddr(operand.NewStaticSymbol(tableName(op)), i*tableEntry)
}

// defineTables writes the constant tables the kernels of progs read:
// those of the activations their epilogues' second passes apply.
func defineTables(ctx *build.Context, progs []*plan.Program) {
	used := map[spec.Op]bool{}
	for _, p := range progs {
		for _, s := range p.Steps {
			if kernel(s) == nil || s.Act.Clamp() {
				continue
			}
			if code := actCodes[s.Act.F.Op]; code.table != nil {
				used[s.Act.F.Op] = true
			}
		}
	}
	var ops []string
	for op := range used {
		ops = append(ops, string(op))
	}
	sort.Strings(ops) // the same bytes every time
	for _, op := range ops {
		ctx.StaticGlobal(tableName(spec.Op(op)))
		ctx.DataAttributes(attr.RODATA | attr.NOPTR)
		for _, v := range actCodes[spec.Op(op)].table {
			for i := 0; i < tableEntry/f32; i++ {
				ctx.AppendDatum(operand.U32(math.Float32bits(v)))
			}
		}
	}
}
