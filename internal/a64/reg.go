package a64

import "fmt"

// Reg is a general-purpose register: R0 to R30, RSP or ZR.
type Reg uint8

// The general-purpose registers assembly may use. R18 (the platform
// register), R27 (the assembler's scratch register, REGTMP), R28 (g),
// R29 (the frame pointer) and R30 (the link register, not saved by a
// frameless function) are left out; Func rejects them.
const (
	R0 Reg = iota
	R1
	R2
	R3
	R4
	R5
	R6
	R7
	R8
	R9
	R10
	R11
	R12
	R13
	R14
	R15
	R16
	R17
	_ // R18
	R19
	R20
	R21
	R22
	R23
	R24
	R25
	R26
)

// RSP is the hardware stack pointer and ZR the zero register. Both are
// number 31 in an encoding; which one an instruction means depends on
// the instruction, so they are kept apart here.
const (
	RSP Reg = 31
	ZR  Reg = 32
)

// usable reports whether assembly may name r (see the constants).
func (r Reg) usable() bool {
	return r <= R17 || r >= R19 && r <= R26 || r == RSP || r == ZR
}

// Go is r in the Go assembler's syntax.
func (r Reg) Go() string {
	switch r {
	case RSP:
		return "RSP"
	case ZR:
		return "ZR"
	}
	return fmt.Sprintf("R%d", r)
}

// gnu is r in GNU syntax, as an X (64-bit) or W (32-bit) register.
func (r Reg) gnu(w bool) string {
	p := "x"
	if w {
		p = "w"
	}
	switch r {
	case RSP:
		if w {
			return "wsp"
		}
		return "sp"
	case ZR:
		return p + "zr"
	}
	return fmt.Sprintf("%s%d", p, r)
}

// VReg is a SIMD and floating-point register, V0 to V31; Go's assembler
// calls its scalar views F0 to F31.
type VReg uint8

// The 32 SIMD registers. Go's ABI0 has no callee-saved SIMD registers:
// assembly may use all of them.
const (
	V0 VReg = iota
	V1
	V2
	V3
	V4
	V5
	V6
	V7
	V8
	V9
	V10
	V11
	V12
	V13
	V14
	V15
	V16
	V17
	V18
	V19
	V20
	V21
	V22
	V23
	V24
	V25
	V26
	V27
	V28
	V29
	V30
	V31
)

// Arr is a vector arrangement: lanes and lane size.
type Arr uint8

// The arrangements. The zero Arr is none (an invalid operand).
const (
	B8 Arr = iota + 1
	B16
	H4
	H8
	S2
	S4
	D1
	D2
)

var arrNames = [...]struct{ goName, gnu string }{
	B8: {"B8", "8b"}, B16: {"B16", "16b"}, H4: {"H4", "4h"}, H8: {"H8", "8h"},
	S2: {"S2", "2s"}, S4: {"S4", "4s"}, D1: {"D1", "1d"}, D2: {"D2", "2d"},
}

// q is the Q bit of an encoding: 1 for the 128-bit arrangements.
func (a Arr) q() uint32 {
	switch a {
	case B16, H8, S4, D2:
		return 1
	}
	return 0
}

// size is log2 of the lane size in bytes, the size field of an encoding.
func (a Arr) size() uint32 { return uint32(a-1) / 2 }

// Bytes is the size of the arrangement: 8 or 16.
func (a Arr) Bytes() int { return 8 << a.q() }

func (a Arr) valid() bool { return a >= B8 && a <= D2 }

// Vec is a register seen as a vector of the arrangement A.
type Vec struct {
	V VReg
	A Arr
}

// The arrangements of v. Kernels on float32 use S4; the bitwise
// instructions take B16.
func (v VReg) S4() Vec  { return Vec{v, S4} }
func (v VReg) S2() Vec  { return Vec{v, S2} }
func (v VReg) D2() Vec  { return Vec{v, D2} }
func (v VReg) B16() Vec { return Vec{v, B16} }
func (v VReg) B8() Vec  { return Vec{v, B8} }
func (v VReg) H8() Vec  { return Vec{v, H8} }

// As is v with the arrangement a.
func (v VReg) As(a Arr) Vec { return Vec{v, a} }

// S is lane i of v as a 32-bit element; D as a 64-bit one.
func (v VReg) S(i int) Elem { return Elem{v, 2, i} }
func (v VReg) D(i int) Elem { return Elem{v, 3, i} }

// Go is the vector in the Go assembler's syntax, V3.S4.
func (v Vec) Go() string { return fmt.Sprintf("V%d.%s", v.V, arrNames[v.A].goName) }

func (v Vec) gnu() string { return fmt.Sprintf("v%d.%s", v.V, arrNames[v.A].gnu) }

// Elem is one lane of a register: Size is log2 of its bytes (2 for S,
// 3 for D), I its index.
type Elem struct {
	V    VReg
	Size uint8
	I    int
}

// letter is the element's size letter, b, h, s or d.
func (e Elem) letter() byte {
	if e.Size > 3 {
		return '?'
	}
	return "bhsd"[e.Size]
}

// Go is the element in the Go assembler's syntax, V3.S[1].
func (e Elem) Go() string { return fmt.Sprintf("V%d.%c[%d]", e.V, e.letter()-'a'+'A', e.I) }

func (e Elem) gnu() string { return fmt.Sprintf("v%d.%c[%d]", e.V, e.letter(), e.I) }

// valid reports whether the element is one of a 128-bit register's.
func (e Elem) valid() bool { return e.Size <= 3 && e.I >= 0 && e.I < 16>>e.Size }

// Mem is a memory operand: Base plus Off bytes.
type Mem struct {
	Base Reg
	Off  int
}

// M is the operand base+off bytes.
func M(base Reg, off int) Mem { return Mem{base, off} }

// Go is the operand in the Go assembler's syntax: 16(R1) or (R1).
func (m Mem) Go() string {
	if m.Off == 0 {
		return fmt.Sprintf("(%s)", m.Base.Go())
	}
	return fmt.Sprintf("%d(%s)", m.Off, m.Base.Go())
}

// gnu is the address as the GNU syntax prints a load or store with an
// immediate offset: [x1] or [x1,#16].
func (m Mem) gnu() string {
	if m.Off == 0 {
		return "[" + m.Base.gnu(false) + "]"
	}
	return fmt.Sprintf("[%s,#%d]", m.Base.gnu(false), m.Off)
}

// Imm is an immediate operand.
type Imm int64

// Go is the immediate in the Go assembler's syntax, $8.
func (i Imm) Go() string { return fmt.Sprintf("$%d", int64(i)) }

// Operand is any of Reg, VReg (a scalar F register), Vec, Elem, Mem and
// Imm: the operands of the instructions whose Go mnemonic takes several
// kinds (MOVD, ADD, FMOVQ...).
type Operand interface{ Go() string }

// Go is the register in the Go assembler's scalar syntax, F3.
func (v VReg) Go() string { return fmt.Sprintf("F%d", v) }

// gnuScalar is the register in GNU syntax as a scalar of 1<<size bytes:
// s3 (size 2), d3 (3) or q3 (4).
func (v VReg) gnuScalar(size int) string { return fmt.Sprintf("%c%d", "bhsdq"[size], v) }
