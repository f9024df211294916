package a64

import (
	"fmt"
	"math"
	"strings"
)

// The SIMD instructions Go's arm64 assembler has mnemonics for (Go 1.26;
// cmd/asm/internal/asm/testdata/arm64.s shows each), emitted as text.
// Each records its GNU disassembly as well, which the tests compare with
// the disassembly of the assembled code: operand order is where Go's
// syntax and the Arm manual's differ, and a slip there assembles fine.
// The rows of the native tables are wops whose bits are unused.

// nat3Ops are the three-register vector instructions Vm, Vn, Vd.
var nat3Ops = map[string]wop{
	"VADD":  {name: "add", arrs: intArrs},
	"VSUB":  {name: "sub", arrs: intArrs},
	"VAND":  {name: "and", arrs: byteArrs},
	"VORR":  {name: "orr", arrs: byteArrs},
	"VEOR":  {name: "eor", arrs: byteArrs},
	"VBIT":  {name: "bit", arrs: byteArrs},
	"VBSL":  {name: "bsl", arrs: byteArrs},
	"VBIF":  {name: "bif", arrs: byteArrs},
	"VFMLA": {name: "fmla", arrs: fpArrs},
	"VFMLS": {name: "fmls", arrs: fpArrs},
	"VZIP1": {name: "zip1", arrs: intArrs},
	"VZIP2": {name: "zip2", arrs: intArrs},
	"VTRN1": {name: "trn1", arrs: intArrs},
	"VTRN2": {name: "trn2", arrs: intArrs},
	"VUZP1": {name: "uzp1", arrs: intArrs},
	"VUZP2": {name: "uzp2", arrs: intArrs},
	"VCMEQ": {name: "cmeq", arrs: intArrs},
	"VUMAX": {name: "umax", arrs: bhsArrs},
	"VUMIN": {name: "umin", arrs: bhsArrs},
}

// natShiftOps are the shifts by an immediate $sh, Vn, Vd; left shifts
// take 0 to lane bits-1, right shifts 1 to lane bits.
var natShiftOps = map[string]wop{
	"VSHL":  {name: "shl", arrs: intArrs},
	"VSLI":  {name: "sli", arrs: intArrs},
	"VUSHR": {name: "ushr", arrs: intArrs},
	"VSRI":  {name: "sri", arrs: intArrs},
}

// extOp is VEXT's row.
var extOp = map[string]wop{"VEXT": {name: "ext", arrs: byteArrs}}

// nat3 emits a three-register row: d = n op m.
func (fn *Func) nat3(method string, m, n, d Vec) {
	if o, ok := fn.row(nat3Ops, method, m, n, d); ok {
		gnu := fmt.Sprintf("%s %s, %s, %s", o.name, d.gnu(), n.gnu(), m.gnu())
		if method == "VORR" && m.V == n.V {
			gnu = fmt.Sprintf("mov %s, %s", d.gnu(), n.gnu()) // the preferred disassembly
		}
		fn.emit(gnu, method, m, n, d)
	}
}

// natShift emits a shift row: d = n shifted by sh.
func (fn *Func) natShift(method string, sh int, n, d Vec) {
	o, ok := fn.row(natShiftOps, method, n, d)
	if !ok {
		return
	}
	bits := 8 << d.A.size()
	if left := method == "VSHL" || method == "VSLI"; left && (sh < 0 || sh >= bits) || !left && (sh < 1 || sh > bits) {
		fn.errf("%s: shift %d out of range for %s", method, sh, d.Go())
		return
	}
	fn.emit(fmt.Sprintf("%s %s, %s, #%d", o.name, d.gnu(), n.gnu(), sh), method, Imm(sh), n, d)
}

// List is N consecutive registers from First (wrapping after V31), of
// one arrangement: the operand of VLD1 and VST1.
type List struct {
	First Vec
	N     int
}

