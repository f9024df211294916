package asm

import (
	"fmt"
	"math"

	"github.com/mmcloughlin/avo/build"
	"github.com/mmcloughlin/avo/ir"
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
	k.vec = vectorRegs(t)
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
	vec        vecs   // every vector register
	lanes      []lane // pixel j's registers (a clamp's in lanes[0])
	group      int    // pixels whose activations interleave
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

// lane is the registers of one pixel of a group: the temporaries v
// (v[0] its value) and the constants k, the activation's code's own
// copy of those it writes, shared registers for the others (a clamp's
// zero and six).
type lane struct{ v, k vecs }

// consts plans the registers and loads the activation's constants: zero
// (and six) for a clamp; else its vector code's, for as many pixels at
// once (group, up to elemPixels) as the registers hold: each pixel's
// four temporaries and its copy of the constants the code writes (exact
// GELU's k[0] is a temporary too), the others shared. AVX-512's 32
// registers hold four pixels of GELU, AVX2's 16 one.
func (k *elemKernel) consts() {
	a := k.s.Act
	k.group = elemPixels
	if k.code == nil { // a register a pixel, zero and six shared
		for j := range k.group {
			k.lanes = append(k.lanes, lane{v: k.vec[2+j : 3+j], k: k.vec[:2]})
		}
		switch {
		case a.Is(spec.ReLU):
			k.ops.xor(k.vec[0], k.vec[0], k.vec[0])
		case a.Is(spec.ReLU6):
			k.ops.xor(k.vec[0], k.vec[0], k.vec[0])
			k.broadcast(6, k.vec[1])
		}
		return
	}
	c := k.code.consts(a.Param)
	written := k.written(len(c))
	per := 4 + len(written)
	k.group = min(elemPixels, (len(k.vec)-(len(c)-len(written)))/per)
	if k.group < 1 {
		panic(fmt.Sprintf("asm: activation %s needs %d constants, %d registers are left", a, len(c), len(k.vec)-4))
	}
	shared := k.vec[k.group*per:]
	for j := 0; j < k.group; j++ {
		regs := k.vec[j*per : (j+1)*per]
		l := lane{v: regs[:4]}
		own := regs[4:]
		for i := range c {
			var r reg.VecPhysical
			switch {
			case written[i]:
				r, own = own[0], own[1:]
			case j == 0:
				r, shared = shared[0], shared[1:]
			default:
				r = k.lanes[0].k[i]
			}
			l.k = append(l.k, r)
			if j == 0 || written[i] {
				k.broadcast(c[i], r)
			}
		}
		k.lanes = append(k.lanes, l)
	}
}

// written is the set of the activation's n constant registers its code
// writes, found by recording it once.
func (k *elemKernel) written(n int) map[int]bool {
	v, c := k.vec[:4], k.vec[4:4+n]
	w := map[int]bool{}
	for _, in := range k.record(lane{v: v, k: c}, mem(k.vals[1].ptr, 0)) {
		for _, r := range in.OutputRegisters() {
			for i, x := range c {
				if r == reg.Register(x) {
					w[i] = true
				}
			}
		}
	}
	return w
}

// record returns the instructions of the activation's code on lane l
// with x at x, emitted into a context of their own.
func (k *elemKernel) record(l lane, x operand.Mem) []*ir.Instruction {
	ctx := build.NewContext()
	ctx.Function("record")
	e := &vecEmitter{ctx: ctx, zmm: k.ops.zmm, tab: k.ops.tab}
	k.code.apply(e, l.v, l.k, x, k.s.Act.Param)
	f, _ := ctx.Result()
	return f.Functions()[0].Instructions()
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

// pixels computes n pixels and moves the pointers past them, group
// pixels at a time: their activations' instructions interleaved, one of
// each pixel's in turn, so that the out-of-order core finds independent
// work among the long chains of dependent ones.
func (k *elemKernel) pixels(n int, masked bool) {
	for p0 := 0; p0 < n; p0 += k.group {
		k.group1(p0, min(k.group, n-p0), masked)
	}
	for _, sv := range k.vals {
		k.add(sv.ptr, n*sv.px)
	}
}

// group1 computes the g pixels from p0.
func (k *elemKernel) group1(p0, g int, masked bool) {
	ctx, s := k.ctx, k.s
	at := func(i, p int) operand.Mem { return mem(k.vals[i].ptr, (p0+p)*k.vals[i].px) }
	var streams [][]*ir.Instruction
	for p := 0; p < g; p++ {
		l := k.lanes[p]
		v, out, x := l.v, at(0, p), at(1, p)
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
			ctx.VMAXPS(v[0], l.k[0], v[0]) // NaN stays: VMAXPS returns its first Go operand then
		case s.Act.Is(spec.ReLU6):
			ctx.VMAXPS(v[0], l.k[0], v[0])
			ctx.VMINPS(v[0], l.k[1], v[0])
		case k.code != nil:
			if s.Kind != plan.Activation {
				ctx.VMOVUPS(v[0], out) // x, for the vector code to read again
				x = out
			}
			streams = append(streams, k.record(l, x))
		}
	}
	for i := 0; len(streams) > 0 && i < len(streams[0]); i++ {
		for _, st := range streams {
			ctx.Instruction(st[i])
		}
	}
	for p := 0; p < g; p++ {
		v := k.lanes[p].v
		if masked {
			ctx.VMULPS(mem(wBase, s.MaskOff*f32), v[0], v[0])
		}
		ctx.VMOVUPS(v[0], at(0, p))
	}
}
