package a64

import (
	"encoding/binary"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/arch/arm64/arm64asm"
)

// disasm is arm64asm's GNU syntax for the instruction w.
func disasm(w uint32) (string, error) {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], w)
	inst, err := arm64asm.Decode(b[:])
	if err != nil {
		return "", err
	}
	return arm64asm.GNUSyntax(inst), nil
}

// checkWord reports how the WORD line text ("WORD $0x..." and its
// comment) fails to disassemble as its comment says.
func checkWord(l line) error {
	w, err := strconv.ParseUint(strings.TrimPrefix(l.text, "WORD $0x"), 16, 32)
	if err != nil {
		return fmt.Errorf("%s: %v", l.text, err)
	}
	got, err := disasm(uint32(w))
	if err != nil {
		return fmt.Errorf("%s // %s: %v", l.text, l.gnu, err)
	}
	if got != l.gnu {
		return fmt.Errorf("%s // %s: disassembles as %q", l.text, l.gnu, got)
	}
	return nil
}

// sweepWords emits every row of every WORD table through its method,
// over every arrangement the row takes, each register in each operand
// field, every lane and every shift, and returns the lines.
func sweepWords(t *testing.T) []line {
	f := NewFile()
	fn := f.Func("sweep", "func()", "")
	call := func(method string, args ...any) {
		m := reflect.ValueOf(fn).MethodByName(method)
		if !m.IsValid() {
			t.Fatalf("no method %s for its row", method)
		}
		in := make([]reflect.Value, len(args))
		for i, a := range args {
			in[i] = reflect.ValueOf(a)
		}
		m.Call(in)
	}
	regs := func(i int) (VReg, VReg, VReg) { return VReg(i), VReg((i + 11) % 32), VReg((i + 23) % 32) }
	for _, method := range sortedKeys(threeOps) {
		for a := B8; a <= D2; a++ {
			if threeOps[method].arrs.has(a) {
				for i := 0; i < 32; i++ {
					d, n, m := regs(i)
					call(method, m.As(a), n.As(a), d.As(a))
				}
			}
		}
	}
	for _, method := range sortedKeys(twoOps) {
		for a := B8; a <= D2; a++ {
			if twoOps[method].arrs.has(a) {
				for i := 0; i < 32; i++ {
					d, n, _ := regs(i)
					call(method, n.As(a), d.As(a))
				}
			}
		}
	}
	for _, method := range sortedKeys(elemOps) {
		for _, a := range []Arr{S2, S4, D2} {
			lanes := 4
			if a == D2 {
				lanes = 2
			}
			for i := 0; i < 32; i++ {
				d, n, m := regs(i)
				e := Elem{m, uint8(a.size()), i % lanes}
				call(method, e, n.As(a), d.As(a))
			}
		}
	}
	for _, method := range sortedKeys(shiftOps) {
		for a := B8; a <= D2; a++ {
			if shiftOps[method].arrs.has(a) {
				for sh := 1; sh <= 8<<a.size(); sh++ {
					d, n, _ := regs(sh % 32)
					call(method, sh, n.As(a), d.As(a))
				}
			}
		}
	}
	for _, method := range []string{"VMOVI32", "VMVNI32"} {
		for imm := 0; imm < 256; imm++ {
			for sh := 0; sh <= 24; sh += 8 {
				call(method, uint8(imm), sh, VReg(imm%32).As([]Arr{S2, S4}[imm%2]))
			}
		}
	}
	for imm := uint32(0); imm < 256; imm++ {
		// Every float VFMOV can load: a, NOT(b), bbbbb, cdefgh, 0s.
		b := imm >> 6 & 1
		u := imm>>7<<31 | (b^1)<<30 | b*0x1f<<25 | (imm&0x3f)<<19
		f := math.Float32frombits(u)
		if got, ok := FMOVImm(f); !ok || got != imm {
			t.Errorf("FMOVImm(%v) = %#x, %v; want %#x", f, got, ok, imm)
		}
		fn.VFMOV(f, VReg(imm%32).As([]Arr{S2, S4}[imm%2]))
	}
	if err := f.Err(); err != nil {
		t.Fatal(err)
	}
	return fn.lines
}

func sortedKeys[V any](m map[string]V) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// TestWords checks every WORD encoding against its comment: the
// encoding and the comment are both computed from the operand fields,
// the mnemonic typed once in the row; arm64asm, an independent
// decoder, must read the bits as the comment says.
func TestWords(t *testing.T) {
	lines := sweepWords(t)
	fails := 0
	for _, l := range lines {
		if l.kind != lWord {
			t.Fatalf("%s: not a WORD", l.text)
		}
		if err := checkWord(l); err != nil {
			t.Error(err)
			if fails++; fails > 20 {
				t.Fatal("too many")
			}
		}
	}
	t.Logf("%d encodings checked", len(lines))
}

// TestWordMutations shows that TestWords would catch a wrong encoder:
// flipping any one of the 32 bits of any checked encoding (an opcode
// bit typed wrong in a row, a register or lane put in the wrong field)
// makes the disassembly differ from the comment, or fail.
func TestWordMutations(t *testing.T) {
	lines := sweepWords(t)
	for _, l := range lines {
		w, _ := strconv.ParseUint(strings.TrimPrefix(l.text, "WORD $0x"), 16, 32)
		for bit := 0; bit < 32; bit++ {
			bad := l
			bad.text = fmt.Sprintf("WORD $0x%08x", uint32(w)^1<<bit)
			if checkWord(bad) == nil {
				t.Errorf("%s // %s: flipping bit %d goes unnoticed", l.text, l.gnu, bit)
			}
		}
	}
}

func TestFMOVImm(t *testing.T) {
	for _, f := range []float32{1, -1, 0.5, 2, 3, 6, 31, 0.125, 1.9375} {
		if _, ok := FMOVImm(f); !ok {
			t.Errorf("FMOVImm(%v) = false", f)
		}
	}
	for _, f := range []float32{0, 0.1, 127, 32, 1.0 / 3, float32(math.Inf(1)), float32(math.NaN())} {
		if _, ok := FMOVImm(f); ok {
			t.Errorf("FMOVImm(%v) = true", f)
		}
	}
}