// Go is the list in the Go assembler's syntax, [V1.S4, V2.S4].
func (l List) Go() string {
	var s []string
	for i := 0; i < l.N; i++ {
		s = append(s, Vec{(l.First.V + VReg(i)) & 31, l.First.A}.Go())
	}
	return "[" + strings.Join(s, ", ") + "]"
}

// gnu is the list as arm64asm prints it: {v1.4s, v2.4s} for two
// registers, {v1.4s-v3.4s} for more unless they wrap.
func (l List) gnu() string {
	last := Vec{(l.First.V + VReg(l.N-1)) & 31, l.First.A}
	switch {
	case l.N == 1:
		return "{" + l.First.gnu() + "}"
	case l.N == 2:
		return "{" + l.First.gnu() + ", " + last.gnu() + "}"
	case int(l.First.V)+l.N <= 32:
		return "{" + l.First.gnu() + "-" + last.gnu() + "}"
	}
	var s []string
	for i := 0; i < l.N; i++ {
		s = append(s, Vec{(l.First.V + VReg(i)) & 31, l.First.A}.gnu())
	}
	return "{" + strings.Join(s, ", ") + "}"
}

func (fn *Func) list(method string, l List, most int) bool {
	if l.N < 1 || l.N > most || !l.First.A.valid() || l.First.A == D1 || l.First.V > V31 {
		fn.errf("%s: list of %d registers %s", method, l.N, l.First.Go())
		return false
	}
	return true
}

// postInc is the post-increment operand of VLD1.P and friends: the
// bytes transferred, which is the only immediate Go's assembler takes.
type postInc struct {
	base Reg
	n    int
}

func (p postInc) Go() string { return fmt.Sprintf("%d(%s)", p.n, p.base.Go()) }

// VLD1 loads the list from (base): ld1 {...}, [base]. Go's VLD1 has no
// offset form; FMOVQ and FLDPQ load from base+offset.
func (fn *Func) VLD1(base Reg, l List) {
	if fn.list("VLD1", l, 4) && fn.regs(base) {
		fn.emit(fmt.Sprintf("ld1 %s, %s", l.gnu(), M(base, 0).gnu()), "VLD1", M(base, 0), l)
	}
}

// VLD1P loads the list from (base) and advances base past it.
func (fn *Func) VLD1P(base Reg, l List) {
	if fn.list("VLD1.P", l, 4) && fn.regs(base) {
		n := l.N * l.First.A.Bytes()
		fn.emit(fmt.Sprintf("ld1 %s, %s,#%d", l.gnu(), M(base, 0).gnu(), n), "VLD1.P", postInc{base, n}, l)
	}
}

// VST1 stores the list to (base).
func (fn *Func) VST1(l List, base Reg) {
	if fn.list("VST1", l, 4) && fn.regs(base) {
		fn.emit(fmt.Sprintf("st1 %s, %s", l.gnu(), M(base, 0).gnu()), "VST1", l, M(base, 0))
	}
}

// VST1P stores the list to (base) and advances base past it.
func (fn *Func) VST1P(l List, base Reg) {
	if fn.list("VST1.P", l, 4) && fn.regs(base) {
		n := l.N * l.First.A.Bytes()
		fn.emit(fmt.Sprintf("st1 %s, %s,#%d", l.gnu(), M(base, 0).gnu(), n), "VST1.P", l, postInc{base, n})
	}
}

// VLD1R loads one lane's worth from (base) into every lane of d: the
// broadcast of a direct convolution's input value.
func (fn *Func) VLD1R(base Reg, d Vec) {
	if l := (List{d, 1}); fn.list("VLD1R", l, 1) && fn.regs(base) {
		fn.emit(fmt.Sprintf("ld1r %s, %s", l.gnu(), M(base, 0).gnu()), "VLD1R", M(base, 0), l)
	}
}

// VLD1RP is VLD1R advancing base by one lane.
func (fn *Func) VLD1RP(base Reg, d Vec) {
	if l := (List{d, 1}); fn.list("VLD1R.P", l, 1) && fn.regs(base) {
		n := 1 << d.A.size()
		fn.emit(fmt.Sprintf("ld1r %s, %s,#%d", l.gnu(), M(base, 0).gnu(), n), "VLD1R.P", postInc{base, n}, l)
	}
}

