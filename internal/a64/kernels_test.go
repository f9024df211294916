package a64

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// The kernels of TestEndToEnd's package (testdata/e2e/ref.go has the Go
// loops they must match): the kinds of loop acgen's NEON kernels will
// be made of, written the way those will be.

// e2eFile builds the kernels, and sweep, which uses every native
// instruction method and is only disassembled.
func e2eFile() *File {
	f := NewFile()
	fmaRelu(f)
	vmax(f)
	gemm4(f)
	expKernel(f, "expv", false)
	expKernel(f, "sigmoid", true)
	leaky(f)
	mixed(f)
	sweep(f)
	return f
}

// fmaRelu: 16 floats an iteration, four-register loads and stores
// that advance their pointers, FMLA, and FMAX against zero. It keeps n
// in a stack slot to exercise the frame.
func fmaRelu(f *File) {
	fn := f.Func("fmaRelu", "func(dst, a, b, c *float32, n int)", "fmaRelu sets dst[i] = max(a[i]*b[i]+c[i], 0) for i < n, n a multiple of 16.")
	fn.Load("dst", R0)
	fn.Load("a", R1)
	fn.Load("b", R2)
	fn.Load("c", R3)
	fn.Load("n", R4)
	saved := fn.Local(8)
	fn.MOVD(R4, saved)
	fn.MOVD(Imm(0), R4)
	fn.MOVD(saved, R4)
	fn.VMOVI(0, V31.B16())
	loop := fn.NewLabel("loop")
	fn.Label(loop)
	fn.VLD1P(R1, List{V0.S4(), 4})
	fn.VLD1P(R2, List{V4.S4(), 4})
	fn.VLD1P(R3, List{V8.S4(), 4})
	for i := VReg(0); i < 4; i++ {
		fn.VFMLA((V0 + i).S4(), (V4 + i).S4(), (V8 + i).S4())
	}
	fn.Comment("ReLU")
	for i := VReg(0); i < 4; i++ {
		fn.VFMAX(V31.S4(), (V8 + i).S4(), (V8 + i).S4())
	}
	fn.VST1P(List{V8.S4(), 4}, R0)
	fn.SUBS(Imm(16), R4, R4)
	fn.BNE(loop)
	fn.RET()
}

// vmax: 8 floats an iteration through a Q pair load, Q loads and a
// pair store at offsets, pointers advanced by ADD.
func vmax(f *File) {
	fn := f.Func("vmax", "func(dst, a, b *float32, n int)", "vmax sets dst[i] = max(a[i], b[i]) for i < n, n a multiple of 8.")
	fn.Load("dst", R0)
	fn.Load("a", R1)
	fn.Load("b", R2)
	fn.Load("n", R3)
	fn.Loop(R3, 8, func() {
		fn.FLDPQ(M(R1, 0), V0, V1)
		fn.FMOVQ(M(R2, 0), V2)
		fn.FMOVQ(M(R2, 16), V3)
		fn.VFMAX(V2.S4(), V0.S4(), V0.S4())
		fn.VFMAX(V3.S4(), V1.S4(), V1.S4())
		fn.FSTPQ(V0, V1, M(R0, 0))
		for _, r := range []Reg{R0, R1, R2} {
			fn.ADD(Imm(32), r, r)
		}
	})
	fn.RET()
}

// gemm4: a 4x4 register tile of C += A*B with FMLA by element, the
// shape of a direct convolution's micro-kernel.
func gemm4(f *File) {
	fn := f.Func("gemm4", "func(c, at, b *float32, k int)", "gemm4 sets the 4x4 c to at^T b, at and b k rows of 4.")
	fn.Load("c", R0)
	fn.Load("at", R1)
	fn.Load("b", R2)
	fn.Load("k", R3)
	for i := VReg(0); i < 4; i++ {
		acc := (V16 + i).B16()
		fn.VEOR(acc, acc, acc)
	}
	fn.Loop(R3, 1, func() {
		fn.VLD1P(R1, List{V0.S4(), 1})
		fn.VLD1P(R2, List{V1.S4(), 1})
		for i := 0; i < 4; i++ {
			fn.VFMLAE(V0.S(i), V1.S4(), (V16 + VReg(i)).S4())
		}
	})
	fn.VST1(List{V16.S4(), 4}, R0)
	fn.RET()
}

// The exp of expKernel (and of ref.go's exp32, through consts.go):
// clamp, n = round(x log2 e), r = x - n ln2 in two parts, e^r by a
// degree-6 Taylor polynomial, times 2^n.
var (
	expLo, expHi       = float32(-87), float32(88)
	expLog2e           = float32(math.Log2E)
	expLn2Hi, expLn2Lo = float32(0.693359375), float32(-2.12194440e-4)
	expPoly            = []float32{1.0 / 720, 1.0 / 120, 1.0 / 24, 1.0 / 6, 0.5, 1, 1}
)

