package asm

import (
	"fmt"
	"math"

	"github.com/mmcloughlin/avo/build"
	"github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"

	"github.com/acgen/acgen/gen"
	"github.com/acgen/acgen/plan"
	"github.com/acgen/acgen/spec"
	"github.com/acgen/acgen/target"
)

// elementwise builds the kernel of an Activation, Add, Mul or Affine
// step: for output rows lo to hi-1, channel block by channel block, a
// vector a pixel, elemPixels pixels an iteration: the inputs combined
// (the sum of them; the product of two, or of one and the Cx1x1
// vector of its channel block; x*scale + shift), then the activation,
// a clamp in the register or the vector code of actCodes, which the
// convolutions' second passes run too (an Activation step reads x, the
// value before it, from its input; the others store their value and
// read it back, still in L1), then, in the last channel block of a step
// that NeedsLaneMask, the lane mask. It computes what the Go helpers
// activation, add, mul, mulElementwise and affine of templates/support.go
// do (the sum in the same order; the FMA-free products as Go's on amd64).
func elementwise(ctx *build.Context, name string, t *target.Target, s *plan.Step) {
	if len(s.In) > len(elemPointers)-1 {
		panic(fmt.Sprintf("asm: step %s has %d inputs, the elementwise kernels take %d", s.Name, len(s.In), len(elemPointers)-1)) // plan.MaxElemInputs
	}
	k := &elemKernel{ctx: ctx, name: name, s: s, ops: &vecEmitter{ctx: ctx, zmm: t.Lanes == 16}}
	ol := s.Out.Layout
	k.blk, k.w, k.cb = ol.Block, ol.W, ol.CB()
	vals := append([]*plan.Value{s.Out}, s.In...)
	for i, v := range vals {
		l := v.Layout
		sv := elemValue{ptr: elemPointers[i], base: (v.Buf.Offset + l.Origin()) * f32, px: k.blk * f32, row: l.Row() * f32, plane: l.Plane() * f32}
		if i == 2 && s.Kind == plan.Mul && (l.H != ol.H || l.W != ol.W) {
			sv.px, sv.row = 0, 0 // the Cx1x1 factor: one vector a block
		}
		k.vals = append(k.vals, sv)
	}
	k.scale = elemPointers[len(vals)]
	vec := vectorRegs(t)
	k.v, k.k = vec[:4], vec[4:]
	a := s.Act
	if !a.Clamp() {
		code, ok := actCodes[a.F.Op]
		if !ok {
			panic(fmt.Sprintf("asm: no vector code for activation %s", a)) // TestActCodes
		}
		k.code = &code
		k.ops.tab = func(i int) operand.Mem { return tableEntryMem(a.F.Op, i) }
	}

	ctx.Function(name)
	ctx.Attributes(0)
	ctx.SignatureExpr(gen.KernelSignature)
	ctx.Doc(fmt.Sprintf("%s is the %s kernel of %s step %s, output rows lo to hi-1 (see the Go helper %s for what it computes).", name, t.Name, s.Kind, s.Name, elemHelper(s)))
	ctx.Load(ctx.Param("ws"), wsBase)
	ctx.Load(ctx.Param("w"), wBase)
	ctx.Load(ctx.Param("lo"), icCnt)
	ctx.Load(ctx.Param("hi"), rowCnt)
	ctx.SUBQ(icCnt, rowCnt)
	done := name + "_done"
	ctx.JLE(operand.LabelRef(done))
	for _, v := range k.vals {
		if v.row > 0 {
			ctx.IMUL3Q(imm(v.row), icCnt, v.ptr)
			ctx.ADDQ(wsBase, v.ptr)
		} else {
			ctx.MOVQ(wsBase, v.ptr)
		}
		ctx.ADDQ(imm(v.base), v.ptr)
	}
	k.consts()
	ctx.Label(name + "_row")
	if s.Kind == plan.Affine {
		ctx.LEAQ(mem(wBase, s.Affine.ScaleOff*f32), k.scale)
	}
	whole := k.cb
	if s.NeedsLaneMask() {
		whole--
	}
	if whole > 0 {
		ctx.MOVQ(imm(whole), icCnt)
		ctx.Label(name + "_cb")
		k.block(false)
		ctx.DECQ(icCnt)
		ctx.JNZ(operand.LabelRef(name + "_cb"))
	}
	if whole < k.cb {
		k.block(true)
	}
	for _, v := range k.vals { // to the next row's block 0
		k.add(v.ptr, v.row-k.cb*v.plane)
	}
	ctx.DECQ(rowCnt)
	ctx.JNZ(operand.LabelRef(name + "_row"))
	ctx.Label(done)
	ctx.VZEROUPPER()
	ctx.RET()
}

// elemPointers hold the output's pointer, then the inputs': the current
// pixel of each; an Affine step's next one points at the current block's
// scale (its shift is as far after it as in the weights).
var elemPointers = []reg.Register{pxOut, rowIn, rowOut, rowRes, pxIn, pxRes, icIn, icW, reg.RDI}

// elemKinds are the kinds elementwise builds.
var elemKinds = map[plan.Kind]bool{plan.Activation: true, plan.Add: true, plan.Mul: true, plan.Affine: true}

// elemPixels is the pixels an iteration of the pixel loop computes: the
// activations' chains of dependent instructions are long, and
// out-of-order execution overlaps the independent ones of a few pixels.
const elemPixels = 4

