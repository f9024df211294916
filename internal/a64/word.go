package a64

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// The instructions Go's arm64 assembler has no mnemonic for, written as
// WORD $0x... with their disassembly as a comment. Each table is one
// encoding class (the Arm ARM's "Advanced SIMD three same", "two-register
// miscellaneous", "vector x indexed element", "shift by immediate",
// "modified immediate"); a row is one instruction of the class: its GNU
// name, its encoding with the operand fields zero, the arrangements it
// takes and how the arrangement is encoded. A table is keyed by the
// method that emits the row, named as Go's assembler would name it.

// wop is one row (of the native tables too, bits unused there).
type wop struct {
	name string
	bits uint32
	arrs arrSet
	size sizeEnc
	zero bool // the two-register compares with zero
}

// sizeEnc is how an encoding holds its arrangement's lane size.
type sizeEnc uint8

const (
	noSize  sizeEnc = iota // bits 23:22 are opcode (the bitwise instructions)
	fpSize                 // bit 22: 0 for S lanes, 1 for D
	intSize                // bits 23:22: log2 of the lane bytes
)

// arrSet is a set of arrangements.
type arrSet uint16

func arrs(as ...Arr) arrSet {
	var s arrSet
	for _, a := range as {
		s |= 1 << a
	}
	return s
}

func (s arrSet) has(a Arr) bool { return a.valid() && s&(1<<a) != 0 }

var (
	fpArrs   = arrs(S2, S4, D2)
	byteArrs = arrs(B8, B16)
	bhsArrs  = arrs(B8, B16, H4, H8, S2, S4)
	intArrs  = arrs(B8, B16, H4, H8, S2, S4, D2)
	sArrs    = arrs(S2, S4)
)

// enc is the row's encoding for arrangement a, register fields zero.
func (o wop) enc(a Arr) uint32 {
	w := o.bits | a.q()<<30
	switch o.size {
	case fpSize:
		w |= (a.size() & 1) << 22
	case intSize:
		w |= a.size() << 22
	}
	return w
}

// threeOps are the "three same" instructions Vm, Vn, Vd: d = n op m.
var threeOps = map[string]wop{
	"VFADD":    {name: "fadd", bits: 0x0e20d400, arrs: fpArrs, size: fpSize},
	"VFSUB":    {name: "fsub", bits: 0x0ea0d400, arrs: fpArrs, size: fpSize},
	"VFMUL":    {name: "fmul", bits: 0x2e20dc00, arrs: fpArrs, size: fpSize},
	"VFDIV":    {name: "fdiv", bits: 0x2e20fc00, arrs: fpArrs, size: fpSize},
	"VFMAX":    {name: "fmax", bits: 0x0e20f400, arrs: fpArrs, size: fpSize},
	"VFMIN":    {name: "fmin", bits: 0x0ea0f400, arrs: fpArrs, size: fpSize},
	"VFMAXNM":  {name: "fmaxnm", bits: 0x0e20c400, arrs: fpArrs, size: fpSize},
	"VFMINNM":  {name: "fminnm", bits: 0x0ea0c400, arrs: fpArrs, size: fpSize},
	"VFCMEQ":   {name: "fcmeq", bits: 0x0e20e400, arrs: fpArrs, size: fpSize},
	"VFCMGE":   {name: "fcmge", bits: 0x2e20e400, arrs: fpArrs, size: fpSize},
	"VFCMGT":   {name: "fcmgt", bits: 0x2ea0e400, arrs: fpArrs, size: fpSize},
	"VFABD":    {name: "fabd", bits: 0x2ea0d400, arrs: fpArrs, size: fpSize},
	"VFADDP":   {name: "faddp", bits: 0x2e20d400, arrs: fpArrs, size: fpSize},
	"VFMAXP":   {name: "fmaxp", bits: 0x2e20f400, arrs: fpArrs, size: fpSize},
	"VFRECPS":  {name: "frecps", bits: 0x0e20fc00, arrs: fpArrs, size: fpSize},
	"VFRSQRTS": {name: "frsqrts", bits: 0x0ea0fc00, arrs: fpArrs, size: fpSize},
	"VBIC":     {name: "bic", bits: 0x0e601c00, arrs: byteArrs},
	"VORN":     {name: "orn", bits: 0x0ee01c00, arrs: byteArrs},
	"VCMGT":    {name: "cmgt", bits: 0x0e203400, arrs: intArrs, size: intSize},
	"VCMGE":    {name: "cmge", bits: 0x0e203c00, arrs: intArrs, size: intSize},
	"VMUL":     {name: "mul", bits: 0x0e209c00, arrs: bhsArrs, size: intSize},
	"VSMAX":    {name: "smax", bits: 0x0e206400, arrs: bhsArrs, size: intSize},
	"VSMIN":    {name: "smin", bits: 0x0e206c00, arrs: bhsArrs, size: intSize},
	"VSSHL":    {name: "sshl", bits: 0x0e204400, arrs: intArrs, size: intSize},
	"VUSHL":    {name: "ushl", bits: 0x2e204400, arrs: intArrs, size: intSize},
}

