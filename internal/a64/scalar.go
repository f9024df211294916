package a64

import (
	"fmt"
	"strings"
)

// The scalar instructions, all native: floating-point moves and
// arithmetic on the F views of the SIMD registers, loads and stores,
// integer and pointer arithmetic, and branches.

// fmoves are the scalar floating-point moves by size: S (float32),
// D (float64) and Q (a whole 128-bit register, loads and stores only).
var fmoves = map[string]int{"FMOVS": 2, "FMOVD": 3, "FMOVQ": 4}

// fmov emits FMOVS, FMOVD or FMOVQ: a load (src a Mem), a store (dst a
// Mem), a register copy, or (S and D) a move from a Reg's bits.
func (fn *Func) fmov(op string, src, dst Operand) {
	if !fn.regs(src, dst) {
		return
	}
	size := fmoves[op]
	gnu := ""
	switch s := src.(type) {
	case Mem:
		if d, ok := dst.(VReg); ok {
			gnu = fmt.Sprintf("ldr %s, %s", d.gnuScalar(size), s.gnu())
		}
	case VReg:
		switch d := dst.(type) {
		case Mem:
			gnu = fmt.Sprintf("str %s, %s", s.gnuScalar(size), d.gnu())
		case VReg:
			if size < 4 {
				gnu = fmt.Sprintf("fmov %s, %s", d.gnuScalar(size), s.gnuScalar(size))
			}
		}
	case Reg:
		if d, ok := dst.(VReg); ok && size < 4 && s != RSP {
			gnu = fmt.Sprintf("fmov %s, %s", d.gnuScalar(size), s.gnu(size == 2))
		}
	}
	if gnu == "" {
		fn.errf("%s: cannot move %s to %s", op, src.Go(), dst.Go())
		return
	}
	if m, ok := src.(Mem); ok && !scaledOff(m.Off, size) {
		gnu = "" // the assembler picks another form, or several instructions
	}
	if m, ok := dst.(Mem); ok && !scaledOff(m.Off, size) {
		gnu = ""
	}
	fn.emit(gnu, op, src, dst)
}

// scaledOff reports whether off is an offset the one-instruction load
// or store of 1<<size bytes takes: a multiple of the size, 0 to 4095
// times the size.
func scaledOff(off, size int) bool {
	return off >= 0 && off%(1<<size) == 0 && off>>size < 4096
}

// pair is the register pair operand of FLDPQ and FSTPQ, (F1, F2).
type pair struct{ a, b VReg }

func (p pair) Go() string { return fmt.Sprintf("(%s, %s)", p.a.Go(), p.b.Go()) }

// FLDPQ loads the 32 bytes at m into a and b: ldp qa, qb.
func (fn *Func) FLDPQ(m Mem, a, b VReg) {
	if fn.regs(m, a, b) {
		fn.emit(pairGNU("ldp", m, a, b), "FLDPQ", m, pair{a, b})
	}
}

// FSTPQ stores a and b to the 32 bytes at m: stp qa, qb.
func (fn *Func) FSTPQ(a, b VReg, m Mem) {
	if fn.regs(a, b, m) {
		fn.emit(pairGNU("stp", m, a, b), "FSTPQ", pair{a, b}, m)
	}
}

// pairGNU is the disassembly of a Q pair access, if one instruction:
// the offset a multiple of 16 in -1024..1008.
func pairGNU(op string, m Mem, a, b VReg) string {
	if m.Off%16 != 0 || m.Off < -1024 || m.Off > 1008 {
		return ""
	}
	return fmt.Sprintf("%s %s, %s, %s", op, a.gnuScalar(4), b.gnuScalar(4), m.gnu())
}

// fp3Ops are the scalar float32 instructions Fm, Fn, Fd: d = n op m.
var fp3Ops = map[string]string{
	"FADDS": "fadd", "FSUBS": "fsub", "FMULS": "fmul", "FDIVS": "fdiv",
	"FMAXS": "fmax", "FMINS": "fmin", "FMAXNMS": "fmaxnm", "FMINNMS": "fminnm",
}

func (fn *Func) fp3(op string, m, n, d VReg) {
	if !fn.regs(m, n, d) {
		return
	}
	fn.emit(fmt.Sprintf("%s %s, %s, %s", fp3Ops[op], d.gnuScalar(2), n.gnuScalar(2), m.gnuScalar(2)), op, m, n, d)
}

// fma emits FMADDS (d = n*m + a) or FMSUBS (d = a - n*m), Go order
// Fm, Fa, Fn, Fd.
func (fn *Func) fma(op, name string, m, a, n, d VReg) {
	if !fn.regs(m, a, n, d) {
		return
	}
	fn.emit(fmt.Sprintf("%s %s, %s, %s, %s", name, d.gnuScalar(2), n.gnuScalar(2), m.gnuScalar(2), a.gnuScalar(2)), op, m, a, n, d)
}

// intOps are the integer instructions src, Rn, Rd (d = n op src), src a
// Reg or an Imm.
var intOps = map[string]string{"ADD": "add", "SUB": "sub", "SUBS": "subs"}

