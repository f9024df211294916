package asm

import (
	"github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

// ymm are the 16 AVX registers, by number.
var ymm = []reg.VecPhysical{
	reg.Y0, reg.Y1, reg.Y2, reg.Y3, reg.Y4, reg.Y5, reg.Y6, reg.Y7,
	reg.Y8, reg.Y9, reg.Y10, reg.Y11, reg.Y12, reg.Y13, reg.Y14, reg.Y15,
}

// mem is the operand base+disp bytes.
func mem(base reg.Register, disp int) operand.Mem {
	return operand.Mem{Base: base, Disp: disp}
}

// imm is an immediate for a count or an offset.
func imm(v int) operand.Constant {
	if v < 0 || v > 1<<31-1 {
		panic("asm: immediate out of range") // shapes are bounded by spec.MaxDim; a bug if reached
	}
	return operand.U32(uint32(v))
}

const f32 = 4 // bytes per float