// elemHelper is the Go helper that computes s.
func elemHelper(s *plan.Step) string {
	switch s.Kind {
	case plan.Mul:
		if s.In[1].Layout.H != s.Out.Layout.H || s.In[1].Layout.W != s.Out.Layout.W {
			return "mul"
		}
		return "mulElementwise"
	}
	return s.Kind.String()
}

// elemKernel builds one elementwise kernel.
type elemKernel struct {
	ctx  *build.Context
	name string
	s    *plan.Step
	ops  *vecEmitter
	code *actCode // nil: the activation is a clamp

	blk, w, cb int
	vals       []elemValue // the output, then the inputs
	scale      reg.Register
	v, k       vecs // temporaries; the activation's constants
	constMem   *operand.Mem
	labels     int
}

// elemValue is one of the values an elementwise kernel reads or writes:
// its pointer register and, in bytes, where its row lo's block 0 pixel 0
// is from ws, and how far the next pixel, row and block are.
type elemValue struct {
	ptr                  reg.Register
	base, px, row, plane int
}

// consts loads the activation's constants: zero (and six) for a clamp,
// else its vector code's.
func (k *elemKernel) consts() {
	a := k.s.Act
	switch {
	case a.Is(spec.ReLU):
		k.ops.xor(k.k[0], k.k[0], k.k[0])
	case a.Is(spec.ReLU6):
		k.ops.xor(k.k[0], k.k[0], k.k[0])
		k.broadcast(6, k.k[1])
	case k.code != nil:
		c := k.code.consts(a.Param)
		if len(c) > len(k.k) {
			panic(fmt.Sprintf("asm: activation %s needs %d constants, %d registers are left", a, len(c), len(k.k)))
		}
		for i, x := range c {
			k.broadcast(x, k.k[i])
		}
	}
}

// broadcast sets every lane of r to x, through the stack.
func (k *elemKernel) broadcast(x float32, r reg.VecPhysical) {
	if k.constMem == nil {
		m := k.ctx.AllocLocal(8)
		k.constMem = &m
	}
	k.ctx.MOVL(operand.U32(math.Float32bits(x)), pxCnt.As32())
	k.ctx.MOVL(pxCnt.As32(), *k.constMem)
	k.ctx.VBROADCASTSS(*k.constMem, r)
}

// add adds d bytes to register r.
func (k *elemKernel) add(r reg.Register, d int) {
	switch {
	case d > 0:
		k.ctx.ADDQ(imm(d), r)
	case d < 0:
		k.ctx.SUBQ(imm(-d), r)
	}
}

func (k *elemKernel) label(what string) string {
	k.labels++
	return fmt.Sprintf("%s_%s%d", k.name, what, k.labels)
}

// block computes the row's pixels of the current channel block, then
// moves every pointer to the next block; masked: the lane mask applies.
func (k *elemKernel) block(masked bool) {
	ctx := k.ctx
	full, rem := k.w/elemPixels, k.w%elemPixels
	if full > 0 {
		loop := k.label("px")
		ctx.MOVQ(imm(full), pxCnt)
		ctx.Label(loop)
		k.pixels(elemPixels, masked)
		ctx.DECQ(pxCnt)
		ctx.JNZ(operand.LabelRef(loop))
	}
	if rem > 0 {
		k.pixels(rem, masked)
	}
	for _, v := range k.vals {
		k.add(v.ptr, v.plane-k.w*v.px)
	}
	if k.s.Kind == plan.Affine {
		ctx.ADDQ(imm(k.blk*f32), k.scale)
	}
}

// pixels computes n pixels and moves the pointers past them.
func (k *elemKernel) pixels(n int, masked bool) {
	ctx, s, v := k.ctx, k.s, k.v
	at := func(i, p int) operand.Mem { return mem(k.vals[i].ptr, p*k.vals[i].px) }
	for p := 0; p < n; p++ {
		out, x := at(0, p), at(1, p)
		ctx.VMOVUPS(x, v[0])
		switch s.Kind {
		case plan.Add:
			for i := 2; i < len(k.vals); i++ {
				ctx.VADDPS(at(i, p), v[0], v[0])
			}
		case plan.Mul:
			ctx.VMULPS(at(2, p), v[0], v[0])
		case plan.Affine:
			ctx.VMULPS(mem(k.scale, 0), v[0], v[0])
			ctx.VADDPS(mem(k.scale, (s.Affine.ShiftOff-s.Affine.ScaleOff)*f32), v[0], v[0])
		}
		switch {
		case s.Act.Is(spec.ReLU):
			ctx.VMAXPS(v[0], k.k[0], v[0]) // NaN stays: VMAXPS returns its first Go operand then
		case s.Act.Is(spec.ReLU6):
			ctx.VMAXPS(v[0], k.k[0], v[0])
			ctx.VMINPS(v[0], k.k[1], v[0])
		case k.code != nil:
			if s.Kind != plan.Activation {
				ctx.VMOVUPS(v[0], out) // x, for the vector code to read again
				x = out
			}
			k.code.apply(k.ops, v, k.k, x, s.Act.Param)
		}
		if masked {
			ctx.VMULPS(mem(wBase, s.MaskOff*f32), v[0], v[0])
		}
		ctx.VMOVUPS(v[0], out)
	}
	for _, sv := range k.vals {
		k.add(sv.ptr, n*sv.px)
	}
}
