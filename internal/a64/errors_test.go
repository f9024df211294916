package a64

import (
	"strings"
	"testing"
)

// TestErrors checks that misuse is reported, one line each naming the
// function, and that nothing is printed then.
func TestErrors(t *testing.T) {
	for _, c := range []struct {
		sig  string
		body func(fn *Func)
		want string
	}{
		{"func(p *float32)", func(fn *Func) { fn.Load("p", Reg(18)) }, "register R18 is reserved"},
		{"func(p *float32)", func(fn *Func) { fn.MOVD(Reg(29), R0) }, "register R29 is reserved"},
		{"func(p *float32)", func(fn *Func) { fn.Load("q", R0) }, "no argument q in func(p *float32)"},
		{"func(x float32)", func(fn *Func) { fn.Load("x", R0) }, "argument x (FMOVS) cannot move to or from R0"},
		{"func(m map[int]int)", func(fn *Func) {}, "type map[int]int is not supported"},
		{"func(", func(fn *Func) {}, `signature "func("`},
		{"func()", func(fn *Func) { fn.VFADD(V0.S4(), V1.S4(), V2.B16()) }, "VFADD: operands V0.S4, V1.S4, V2.B16: want one arrangement of S2 S4 D2"},
		{"func()", func(fn *Func) { fn.VFMLAE(V0.D(1), V1.S4(), V2.S4()) }, "VFMLAE: element V0.D[1] does not match V2.S4"},
		{"func()", func(fn *Func) { fn.VFMLAE(V0.S(4), V1.S4(), V2.S4()) }, "VFMLAE: element V0.S[4] does not match V2.S4"},
		{"func()", func(fn *Func) { fn.VSHL(32, V0.S4(), V0.S4()) }, "VSHL: shift 32 out of range for V0.S4"},
		{"func()", func(fn *Func) { fn.VSSHR(0, V0.S4(), V0.S4()) }, "VSSHR: shift 0 out of 1..32"},
		{"func()", func(fn *Func) { fn.VFMOV(0.1, V0.S4()) }, "VFMOV: 0.1 is not an 8-bit float immediate"},
		{"func()", func(fn *Func) { fn.VLD1(R0, List{V0.S4(), 5}) }, "VLD1: list of 5 registers"},
		{"func()", func(fn *Func) { fn.VEXT(16, V0.B16(), V1.B16(), V2.B16()) }, "VEXT: index 16 out of range"},
		{"func()", func(fn *Func) { fn.VMOV(V0.S4(), V1.S4()) }, "VMOV: cannot move V0.S4 to V1.S4"},
		{"func()", func(fn *Func) { fn.FMOVQ(R1, V0) }, "FMOVQ: cannot move R1 to F0"},
		{"func()", func(fn *Func) { fn.FADDS(V1, V2, VReg(32)) }, "no register V32"},
		{"func()", func(fn *Func) { fn.bcond("BVS", "x") }, "no branch BVS"},
	} {
		f := NewFile()
		fn := f.Func("k", c.sig, "")
		c.body(fn)
		err := f.Err()
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "a64: k: ") || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error %v, want one line a64: k: ...%s...", c.sig, err, c.want)
		}
		if _, err := f.Asm(); err == nil {
			t.Errorf("%s: Asm printed a file with errors", c.sig)
		}
	}
}

// TestErrLimit checks that Err lists ten errors and counts the rest.
func TestErrLimit(t *testing.T) {
	f := NewFile()
	fn := f.Func("k", "func()", "")
	for i := 0; i < 15; i++ {
		fn.Load("x", R0)
	}
	lines := strings.Split(f.Err().Error(), "\n")
	if len(lines) != 11 || lines[10] != "and 5 more errors" {
		t.Errorf("Err = %q", lines)
	}
}

// TestLocal checks the frame layout: locals from 8(RSP), 16-byte ones
// 16-aligned, the frame size the bytes up to the last.
func TestLocal(t *testing.T) {
	fn := NewFile().Func("k", "func()", "")
	for _, c := range []struct{ size, off, frame int }{{8, 8, 8}, {16, 16, 24}, {4, 32, 32}, {32, 48, 72}} {
		if m := fn.Local(c.size); m != M(RSP, c.off) || fn.frame != c.frame {
			t.Errorf("Local(%d) = %s, frame %d; want %d(RSP), frame %d", c.size, m.Go(), fn.frame, c.off, c.frame)
		}
	}
}
