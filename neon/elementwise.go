package neon

import (
	"fmt"

	"github.com/acgen/acgen/gen"
	"github.com/acgen/acgen/internal/a64"
	"github.com/acgen/acgen/plan"
	"github.com/acgen/acgen/spec"
	"github.com/acgen/acgen/target"
)

// elementwise builds the kernel of an Activation, Add, Mul or Affine
// step, the contract of package asm's: for output rows lo to hi-1,
// channel block by channel block, a vector a pixel, elemPixels pixels an
// iteration: the inputs combined (their sum; the product of two, or of
// one and the Cx1x1 vector of its block; x*scale + shift, one FMLA as
// Go's arm64 code has it), then the activation, a clamp in the register
// or the vector code of actCodes that the convolutions' second passes
// run too (an Activation step reads x, the value before it, from its
// input; the others store their value and read it back), then, in the
// last channel block of a step that NeedsLaneMask, the lane mask. It
// computes what the Go helpers activation, add, mul, mulElementwise and
// affine of templates/support.go do.
func elementwise(f *a64.File, name string, t *target.Target, s *plan.Step) {
	if len(s.In) > len(elemPointers)-2 {
		panic(fmt.Sprintf("neon: step %s has %d inputs, the elementwise kernels take %d", s.Name, len(s.In), len(elemPointers)-2)) // plan.MaxElemInputs
	}
	ol := s.Out.Layout
	k := &elemKernel{s: s, w: ol.W, cb: ol.CB()}
	vals := append([]*plan.Value{s.Out}, s.In...)
	for i, v := range vals {
		l := v.Layout
		ev := elemValue{ptr: elemPointers[i], base: (v.Buf.Offset + l.Origin()) * f32, px: vb, row: l.Row() * f32, plane: l.Plane() * f32}
		if i == 2 && s.Kind == plan.Mul && (l.H != ol.H || l.W != ol.W) {
			ev.px, ev.row = 0, 0 // the Cx1x1 factor: one vector a block
		}
		k.vals = append(k.vals, ev)
	}
	k.scale = elemPointers[len(vals)]
	a := s.Act
	if !a.Clamp() {
		code, ok := actCodes[a.F.Op]
		if !ok {
			panic(fmt.Sprintf("neon: no vector code for activation %s", a)) // TestActCodes
		}
		k.code = &code
	}
	doc := fmt.Sprintf("%s is the %s kernel of %s step %s, output rows lo to hi-1 (see the Go helper %s for what it computes).", name, t.Name, s.Kind, s.Name, elemHelper(s))
	k.fn = f.Func(name, gen.KernelSignature, doc)
	fn := k.fn
	fn.Load("ws", wsBase)
	fn.Load("w", wBase)
	fn.Load("lo", loR)
	fn.Load("hi", hiR)
	done := fn.NewLabel("done")
	fn.SUBS(loR, hiR, rowCnt)
	fn.BLE(done)
	for _, v := range k.vals {
		addImm(fn, v.base, wsBase, tmp)
		mulAdd(fn, loR, v.row, tmp, v.ptr)
	}
	k.consts()
	row := fn.NewLabel("row")
	fn.Label(row)
	if s.Kind == plan.Affine {
		addImm(fn, s.Affine.ScaleOff*f32, wBase, k.scale)
	}
	whole := k.cb
	if s.NeedsLaneMask() {
		whole--
	}
	if whole > 0 {
		fn.MOVD(a64.Imm(whole), icCnt)
		fn.Loop(icCnt, 1, func() { k.block(false) })
	}
	if whole < k.cb {
		k.block(true)
	}
	for _, v := range k.vals { // to the next row's block 0
		addImm(fn, v.row-k.cb*v.plane, v.ptr, v.ptr)
	}
	fn.SUBS(a64.Imm(1), rowCnt, rowCnt)
	fn.BNE(row)
	fn.Label(done)
	fn.RET()
}

// elemPointers hold the output's pointer, then the inputs': the current
// pixel of each; an Affine step's next one points at the current block's
// scale (its shift is as far after it as in the weights).
var elemPointers = []a64.Reg{a64.R4, a64.R5, a64.R6, a64.R7, a64.R8, a64.R9, a64.R10, a64.R11, a64.R12, a64.R13}

// elemPixels is the pixels an iteration of the pixel loop computes.
const elemPixels = 4

// elemHelper is the Go helper that computes s.
func elemHelper(s *plan.Step) string {
	if s.Kind == plan.Mul && (s.In[1].Layout.H != s.Out.Layout.H || s.In[1].Layout.W != s.Out.Layout.W) {
		return "mul"
	}
	if s.Kind == plan.Mul {
		return "mulElementwise"
	}
	return s.Kind.String()
}