// twoOps are the "two-register miscellaneous" instructions Vn, Vd.
var twoOps = map[string]wop{
	"VFABS":    {name: "fabs", bits: 0x0ea0f800, arrs: fpArrs, size: fpSize},
	"VFNEG":    {name: "fneg", bits: 0x2ea0f800, arrs: fpArrs, size: fpSize},
	"VFSQRT":   {name: "fsqrt", bits: 0x2ea1f800, arrs: fpArrs, size: fpSize},
	"VFRINTN":  {name: "frintn", bits: 0x0e218800, arrs: fpArrs, size: fpSize},
	"VFRINTM":  {name: "frintm", bits: 0x0e219800, arrs: fpArrs, size: fpSize},
	"VFRINTP":  {name: "frintp", bits: 0x0ea18800, arrs: fpArrs, size: fpSize},
	"VFRINTZ":  {name: "frintz", bits: 0x0ea19800, arrs: fpArrs, size: fpSize},
	"VFRINTA":  {name: "frinta", bits: 0x2e218800, arrs: fpArrs, size: fpSize},
	"VFCVTZS":  {name: "fcvtzs", bits: 0x0ea1b800, arrs: fpArrs, size: fpSize},
	"VFCVTZU":  {name: "fcvtzu", bits: 0x2ea1b800, arrs: fpArrs, size: fpSize},
	"VFCVTNS":  {name: "fcvtns", bits: 0x0e21a800, arrs: fpArrs, size: fpSize},
	"VFCVTMS":  {name: "fcvtms", bits: 0x0e21b800, arrs: fpArrs, size: fpSize},
	"VSCVTF":   {name: "scvtf", bits: 0x0e21d800, arrs: fpArrs, size: fpSize},
	"VUCVTF":   {name: "ucvtf", bits: 0x2e21d800, arrs: fpArrs, size: fpSize},
	"VFRECPE":  {name: "frecpe", bits: 0x0ea1d800, arrs: fpArrs, size: fpSize},
	"VFRSQRTE": {name: "frsqrte", bits: 0x2ea1d800, arrs: fpArrs, size: fpSize},
	"VFCMGTZ":  {name: "fcmgt", bits: 0x0ea0c800, arrs: fpArrs, size: fpSize, zero: true},
	"VFCMGEZ":  {name: "fcmge", bits: 0x2ea0c800, arrs: fpArrs, size: fpSize, zero: true},
	"VFCMEQZ":  {name: "fcmeq", bits: 0x0ea0d800, arrs: fpArrs, size: fpSize, zero: true},
	"VFCMLEZ":  {name: "fcmle", bits: 0x2ea0d800, arrs: fpArrs, size: fpSize, zero: true},
	"VFCMLTZ":  {name: "fcmlt", bits: 0x0ea0e800, arrs: fpArrs, size: fpSize, zero: true},
	"VNOT":     {name: "mvn", bits: 0x2e205800, arrs: byteArrs},
	"VNEG":     {name: "neg", bits: 0x2e20b800, arrs: intArrs, size: intSize},
	"VABS":     {name: "abs", bits: 0x0e20b800, arrs: intArrs, size: intSize},
}

