package a64

// The instruction methods, one line each, by table (word.go, native.go,
// scalar.go hold the rows). Operands are in Go's order: sources first,
// destination last; d = n op m reads "OP m, n, d" as in Go's SUB.

// Three-same instructions written as WORD (threeOps).
func (fn *Func) VFADD(m, n, d Vec)    { fn.three("VFADD", m, n, d) }
func (fn *Func) VFSUB(m, n, d Vec)    { fn.three("VFSUB", m, n, d) }
func (fn *Func) VFMUL(m, n, d Vec)    { fn.three("VFMUL", m, n, d) }
func (fn *Func) VFDIV(m, n, d Vec)    { fn.three("VFDIV", m, n, d) }
func (fn *Func) VFMAX(m, n, d Vec)    { fn.three("VFMAX", m, n, d) }
func (fn *Func) VFMIN(m, n, d Vec)    { fn.three("VFMIN", m, n, d) }
func (fn *Func) VFMAXNM(m, n, d Vec)  { fn.three("VFMAXNM", m, n, d) }
func (fn *Func) VFMINNM(m, n, d Vec)  { fn.three("VFMINNM", m, n, d) }
func (fn *Func) VFCMEQ(m, n, d Vec)   { fn.three("VFCMEQ", m, n, d) }
func (fn *Func) VFCMGE(m, n, d Vec)   { fn.three("VFCMGE", m, n, d) }
func (fn *Func) VFCMGT(m, n, d Vec)   { fn.three("VFCMGT", m, n, d) }
func (fn *Func) VFABD(m, n, d Vec)    { fn.three("VFABD", m, n, d) }
func (fn *Func) VFADDP(m, n, d Vec)   { fn.three("VFADDP", m, n, d) }
func (fn *Func) VFMAXP(m, n, d Vec)   { fn.three("VFMAXP", m, n, d) }
func (fn *Func) VFRECPS(m, n, d Vec)  { fn.three("VFRECPS", m, n, d) }
func (fn *Func) VFRSQRTS(m, n, d Vec) { fn.three("VFRSQRTS", m, n, d) }
func (fn *Func) VBIC(m, n, d Vec)     { fn.three("VBIC", m, n, d) }
func (fn *Func) VORN(m, n, d Vec)     { fn.three("VORN", m, n, d) }
func (fn *Func) VCMGT(m, n, d Vec)    { fn.three("VCMGT", m, n, d) }
func (fn *Func) VCMGE(m, n, d Vec)    { fn.three("VCMGE", m, n, d) }
func (fn *Func) VMUL(m, n, d Vec)     { fn.three("VMUL", m, n, d) }
func (fn *Func) VSMAX(m, n, d Vec)    { fn.three("VSMAX", m, n, d) }
func (fn *Func) VSMIN(m, n, d Vec)    { fn.three("VSMIN", m, n, d) }
func (fn *Func) VSSHL(m, n, d Vec)    { fn.three("VSSHL", m, n, d) }
func (fn *Func) VUSHL(m, n, d Vec)    { fn.three("VUSHL", m, n, d) }

// Two-register instructions written as WORD (twoOps); the Z forms compare with #0.0.
func (fn *Func) VFABS(n, d Vec)    { fn.two("VFABS", n, d) }
func (fn *Func) VFNEG(n, d Vec)    { fn.two("VFNEG", n, d) }
func (fn *Func) VFSQRT(n, d Vec)   { fn.two("VFSQRT", n, d) }
func (fn *Func) VFRINTN(n, d Vec)  { fn.two("VFRINTN", n, d) }
func (fn *Func) VFRINTM(n, d Vec)  { fn.two("VFRINTM", n, d) }
func (fn *Func) VFRINTP(n, d Vec)  { fn.two("VFRINTP", n, d) }
func (fn *Func) VFRINTZ(n, d Vec)  { fn.two("VFRINTZ", n, d) }
func (fn *Func) VFRINTA(n, d Vec)  { fn.two("VFRINTA", n, d) }
func (fn *Func) VFCVTZS(n, d Vec)  { fn.two("VFCVTZS", n, d) }
func (fn *Func) VFCVTZU(n, d Vec)  { fn.two("VFCVTZU", n, d) }
func (fn *Func) VFCVTNS(n, d Vec)  { fn.two("VFCVTNS", n, d) }
func (fn *Func) VFCVTMS(n, d Vec)  { fn.two("VFCVTMS", n, d) }
func (fn *Func) VSCVTF(n, d Vec)   { fn.two("VSCVTF", n, d) }
func (fn *Func) VUCVTF(n, d Vec)   { fn.two("VUCVTF", n, d) }
func (fn *Func) VFRECPE(n, d Vec)  { fn.two("VFRECPE", n, d) }
func (fn *Func) VFRSQRTE(n, d Vec) { fn.two("VFRSQRTE", n, d) }
func (fn *Func) VFCMGTZ(n, d Vec)  { fn.two("VFCMGTZ", n, d) }
func (fn *Func) VFCMGEZ(n, d Vec)  { fn.two("VFCMGEZ", n, d) }
func (fn *Func) VFCMEQZ(n, d Vec)  { fn.two("VFCMEQZ", n, d) }
func (fn *Func) VFCMLEZ(n, d Vec)  { fn.two("VFCMLEZ", n, d) }
func (fn *Func) VFCMLTZ(n, d Vec)  { fn.two("VFCMLTZ", n, d) }
func (fn *Func) VNOT(n, d Vec)     { fn.two("VNOT", n, d) }
func (fn *Func) VNEG(n, d Vec)     { fn.two("VNEG", n, d) }
func (fn *Func) VABS(n, d Vec)     { fn.two("VABS", n, d) }