func (fn *Func) int3(op string, src Operand, n, d Reg) {
	if !fn.regs(src, n, d) {
		return
	}
	gnu := ""
	switch s := src.(type) {
	case Reg:
		if s != RSP && n != ZR && d != ZR && (s != ZR || n != RSP && d != RSP) {
			gnu = fmt.Sprintf("%s %s, %s, %s", intOps[op], d.gnu(false), n.gnu(false), s.gnu(false))
		}
	case Imm:
		if s >= 0 && s < 4096 && n != ZR && (d != ZR || op == "SUBS") {
			gnu = fmt.Sprintf("%s %s, %s, #0x%x", intOps[op], d.gnu(false), n.gnu(false), int64(s))
		}
	default:
		fn.errf("%s: operand %s is not a register or an immediate", op, src.Go())
		return
	}
	fn.emit(gnu, op, src, n, d)
}

// MOVD moves 64 bits: a Reg, an Imm or a Mem (a load) into a Reg, or a
// Reg into a Mem (a store).
func (fn *Func) MOVD(src, dst Operand) {
	if !fn.regs(src, dst) {
		return
	}
	gnu, ok := "", false
	switch s := src.(type) {
	case Reg:
		switch d := dst.(type) {
		case Reg:
			ok = true
			if s != RSP && d != RSP {
				gnu = fmt.Sprintf("mov %s, %s", d.gnu(false), s.gnu(false))
			}
		case Mem:
			ok = s != RSP
			if scaledOff(d.Off, 3) {
				gnu = fmt.Sprintf("str %s, %s", s.gnu(false), d.gnu())
			}
		}
	case Imm:
		d, isReg := dst.(Reg)
		ok = isReg && d != RSP
	case Mem:
		d, isReg := dst.(Reg)
		ok = isReg && d != RSP
		if ok && scaledOff(s.Off, 3) {
			gnu = fmt.Sprintf("ldr %s, %s", d.gnu(false), s.gnu())
		}
	}
	if !ok {
		fn.errf("MOVD: cannot move %s to %s", src.Go(), dst.Go())
		return
	}
	fn.emit(gnu, "MOVD", src, dst)
}

// CMP compares n with src, a Reg or an Imm, setting the flags as n-src.
func (fn *Func) CMP(src Operand, n Reg) {
	if !fn.regs(src, n) {
		return
	}
	gnu := ""
	switch s := src.(type) {
	case Reg:
		if s != RSP && n != RSP {
			gnu = fmt.Sprintf("cmp %s, %s", n.gnu(false), s.gnu(false))
		}
	case Imm:
		if s >= 0 && s < 4096 && n != ZR {
			gnu = fmt.Sprintf("cmp %s, #0x%x", n.gnu(false), int64(s))
		}
	default:
		fn.errf("CMP: operand %s is not a register or an immediate", src.Go())
		return
	}
	fn.emit(gnu, "CMP", src, n)
}

// LSL sets d = n << sh.
func (fn *Func) LSL(sh int, n, d Reg) {
	if !fn.regs(n, d) {
		return
	}
	if sh >= 0 && sh < 64 {
		fn.emit(fmt.Sprintf("lsl %s, %s, #%d", d.gnu(false), n.gnu(false), sh), "LSL", Imm(sh), n, d)
		return
	}
	fn.errf("LSL: shift %d of %s", sh, n.Go())
}

// MUL sets d = n * m.
func (fn *Func) MUL(m, n, d Reg) {
	if fn.regs(m, n, d) {
		fn.emit(fmt.Sprintf("mul %s, %s, %s", d.gnu(false), n.gnu(false), m.gnu(false)), "MUL", m, n, d)
	}
}

// MADD sets d = n*m + a.
func (fn *Func) MADD(m, a, n, d Reg) {
	if fn.regs(m, a, n, d) {
		fn.emit(fmt.Sprintf("madd %s, %s, %s, %s", d.gnu(false), n.gnu(false), m.gnu(false), a.gnu(false)), "MADD", m, a, n, d)
	}
}

// PRFM prefetches the line at m; op is one of Go's prefetch operations,
// PLDL1KEEP, PLDL2KEEP, PLDL1STRM, PSTL1KEEP...
func (fn *Func) PRFM(m Mem, op string) {
	if fn.regs(m) {
		gnu := ""
		if scaledOff(m.Off, 3) {
			gnu = fmt.Sprintf("prfm %s, %s", strings.ToLower(op), m.gnu())
		}
		fn.emit(gnu, "PRFM", m, label(op))
	}
}

// label is a branch target or a named operand, printed as is.
type label string

func (l label) Go() string { return string(l) }

// branches are the conditional branches on the flags.
var branches = []string{"BEQ", "BNE", "BLT", "BGE", "BGT", "BLE", "BLO", "BHS", "BHI", "BLS", "BMI", "BPL"}

// B branches to the label l.
func (fn *Func) B(l string) { fn.emit("", "B", label(l)) }

// bcond emits the conditional branch cond (one of branches) to l.
func (fn *Func) bcond(cond, l string) {
	for _, b := range branches {
		if b == cond {
			fn.emit("", cond, label(l))
			return
		}
	}
	fn.errf("no branch %s", cond)
}

// CBZ branches to l if r is zero; CBNZ if it is not.
func (fn *Func) CBZ(r Reg, l string) {
	if fn.regs(r) {
		fn.emit("", "CBZ", r, label(l))
	}
}

func (fn *Func) CBNZ(r Reg, l string) {
	if fn.regs(r) {
		fn.emit("", "CBNZ", r, label(l))
	}
}

// RET returns.
func (fn *Func) RET() { fn.emit("ret", "RET") }
