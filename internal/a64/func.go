package a64

import (
	"errors"
	"fmt"
)

// File is a set of assembly functions: one .s file (File.Asm) and the
// Go declarations of its functions (File.Stubs).
type File struct {
	funcs []*Func
	errs  []error
}

// NewFile returns an empty file.
func NewFile() *File { return &File{} }

// Func is one assembly function being built. Its instruction methods
// take their operands in the Go assembler's order, sources first and the
// destination last, also for the instructions written as WORD (the
// order Go's assembler would take if it had them), so that the
// generated text reads the same either way.
type Func struct {
	file   *File
	name   string
	doc    string
	sig    *frameSig
	frame  int // bytes of locals
	lines  []line
	labels int
}

// line is one line of a function's body.
type line struct {
	kind lineKind
	text string // Go assembler text of an instruction; label; comment
	gnu  string // an instruction's GNU disassembly, "" if not one instruction
}

type lineKind uint8

const (
	lInst lineKind = iota
	lWord
	lLabel
	lComment
)

// Func starts the function name of Go signature sig, a func type
// ("func(dst, src *float32, n int)"); doc is its doc comment, which
// the Go declaration carries.
func (f *File) Func(name, sig, doc string) *Func {
	fn := &Func{file: f, name: name, doc: doc}
	s, err := parseSig(sig)
	if err != nil {
		fn.errf("%v", err)
		s = &frameSig{expr: sig}
	}
	fn.sig = s
	f.funcs = append(f.funcs, fn)
	return fn
}

// Err is nil if every function was built without error, or else the
// first ten errors, each naming its function.
func (f *File) Err() error {
	errs := f.errs
	if len(errs) > 10 {
		errs = append(errs[:10:10], fmt.Errorf("and %d more errors", len(f.errs)-10))
	}
	return errors.Join(errs...)
}

// errf records an error in function fn (one the builder made: a
// register it may not use, an operand of the wrong kind).
func (fn *Func) errf(format string, args ...any) {
	fn.file.errs = append(fn.file.errs, fmt.Errorf("a64: %s: %s", fn.name, fmt.Sprintf(format, args...)))
}

// Name is the function's name.
func (fn *Func) Name() string { return fn.name }

// Inst is one machine instruction of a function: its Go assembler text
// and its GNU disassembly, GNU being "" for the instructions the
// assembler may expand to several (moves of large constants, accesses
// to arguments) and for branches (whose disassembly names an address).
type Inst struct{ Go, GNU string }

// Insts are the function's instructions in order, for tests that
// disassemble the assembled function and compare.
func (fn *Func) Insts() []Inst {
	var is []Inst
	for _, l := range fn.lines {
		if l.kind == lInst || l.kind == lWord {
			is = append(is, Inst{l.text, l.gnu})
		}
	}
	return is
}

// emit appends the instruction op args (Go syntax) that disassembles as
// gnu.
func (fn *Func) emit(gnu, op string, args ...Operand) {
	text := op
	for i, a := range args {
		if i == 0 {
			text += " "
		} else {
			text += ", "
		}
		text += a.Go()
	}
	fn.lines = append(fn.lines, line{lInst, text, gnu})
}

// word appends the instruction encoded as w that disassembles as gnu.
func (fn *Func) word(w uint32, gnu string) {
	fn.lines = append(fn.lines, line{lWord, fmt.Sprintf("WORD $0x%08x", w), gnu})
}

// Comment adds a comment line to the body.
func (fn *Func) Comment(text string) { fn.lines = append(fn.lines, line{kind: lComment, text: text}) }

// Label places the label name here. Labels are local to the function.
func (fn *Func) Label(name string) { fn.lines = append(fn.lines, line{kind: lLabel, text: name}) }

// NewLabel returns a label name not used before in the function,
// starting with what.
func (fn *Func) NewLabel(what string) string {
	fn.labels++
	return fmt.Sprintf("%s%d", what, fn.labels)
}

// Loop emits body in a loop that counts cnt down by step to zero: cnt
// must hold a positive multiple of step on entry, and body must keep it.
func (fn *Func) Loop(cnt Reg, step int, body func()) {
	l := fn.NewLabel("loop")
	fn.Label(l)
	body()
	fn.SUBS(Imm(step), cnt, cnt)
	fn.BNE(l)
}

// Local reserves size bytes of the stack frame and returns their
// address, off(RSP), 8-aligned (16 for 16 bytes or more; RSP is). The
// assembler saves the link register at 0(RSP) once the frame is not
// empty; the locals are above it.
func (fn *Func) Local(size int) Mem {
	a := 8
	if size >= 16 {
		a = 16
	}
	off := (8 + fn.frame + a - 1) &^ (a - 1)
	fn.frame = off - 8 + (size+7)&^7
	return M(RSP, off)
}

// Load loads the argument named name (as go vet knows it: p, s_base,
// ret...) into dst, a Reg, or a VReg for a float.
func (fn *Func) Load(name string, dst Operand) {
	s, ok := fn.slot(name)
	if !ok {
		return
	}
	if !fn.fits(s, dst) {
		return
	}
	fn.emit("", s.load, fp{s}, dst)
}

// Store stores src, a Reg or a VReg, into the result named name.
func (fn *Func) Store(src Operand, name string) {
	s, ok := fn.slot(name)
	if !ok {
		return
	}
	if !fn.fits(s, src) {
		return
	}
	fn.emit("", s.store, src, fp{s})
}

func (fn *Func) slot(name string) (slot, bool) {
	for _, s := range fn.sig.slots {
		if s.name == name {
			return s, true
		}
	}
	fn.errf("no argument %s in %s", name, fn.sig.expr)
	return slot{}, false
}

// fits reports whether r is a register of the argument's kind.
func (fn *Func) fits(s slot, r Operand) bool {
	switch r := r.(type) {
	case Reg:
		if !s.float {
			return fn.regs(r)
		}
	case VReg:
		if s.float {
			return true
		}
	}
	fn.errf("argument %s (%s) cannot move to or from %s", s.name, s.load, r.Go())
	return false
}

// regs reports whether the registers of ops exist and the function may
// use them, recording one error if not.
func (fn *Func) regs(ops ...Operand) bool {
	for _, o := range ops {
		var v VReg
		switch o := o.(type) {
		case Reg:
			if !o.usable() {
				fn.errf("register R%d is reserved (R18 platform, R27 assembler, R28 g, R29 frame pointer, R30 link)", o)
				return false
			}
		case Mem:
			if !fn.regs(o.Base) {
				return false
			}
		case VReg:
			v = o
		case Vec:
			v = o.V
		case Elem:
			v = o.V
		}
		if v > V31 {
			fn.errf("no register V%d", v)
			return false
		}
	}
	return true
}

// fp is an argument slot as an operand, name+off(FP).
type fp struct{ s slot }

func (a fp) Go() string { return fmt.Sprintf("%s+%d(FP)", a.s.name, a.s.off) }