// VEXT sets d to bytes imm onwards of the pair n:m (n low): ext d, n,
// m, #imm.
func (fn *Func) VEXT(imm int, m, n, d Vec) {
	if _, ok := fn.row(extOp, "VEXT", m, n, d); ok {
		if imm < 0 || imm >= d.A.Bytes() {
			fn.errf("VEXT: index %d out of range for %s", imm, d.Go())
			return
		}
		fn.emit(fmt.Sprintf("ext %s, %s, %s, #%d", d.gnu(), n.gnu(), m.gnu(), imm), "VEXT", Imm(imm), m, n, d)
	}
}

// VDUP sets every lane of d to src: an Elem of d's lane size, or a Reg.
func (fn *Func) VDUP(src Operand, d Vec) {
	if !fn.regs(src) {
		return
	}
	if !intArrs.has(d.A) || d.V > V31 {
		fn.errf("VDUP: destination %s", d.Go())
		return
	}
	switch s := src.(type) {
	case Elem:
		if uint32(s.Size) == d.A.size() && s.valid() {
			fn.emit(fmt.Sprintf("dup %s, %s", d.gnu(), s.gnu()), "VDUP", s, d)
			return
		}
	case Reg:
		if s != RSP {
			fn.emit(fmt.Sprintf("dup %s, %s", d.gnu(), s.gnu(d.A.size() < 3)), "VDUP", s, d)
			return
		}
	}
	fn.errf("VDUP: cannot duplicate %s into %s", src.Go(), d.Go())
}

// VMOV copies a vector (B8 or B16), an element to an element or to a
// Reg, or a Reg to an element.
func (fn *Func) VMOV(src, dst Operand) {
	if !fn.regs(src, dst) {
		return
	}
	gnu := ""
	switch s := src.(type) {
	case Vec:
		if d, ok := dst.(Vec); ok && byteArrs.has(s.A) && s.A == d.A {
			gnu = fmt.Sprintf("mov %s, %s", d.gnu(), s.gnu())
		}
	case Elem:
		switch d := dst.(type) {
		case Elem:
			if s.Size == d.Size && s.valid() && d.valid() {
				gnu = fmt.Sprintf("mov %s, %s", d.gnu(), s.gnu())
			}
		case Reg:
			if s.Size >= 2 && s.valid() && d != RSP {
				gnu = fmt.Sprintf("mov %s, %s", d.gnu(s.Size == 2), s.gnu())
			}
		}
	case Reg:
		if d, ok := dst.(Elem); ok && d.valid() && s != RSP {
			gnu = fmt.Sprintf("mov %s, %s", d.gnu(), s.gnu(d.Size < 3))
		}
	}
	if gnu == "" {
		fn.errf("VMOV: cannot move %s to %s", src.Go(), dst.Go())
		return
	}
	fn.emit(gnu, "VMOV", src, dst)
}

// VMOVI sets every byte of d (B8 or B16) to imm.
func (fn *Func) VMOVI(imm uint8, d Vec) {
	if !byteArrs.has(d.A) || d.V > V31 {
		fn.errf("VMOVI: destination %s is not B8 or B16", d.Go())
		return
	}
	fn.emit(fmt.Sprintf("movi %s, #0x%x", d.gnu(), imm), "VMOVI", Imm(imm), d)
}

// DupConst sets every lane of d (S2 or S4) to f: one VFMOV if f is an
// FMOVImm float, else MOVD of its bits into tmp and VDUP. Kernels set
// their constants once, before their loops.
func (fn *Func) DupConst(f float32, tmp Reg, d Vec) {
	if _, ok := FMOVImm(f); ok {
		fn.VFMOV(f, d)
		return
	}
	fn.MOVD(Imm(math.Float32bits(f)), tmp)
	fn.VDUP(tmp, d)
}