// By-element instructions written as WORD (elemOps): d = n op m[i] (VFMLAE: d += n*m[i]).
func (fn *Func) VFMLAE(m Elem, n, d Vec)  { fn.elem("VFMLAE", m, n, d) }
func (fn *Func) VFMLSE(m Elem, n, d Vec)  { fn.elem("VFMLSE", m, n, d) }
func (fn *Func) VFMULE(m Elem, n, d Vec)  { fn.elem("VFMULE", m, n, d) }
func (fn *Func) VFMULXE(m Elem, n, d Vec) { fn.elem("VFMULXE", m, n, d) }

// Shifts right by an immediate written as WORD (shiftOps).
func (fn *Func) VSSHR(sh int, n, d Vec) { fn.shiftRight("VSSHR", sh, n, d) }

// Native three-register instructions (nat3Ops).
func (fn *Func) VADD(m, n, d Vec)  { fn.nat3("VADD", m, n, d) }
func (fn *Func) VSUB(m, n, d Vec)  { fn.nat3("VSUB", m, n, d) }
func (fn *Func) VAND(m, n, d Vec)  { fn.nat3("VAND", m, n, d) }
func (fn *Func) VORR(m, n, d Vec)  { fn.nat3("VORR", m, n, d) }
func (fn *Func) VEOR(m, n, d Vec)  { fn.nat3("VEOR", m, n, d) }
func (fn *Func) VBIT(m, n, d Vec)  { fn.nat3("VBIT", m, n, d) }
func (fn *Func) VBSL(m, n, d Vec)  { fn.nat3("VBSL", m, n, d) }
func (fn *Func) VBIF(m, n, d Vec)  { fn.nat3("VBIF", m, n, d) }
func (fn *Func) VFMLA(m, n, d Vec) { fn.nat3("VFMLA", m, n, d) }
func (fn *Func) VFMLS(m, n, d Vec) { fn.nat3("VFMLS", m, n, d) }
func (fn *Func) VZIP1(m, n, d Vec) { fn.nat3("VZIP1", m, n, d) }
func (fn *Func) VZIP2(m, n, d Vec) { fn.nat3("VZIP2", m, n, d) }
func (fn *Func) VTRN1(m, n, d Vec) { fn.nat3("VTRN1", m, n, d) }
func (fn *Func) VTRN2(m, n, d Vec) { fn.nat3("VTRN2", m, n, d) }
func (fn *Func) VUZP1(m, n, d Vec) { fn.nat3("VUZP1", m, n, d) }
func (fn *Func) VUZP2(m, n, d Vec) { fn.nat3("VUZP2", m, n, d) }
func (fn *Func) VCMEQ(m, n, d Vec) { fn.nat3("VCMEQ", m, n, d) }
func (fn *Func) VUMAX(m, n, d Vec) { fn.nat3("VUMAX", m, n, d) }
func (fn *Func) VUMIN(m, n, d Vec) { fn.nat3("VUMIN", m, n, d) }

