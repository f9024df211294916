package a64

import (
	"debug/elf"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/arch/arm64/arm64asm"
)

// TestEndToEnd writes a tiny package of e2eFile's kernels, their Go
// declarations and Go reference loops (testdata/e2e), then for arm64:
// runs go vet (asmdecl checks every frame and argument name), builds
// its test binary, disassembles sweep from it and compares each
// instruction with the GNU text its method recorded (does Go's
// assembler read our text as we meant?), and, where qemu-aarch64 is on
// PATH, runs the tests, which compare every kernel with its Go loop bit
// for bit.
func TestEndToEnd(t *testing.T) {
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH")
	}
	f := e2eFile()
	asm, err := f.Asm()
	if err != nil {
		t.Fatal(err)
	}
	stubs, err := f.GoFile("k")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if keep := os.Getenv("A64_E2E_DIR"); keep != "" {
		dir = keep // bench/arm64/mca.sh analyses the binary left there
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	files := map[string][]byte{
		"go.mod":         []byte("module k\n\ngo 1.21\n"),
		"k_arm64.s":      asm,
		"stubs_arm64.go": stubs,
		"consts.go":      []byte(constsGo()),
		"ref.go":         nil, // from testdata/e2e
		"k_test.go":      nil,
	}
	for name, data := range files {
		if data == nil {
			if data, err = os.ReadFile(filepath.Join("testdata", "e2e", name)); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	run := func(t *testing.T, name string, args ...string) string {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0", "GOWORK=off", "GOFLAGS=", "GOTOOLCHAIN=local")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	run(t, goCmd, "vet", ".")
	run(t, goCmd, "test", "-c", "-o", "k.test")
	checkSweep(t, filepath.Join(dir, "k.test"), f)
	t.Run("qemu", func(t *testing.T) {
		qemu, err := exec.LookPath("qemu-aarch64")
		if err != nil {
			t.Skip("no qemu-aarch64 on PATH: the kernels were built and vetted, not run")
		}
		t.Log(run(t, qemu, "./k.test", "-test.v"))
	})
}

// checkSweep disassembles function sweep of the arm64 binary at path
// and compares it, instruction by instruction, with sweep's record.
func checkSweep(t *testing.T, path string, f *File) {
	var want []Inst
	for _, fn := range f.funcs {
		if fn.name == "sweep" {
			want = fn.Insts()
		}
	}
	code := symbolCode(t, path, "k.sweep")
	if len(code) < 4*len(want) {
		t.Fatalf("sweep has %d bytes, want %d instructions", len(code), len(want))
	}
	bad := 0
	for i, in := range want {
		if in.GNU == "" {
			t.Errorf("sweep: %s has no disassembly to check", in.Go)
			continue
		}
		inst, err := arm64asm.Decode(code[4*i:])
		got := ""
		if err == nil {
			got = arm64asm.GNUSyntax(inst)
		}
		if got != in.GNU {
			bad++
			t.Errorf("%s: assembled as %08x, %q (%v); want %q", in.Go, binary.LittleEndian.Uint32(code[4*i:]), got, err, in.GNU)
		}
	}
	t.Logf("sweep: %d of %d instructions assembled as recorded", len(want)-bad, len(want))
}

// symbolCode is the code of the function name (its ABI0 body) in the
// ELF binary at path.
func symbolCode(t *testing.T, path, name string) []byte {
	ef, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer ef.Close()
	syms, err := ef.Symbols()
	if err != nil {
		t.Fatal(err)
	}
	text := ef.Section(".text")
	for _, s := range syms {
		if s.Name != name+".abi0" && s.Name != name {
			continue
		}
		b := make([]byte, s.Size)
		if _, err := text.ReadAt(b, int64(s.Value-text.Addr)); err != nil {
			t.Fatal(err)
		}
		return b
	}
	t.Fatalf("%s: no symbol %s", path, name)
	return nil
}

// sweep is every native instruction method over its forms and
// arrangements, for checkSweep; it is never called.
func sweep(f *File) {
	fn := f.Func("sweep", "func()", "sweep holds every native instruction form, for TestEndToEnd to disassemble; it is never called.")
	call := func(method string, args ...any) {
		in := make([]reflect.Value, len(args))
		for i, a := range args {
			in[i] = reflect.ValueOf(a)
		}
		reflect.ValueOf(fn).MethodByName(method).Call(in)
	}
	regs := [][3]VReg{{0, 11, 23}, {31, 1, 16}}
	for _, k := range sortedKeys(nat3Ops) {
		for a := B8; a <= D2; a++ {
			if nat3Ops[k].arrs.has(a) {
				for _, r := range regs {
					call(k, r[2].As(a), r[1].As(a), r[0].As(a))
				}
			}
		}
	}
	fn.VORR(V3.B16(), V3.B16(), V9.B16())
	for _, k := range sortedKeys(natShiftOps) {
		for a := B8; a <= D2; a++ {
			if natShiftOps[k].arrs.has(a) {
				bits := 8 << a.size()
				lo, hi := 1, bits
				if k == "VSHL" || k == "VSLI" {
					lo, hi = 0, bits-1
				}
				call(k, lo, V1.As(a), V2.As(a))
				call(k, hi, V30.As(a), V7.As(a))
			}
		}
	}
	fn.VEXT(3, V1.B16(), V2.B16(), V3.B16())
	fn.VEXT(7, V21.B8(), V22.B8(), V23.B8())
	fn.VDUP(V19.S(3), V17.S4())
	fn.VDUP(V2.D(1), V5.D2())
	fn.VDUP(R7, V3.S4())
	fn.VDUP(R7, V3.D2())
	fn.VDUP(R9, V30.H8())
	fn.VMOV(V2.B16(), V4.B16())
	fn.VMOV(V10.S(0), V12.S(3))
	fn.VMOV(V8.S(1), R1)
	fn.VMOV(V0.D(1), R11)
	fn.VMOV(R20, V1.S(2))
	fn.VMOV(R21, V1.D(1))
	fn.VMOVI(0x52, V0.B16())
	fn.VMOVI(0, V31.B8())
	for n := 1; n <= 4; n++ {
		fn.VLD1(R8, List{V1.S4(), n})
		fn.VLD1P(R3, List{V30.S4(), n})
		fn.VST1(List{V5.B16(), n}, R9)
		fn.VST1P(List{V29.S2(), n}, R0)
	}
	fn.VLD1R(R1, V9.S4())
	fn.VLD1RP(R2, V3.S4())
	fn.VLD1RP(R2, V3.D2())
	for _, mv := range []func(src, dst Operand){fn.FMOVS, fn.FMOVD, fn.FMOVQ} {
		mv(M(R5, 0), V2)
		mv(M(R5, 32), V31)
		mv(V3, M(R6, 48))
	}
	fn.FMOVS(V1, V2)
	fn.FMOVD(V1, V2)
	fn.FMOVS(R3, V4)
	fn.FMOVD(R3, V4)
	fn.FLDPQ(M(R0, 16), V1, V2)
	fn.FLDPQ(M(R0, -1024), V30, V31)
	fn.FSTPQ(V3, V4, M(R5, 1008))
	for _, k := range sortedKeys(fp3Ops) {
		call(k, V1, V2, V3)
	}
	fn.FMADDS(V1, V3, V2, V4)
	fn.FMSUBS(V13, V21, V13, V19)
	for _, op := range []func(Operand, Reg, Reg){fn.ADD, fn.SUB, fn.SUBS} {
		op(R1, R2, R3)
		op(Imm(4095), R25, R26)
		op(Imm(16), RSP, R4)
	}
	fn.MOVD(R2, R7)
	fn.MOVD(M(R10, 8), R9)
	fn.MOVD(R9, M(R17, 32760))
	fn.CMP(R1, R2)
	fn.CMP(Imm(3), R2)
	fn.LSL(2, R3, R4)
	fn.MUL(R4, R3, R0)
	fn.MADD(R5, R23, R10, R4)
	fn.PRFM(M(R2, 16), "PLDL1KEEP")
	fn.PRFM(M(R6, 0), "PSTL2STRM")
	fn.VFADD(V0.S4(), V1.S4(), V2.S4())
	fn.VFMLAE(V31.S(3), V1.S4(), V2.S4())
	fn.RET()
}