// expKernel: e^x (or 1/(1+e^-x), sigmoid) over n floats, 4 an
// iteration, the constants in V16 up.
func expKernel(f *File, name string, sigmoid bool) {
	what := "e^src[i]"
	if sigmoid {
		what = "1/(1+e^-src[i])"
	}
	fn := f.Func(name, "func(dst, src *float32, n int)", fmt.Sprintf("%s sets dst[i] = %s for i < n, n a multiple of 4.", name, what))
	fn.Load("dst", R0)
	fn.Load("src", R1)
	fn.Load("n", R2)
	lo, hi, log2e, ln2hi, ln2lo, one, bias := V16.S4(), V17.S4(), V18.S4(), V19.S4(), V20.S4(), V21.S4(), V22.S4()
	for i, c := range []float32{expLo, expHi, expLog2e, expLn2Hi, expLn2Lo, 1} {
		fn.DupConst(c, R3, (V16 + VReg(i)).S4())
	}
	fn.VMOVI32(127, 0, bias)
	poly := V23
	for i, c := range expPoly {
		fn.DupConst(c, R3, (poly + VReg(i)).S4())
	}
	x, n, r, p, t := V0.S4(), V1.S4(), V2.S4(), V3.S4(), V4.S4()
	fn.Loop(R2, 4, func() {
		fn.VLD1P(R1, List{x, 1})
		if sigmoid {
			fn.VFNEG(x, x)
		}
		fn.VFMAX(lo, x, x)
		fn.VFMIN(hi, x, x)
		fn.VFMUL(log2e, x, n)
		fn.VFRINTN(n, n)
		fn.VMOV(x.V.B16(), r.V.B16())
		fn.VFMLS(ln2hi, n, r)
		fn.VFMLS(ln2lo, n, r)
		fn.Comment("e^r, Horner")
		fn.VMOV(poly.B16(), p.V.B16())
		for i := range expPoly[1:] {
			fn.VMOV((poly + VReg(i+1)).B16(), t.V.B16())
			fn.VFMLA(p, r, t)
			p, t = t, p
		}
		fn.Comment("2^n from n's bits")
		fn.VFCVTZS(n, n)
		fn.VADD(bias, n, n)
		fn.VSHL(23, n, n)
		fn.VFMUL(n, p, x)
		if sigmoid {
			fn.VFADD(one, x, x)
			fn.VFDIV(x, one, x)
		}
		fn.VST1P(List{x, 1}, R0)
	})
	fn.RET()
}

// leaky: a select by a compare mask (FCMGT with zero, BIT), the
// slope a float argument broadcast from its lane.
func leaky(f *File) {
	fn := f.Func("leaky", "func(dst, src *float32, n int, alpha float32)", "leaky sets dst[i] = src[i] if positive, else alpha*src[i], n a multiple of 4.")
	fn.Load("dst", R0)
	fn.Load("src", R1)
	fn.Load("n", R2)
	fn.Load("alpha", V7)
	fn.VDUP(V7.S(0), V7.S4())
	fn.Loop(R2, 4, func() {
		fn.VLD1P(R1, List{V0.S4(), 1})
		fn.VFCMGTZ(V0.S4(), V1.S4())
		fn.VFMUL(V7.S4(), V0.S4(), V2.S4())
		fn.VBIT(V1.B16(), V0.B16(), V2.B16())
		fn.VST1P(List{V2.S4(), 1}, R0)
	})
	fn.RET()
}

// mixed: arguments of several sizes and kinds, and two results.
func mixed(f *File) {
	fn := f.Func("mixed", "func(a int32, b float32, c uint8, s []float32) (x float32, q int)", "mixed returns b+s[0] and a+c+len(s).")
	fn.Load("a", R0)
	fn.Load("c", R1)
	fn.Load("s_len", R2)
	fn.Load("s_base", R3)
	fn.ADD(R1, R0, R0)
	fn.ADD(R2, R0, R0)
	fn.Store(R0, "q")
	fn.Load("b", V0)
	fn.FMOVS(M(R3, 0), V1)
	fn.FADDS(V1, V0, V0)
	fn.Store(V0, "x")
	fn.RET()
}

// constsGo is consts.go of the e2e package: the exp constants as Go
// source, each float32 spelled exactly.
func constsGo() string {
	lit := func(v float32) string { return "float32(" + strconv.FormatFloat(float64(v), 'g', -1, 32) + ")" }
	var poly []string
	for _, c := range expPoly {
		poly = append(poly, lit(c))
	}
	return fmt.Sprintf("%s\n\npackage k\n\nconst (\n\texpLo = %s\n\texpHi = %s\n\texpLog2e = %s\n\texpLn2Hi = %s\n\texpLn2Lo = %s\n)\n\nvar expPoly = []float32{%s}\n",
		Header, lit(expLo), lit(expHi), lit(expLog2e), lit(expLn2Hi), lit(expLn2Lo), strings.Join(poly, ", "))
}