// Native shifts by an immediate (natShiftOps).
func (fn *Func) VSHL(sh int, n, d Vec)  { fn.natShift("VSHL", sh, n, d) }
func (fn *Func) VSLI(sh int, n, d Vec)  { fn.natShift("VSLI", sh, n, d) }
func (fn *Func) VUSHR(sh int, n, d Vec) { fn.natShift("VUSHR", sh, n, d) }
func (fn *Func) VSRI(sh int, n, d Vec)  { fn.natShift("VSRI", sh, n, d) }

// VMOVI32 sets each 32-bit lane of d (S2 or S4) to imm<<shift, shift 0,
// 8, 16 or 24; VMVNI32 to its complement. WORD.
func (fn *Func) VMOVI32(imm uint8, shift int, d Vec) { fn.movi32("VMOVI32", imm, shift, d) }
func (fn *Func) VMVNI32(imm uint8, shift int, d Vec) { fn.movi32("VMVNI32", imm, shift, d) }

// VFMOV sets each lane of d (S2 or S4) to f, which must be a FMOVImm
// float (0.5, 1, 2, 3, 6, -1...). WORD.
func (fn *Func) VFMOV(f float32, d Vec) { fn.fmovImm(f, d) }

// Scalar float32 arithmetic (fp3Ops): d = n op m.
func (fn *Func) FADDS(m, n, d VReg)   { fn.fp3("FADDS", m, n, d) }
func (fn *Func) FSUBS(m, n, d VReg)   { fn.fp3("FSUBS", m, n, d) }
func (fn *Func) FMULS(m, n, d VReg)   { fn.fp3("FMULS", m, n, d) }
func (fn *Func) FDIVS(m, n, d VReg)   { fn.fp3("FDIVS", m, n, d) }
func (fn *Func) FMAXS(m, n, d VReg)   { fn.fp3("FMAXS", m, n, d) }
func (fn *Func) FMINS(m, n, d VReg)   { fn.fp3("FMINS", m, n, d) }
func (fn *Func) FMAXNMS(m, n, d VReg) { fn.fp3("FMAXNMS", m, n, d) }
func (fn *Func) FMINNMS(m, n, d VReg) { fn.fp3("FMINNMS", m, n, d) }

// FMADDS sets d = n*m + a and FMSUBS d = a - n*m, rounding once.
func (fn *Func) FMADDS(m, a, n, d VReg) { fn.fma("FMADDS", "fmadd", m, a, n, d) }
func (fn *Func) FMSUBS(m, a, n, d VReg) { fn.fma("FMSUBS", "fmsub", m, a, n, d) }

// FMOVS, FMOVD and FMOVQ move 4, 8 or 16 bytes: loads from a Mem, stores
// to one, register copies (S, D) and moves of a Reg's bits (S, D).
func (fn *Func) FMOVS(src, dst Operand) { fn.fmov("FMOVS", src, dst) }
func (fn *Func) FMOVD(src, dst Operand) { fn.fmov("FMOVD", src, dst) }
func (fn *Func) FMOVQ(src, dst Operand) { fn.fmov("FMOVQ", src, dst) }

// ADD, SUB and SUBS set d = n op src, src a Reg or an Imm; SUBS sets
// the flags.
func (fn *Func) ADD(src Operand, n, d Reg)  { fn.int3("ADD", src, n, d) }
func (fn *Func) SUB(src Operand, n, d Reg)  { fn.int3("SUB", src, n, d) }
func (fn *Func) SUBS(src Operand, n, d Reg) { fn.int3("SUBS", src, n, d) }

// Conditional branches on the flags to the label l.
func (fn *Func) BEQ(l string) { fn.bcond("BEQ", l) }
func (fn *Func) BNE(l string) { fn.bcond("BNE", l) }
func (fn *Func) BLT(l string) { fn.bcond("BLT", l) }
func (fn *Func) BGE(l string) { fn.bcond("BGE", l) }
func (fn *Func) BGT(l string) { fn.bcond("BGT", l) }
func (fn *Func) BLE(l string) { fn.bcond("BLE", l) }
func (fn *Func) BLO(l string) { fn.bcond("BLO", l) }
func (fn *Func) BHS(l string) { fn.bcond("BHS", l) }
func (fn *Func) BHI(l string) { fn.bcond("BHI", l) }
func (fn *Func) BLS(l string) { fn.bcond("BLS", l) }
func (fn *Func) BMI(l string) { fn.bcond("BMI", l) }
func (fn *Func) BPL(l string) { fn.bcond("BPL", l) }
