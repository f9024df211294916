package asm

import (
	"github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"

	"github.com/acgen/acgen/target"
)

// ymm are the 16 AVX registers, by number.
var ymm = []reg.VecPhysical{
	reg.Y0, reg.Y1, reg.Y2, reg.Y3, reg.Y4, reg.Y5, reg.Y6, reg.Y7,
	reg.Y8, reg.Y9, reg.Y10, reg.Y11, reg.Y12, reg.Y13, reg.Y14, reg.Y15,
}

// zmm are the 32 AVX-512 registers, by number.
var zmm = []reg.VecPhysical{
	reg.Z0, reg.Z1, reg.Z2, reg.Z3, reg.Z4, reg.Z5, reg.Z6, reg.Z7,
	reg.Z8, reg.Z9, reg.Z10, reg.Z11, reg.Z12, reg.Z13, reg.Z14, reg.Z15,
	reg.Z16, reg.Z17, reg.Z18, reg.Z19, reg.Z20, reg.Z21, reg.Z22, reg.Z23,
	reg.Z24, reg.Z25, reg.Z26, reg.Z27, reg.Z28, reg.Z29, reg.Z30, reg.Z31,
}

// vectorRegs are the registers of a target's product kernels: as many
// as it has, as wide as its lanes.
func vectorRegs(t *target.Target) []reg.VecPhysical {
	if t.Lanes == 16 {
		return zmm[:t.Regs]
	}
	return ymm[:t.Regs]
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