// elemOps are the floating-point "vector x indexed element" instructions
// Vm.S[i], Vn, Vd: d = n op m[i] in every lane (fmla: d += n*m[i]).
var elemOps = map[string]wop{
	"VFMLAE":  {name: "fmla", bits: 0x0f801000, arrs: fpArrs, size: fpSize},
	"VFMLSE":  {name: "fmls", bits: 0x0f805000, arrs: fpArrs, size: fpSize},
	"VFMULE":  {name: "fmul", bits: 0x0f809000, arrs: fpArrs, size: fpSize},
	"VFMULXE": {name: "fmulx", bits: 0x2f809000, arrs: fpArrs, size: fpSize},
}

// shiftOps are the right shifts by an immediate the assembler lacks
// ($sh, Vn, Vd; it has VSHL, VUSHR, VSRI and VSLI).
var shiftOps = map[string]wop{
	"VSSHR": {name: "sshr", bits: 0x0f000400, arrs: intArrs},
}

// immOps are the "modified immediate" moves of 32-bit lanes ($imm, Vd):
// MOVI and MVNI of a byte shifted left by 0, 8, 16 or 24, and FMOV of a
// float with a 3-bit exponent and 4-bit fraction (cmode 1111).
var immOps = map[string]wop{
	"VMOVI32": {name: "movi", bits: 0x0f000400, arrs: sArrs},
	"VMVNI32": {name: "mvni", bits: 0x2f000400, arrs: sArrs},
	"VFMOV":   {name: "fmov", bits: 0x0f00f400, arrs: sArrs},
}

// row looks up a row and checks its operands' arrangements, all a.
func (fn *Func) row(table map[string]wop, method string, vs ...Vec) (wop, bool) {
	o, ok := table[method]
	if !ok {
		fn.errf("%s: no row", method) // a method without a row: a bug here
		return o, false
	}
	for _, v := range vs {
		if v.A != vs[0].A || !o.arrs.has(v.A) || v.V > V31 {
			fn.errf("%s: operands %s: want one arrangement of %s", method, vecsGo(vs), o.arrs)
			return o, false
		}
	}
	return o, true
}

func vecsGo(vs []Vec) string {
	var s []string
	for _, v := range vs {
		s = append(s, v.Go())
	}
	return strings.Join(s, ", ")
}

func (s arrSet) String() string {
	var names []string
	for a := B8; a <= D2; a++ {
		if s.has(a) {
			names = append(names, arrNames[a].goName)
		}
	}
	return strings.Join(names, " ")
}

// three emits a three-same row: d = n op m.
func (fn *Func) three(method string, m, n, d Vec) {
	o, ok := fn.row(threeOps, method, m, n, d)
	if ok {
		fn.word(o.enc(d.A)|uint32(m.V)<<16|uint32(n.V)<<5|uint32(d.V),
			fmt.Sprintf("%s %s, %s, %s", o.name, d.gnu(), n.gnu(), m.gnu()))
	}
}

// two emits a two-register row: d = op n.
func (fn *Func) two(method string, n, d Vec) {
	o, ok := fn.row(twoOps, method, n, d)
	if !ok {
		return
	}
	gnu := fmt.Sprintf("%s %s, %s", o.name, d.gnu(), n.gnu())
	if o.zero {
		gnu += ", #0" // as arm64asm prints it (objdump: #0.0)
	}
	fn.word(o.enc(d.A)|uint32(n.V)<<5|uint32(d.V), gnu)
}