// Vector registers: the activation's temporaries V0 to V5 (V1 and V2
// hold an operand and an Affine step's shift before it runs), its
// constants from V6 (exact GELU's 24 among them), and the lane mask in
// V31.
var (
	elemV = []a64.Vec{vreg(0), vreg(1), vreg(2), vreg(3), vreg(4), vreg(5)}
	elemK = func() []a64.Vec {
		var k []a64.Vec
		for r := 6; r < 31; r++ {
			k = append(k, vreg(r))
		}
		return k
	}()
	elemX, elemShift, elemMask = elemV[1], elemV[2], vreg(31)
)

// elemKernel builds one elementwise kernel.
type elemKernel struct {
	fn   *a64.Func
	s    *plan.Step
	code *actCode // nil: the activation is a clamp

	w, cb int
	vals  []elemValue // the output, then the inputs
	scale a64.Reg
}

// elemValue is one of the values an elementwise kernel reads or writes:
// its pointer register and, in bytes, where its block 0 pixel 0 is from
// ws, and how far the next pixel, row and block are.
type elemValue struct {
	ptr                  a64.Reg
	base, px, row, plane int
}

// consts loads the activation's constants (zero and six for a clamp)
// and the lane mask.
func (k *elemKernel) consts() {
	fn, a := k.fn, k.s.Act
	zero := elemK[0].V.B16()
	switch {
	case a.Is(spec.ReLU6):
		fn.VFMOV(6, elemK[1])
		fallthrough
	case a.Is(spec.ReLU):
		fn.VEOR(zero, zero, zero)
	case k.code != nil:
		c := k.code.consts(a.Param)
		if len(c) > len(elemK) {
			panic(fmt.Sprintf("neon: activation %s needs %d constants, %d registers are left", a, len(c), len(elemK)))
		}
		for i, x := range c {
			fn.DupConst(x, tmp2, elemK[i])
		}
	}
	if k.s.NeedsLaneMask() {
		fn.FMOVQ(qmem(fn, wBase, k.s.MaskOff*f32, tmp), elemMask.V)
	}
}

// block computes the row's pixels of the current channel block, then
// moves every pointer to the next block; masked: the lane mask applies.
func (k *elemKernel) block(masked bool) {
	fn := k.fn
	full, rem := k.w/elemPixels, k.w%elemPixels
	if full > 0 {
		fn.MOVD(a64.Imm(full), pxCnt)
		fn.Loop(pxCnt, 1, func() { k.pixels(elemPixels, masked) })
	}
	if rem > 0 {
		k.pixels(rem, masked)
	}
	for _, v := range k.vals {
		addImm(fn, v.plane-k.w*v.px, v.ptr, v.ptr)
	}
	if k.s.Kind == plan.Affine {
		addImm(fn, vb, k.scale, k.scale)
	}
}

// pixels computes n pixels and moves the pointers past them.
func (k *elemKernel) pixels(n int, masked bool) {
	fn, s, v := k.fn, k.s, elemV
	at := func(i, p int) a64.Mem { return a64.M(k.vals[i].ptr, p*k.vals[i].px) }
	for p := 0; p < n; p++ {
		out, x := at(0, p), at(1, p)
		fn.FMOVQ(x, v[0].V)
		switch s.Kind {
		case plan.Add:
			for i := 2; i < len(k.vals); i++ {
				fn.FMOVQ(at(i, p), elemX.V)
				fn.VFADD(elemX, v[0], v[0])
			}
		case plan.Mul:
			fn.FMOVQ(at(2, p), elemX.V)
			fn.VFMUL(elemX, v[0], v[0])
		case plan.Affine:
			fn.FMOVQ(a64.M(k.scale, 0), elemX.V)
			fn.FMOVQ(qmem(fn, k.scale, (s.Affine.ShiftOff-s.Affine.ScaleOff)*f32, tmp), elemShift.V)
			fn.VFMLA(elemX, v[0], elemShift)
			fn.VMOV(elemShift.V.B16(), v[0].V.B16())
		}
		switch {
		case s.Act.Is(spec.ReLU):
			fn.VFMAX(elemK[0], v[0], v[0]) // FMAX returns NaN when either input is
		case s.Act.Is(spec.ReLU6):
			fn.VFMAX(elemK[0], v[0], v[0])
			fn.VFMIN(elemK[1], v[0], v[0])
		case k.code != nil:
			if s.Kind != plan.Activation {
				fn.FMOVQ(v[0].V, out) // x, for the vector code to read again
				x = out
			}
			k.code.apply(fn, v, elemK, x, s.Act.Param)
		}
		if masked {
			fn.VFMUL(elemMask, v[0], v[0])
		}
		fn.FMOVQ(v[0].V, out)
	}
	for _, ev := range k.vals {
		addImm(fn, n*ev.px, ev.ptr, ev.ptr)
	}
}