// elem emits a by-element row: d = n op m[i]. A lane index is H:L for
// S lanes and H for D lanes; Rm has 5 bits (M:Rm) for both.
func (fn *Func) elem(method string, m Elem, n, d Vec) {
	o, ok := fn.row(elemOps, method, n, d)
	if !ok {
		return
	}
	if uint32(m.Size) != d.A.size() || !m.valid() || m.V > V31 {
		fn.errf("%s: element %s does not match %s", method, m.Go(), d.Go())
		return
	}
	i := uint32(m.I)
	hl := (i>>1)<<11 | (i&1)<<21
	if m.Size == 3 {
		hl = i << 11
	}
	fn.word(o.enc(d.A)|hl|uint32(m.V)<<16|uint32(n.V)<<5|uint32(d.V),
		fmt.Sprintf("%s %s, %s, %s", o.name, d.gnu(), n.gnu(), m.gnu()))
}

// shiftRight emits a shift-by-immediate row: d = n >> sh, 1 <= sh <=
// lane bits, encoded as immh:immb = 2*lane bits - sh.
func (fn *Func) shiftRight(method string, sh int, n, d Vec) {
	o, ok := fn.row(shiftOps, method, n, d)
	if !ok {
		return
	}
	bits := 8 << d.A.size()
	if sh < 1 || sh > bits {
		fn.errf("%s: shift %d out of 1..%d", method, sh, bits)
		return
	}
	fn.word(o.bits|d.A.q()<<30|uint32(2*bits-sh)<<16|uint32(n.V)<<5|uint32(d.V),
		fmt.Sprintf("%s %s, %s, #%d", o.name, d.gnu(), n.gnu(), sh))
}

// modImm emits a modified-immediate row: the 8-bit immediate abcdefgh
// goes to bits 18:16 and 9:5, cmode to 15:12.
func (fn *Func) modImm(method string, imm8, cmode uint32, d Vec, operand string) {
	o, ok := fn.row(immOps, method, d)
	if ok {
		fn.word(o.bits|d.A.q()<<30|(imm8>>5)<<16|cmode<<12|(imm8&31)<<5|uint32(d.V),
			fmt.Sprintf("%s %s, %s", o.name, d.gnu(), operand))
	}
}

// movi32 emits MOVI or MVNI of imm<<shift in each 32-bit lane
// (cmode 0ss0: shift = 8*ss).
func (fn *Func) movi32(method string, imm uint8, shift int, d Vec) {
	if shift%8 != 0 || shift < 0 || shift > 24 {
		fn.errf("%s: shift %d is not 0, 8, 16 or 24", method, shift)
		return
	}
	op := fmt.Sprintf("#0x%x", imm)
	if shift > 0 {
		op += fmt.Sprintf(", lsl #%d", shift)
	}
	fn.modImm(method, uint32(imm), uint32(shift/8)<<1, d, op)
}

// FMOVImm reports whether f is a float FMOV can load: ±n/16 * 2^e
// for n in 16..31 and e in -3..4.
func FMOVImm(f float32) (imm8 uint32, ok bool) {
	u := math.Float32bits(f)
	if u&(1<<19-1) != 0 {
		return 0, false
	}
	b := u >> 25 & 1
	if e := u >> 25 & 0x3f; e != 0x20 && e != 0x1f { // bits 30:25: NOT(b) then bbbbb
		return 0, false
	}
	return u>>31<<7 | b<<6 | u>>19&0x3f, true
}

// fmovImm emits FMOV of f in each lane, f an FMOVImm float.
func (fn *Func) fmovImm(f float32, d Vec) {
	imm8, ok := FMOVImm(f)
	if !ok {
		fn.errf("VFMOV: %v is not an 8-bit float immediate", f)
		return
	}
	fn.modImm("VFMOV", imm8, 0xf, d, "#"+strconv.FormatFloat(float64(f), 'e', 18, 64))
}
