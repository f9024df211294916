package graph

import (
	"fmt"
	"math"
	"strings"

	"github.com/acgen/acgen/internal/diag"
	"github.com/acgen/acgen/spec"
)

// geometry is a convolution's shape without weights, as the spec gives it.
func geometry(l *spec.Layer, in Shape) Conv {
	return Conv{
		In: in.C, Out: l.Out,
		KH: l.Kernel, KW: l.Kernel,
		StrideH: l.Stride, StrideW: l.Stride,
		PadH: l.Padding, PadW: l.Padding,
		DilH: l.Dilation, DilW: l.Dilation,
		Groups: l.Groups,
	}
}

// checkConv checks that a convolution fits its input and sets the node's
// output shape.
func checkConv(n *Node, c *Conv, in Shape) error {
	l := n.Layer
	if c.In%c.Groups != 0 {
		return diag.Tag(l.FieldErrorf("groups", "the input has %d channels, not a multiple of groups %d", c.In, c.Groups), ErrShape)
	}
	h, w := c.OutSize(in.H, in.W)
	if h < 1 || w < 1 {
		return diag.Tag(l.FieldErrorf("kernel", "a %dx%d kernel (dilation %d, padding %d) does not fit the %dx%d input",
			c.KH, c.KW, c.DilH, c.PadH, in.H, in.W), ErrShape)
	}
	n.Shape = Shape{c.Out, h, w}
	return nil
}

func (b *builder) conv(n *Node, in Shape) error {
	c := geometry(n.Layer, in)
	if err := checkConv(n, &c, in); err != nil {
		return err
	}
	w := b.weights(n.Layer, "")
	c.Weight = w.tensor("weight", c.WeightShape())
	c.Bias = w.optional("bias", []int{c.Out})
	n.Conv = &c
	return w.err()
}

func (b *builder) acblock(n *Node, in Shape) error {
	sq := geometry(n.Layer, in)
	if err := checkConv(n, &sq, in); err != nil {
		return err
	}
	k, p := sq.KH, sq.PadH
	ac := &ACBlock{Square: sq, Hor: sq, Ver: sq}
	// The official block pads the 1xK branch by [p-K/2, p] and the Kx1 by
	// [p, p-K/2], so both slide along the KxK window's centre row and
	// column; a negative pad there is a crop of the input instead.
	ac.Hor.KH, ac.Ver.KW = 1, 1
	if p >= k/2 {
		ac.Hor.PadH, ac.Ver.PadW = p-k/2, p-k/2
	} else {
		ac.Crop = k/2 - p
		ac.Hor.PadH, ac.Ver.PadW = 0, 0
	}
	w := b.weights(n.Layer, "")
	for _, br := range []struct {
		name string
		conv *Conv
		bn   *BatchNorm
	}{{"square", &ac.Square, &ac.SquareBN}, {"ver", &ac.Ver, &ac.VerBN}, {"hor", &ac.Hor, &ac.HorBN}} {
		br.conv.Weight = w.tensor(br.name+"_conv.weight", br.conv.WeightShape())
		br.conv.Bias = w.optional(br.name+"_conv.bias", []int{sq.Out})
		*br.bn = w.batchNorm(br.name+"_bn.", sq.Out, n.Layer.Eps)
	}
	n.AC = ac
	return w.err()
}

// repvgg binds a RepVGG block's keys, the official RepVGGBlock's:
// rbr_dense.{conv,bn}, rbr_1x1.{conv,bn}, and rbr_identity (a BN) when in
// and out channels are equal and the stride is 1.
func (b *builder) repvgg(n *Node, in Shape) error {
	dense := geometry(n.Layer, in)
	if err := checkConv(n, &dense, in); err != nil {
		return err
	}
	r := &RepVGG{Dense: dense, One: dense}
	r.One.KH, r.One.KW = 1, 1
	r.One.PadH, r.One.PadW = dense.PadH-dense.KH/2, dense.PadW-dense.KW/2
	w := b.weights(n.Layer, "")
	for _, br := range []struct {
		name string
		conv *Conv
		bn   *BatchNorm
	}{{"rbr_dense", &r.Dense, &r.DenseBN}, {"rbr_1x1", &r.One, &r.OneBN}} {
		br.conv.Weight = w.tensor(br.name+".conv.weight", br.conv.WeightShape())
		br.conv.Bias = w.optional(br.name+".conv.bias", []int{dense.Out})
		*br.bn = w.batchNorm(br.name+".bn.", dense.Out, n.Layer.Eps)
	}
	if in.C == dense.Out && dense.StrideH == 1 && dense.StrideW == 1 {
		if dense.PadH != dense.KH/2 {
			return diag.Tag(n.Layer.FieldErrorf("padding", "padding %d with an identity branch (in and out channels equal, stride 1): the identity keeps the input's size only with padding = kernel/2 (%d), so the official block cannot run this either", dense.PadH, dense.KH/2), ErrShape)
		}
		id := w.batchNorm("rbr_identity.", in.C, n.Layer.Eps)
		r.Identity = &id
	}
	n.Rep = r
	return w.err()
}

// dbb binds a Diverse Branch Block's keys, the official block's:
// dbb_origin.{conv,bn}, dbb_1x1.{conv,bn}, dbb_avg.{conv,bn.bn,avgbn}
// (dbb_avg.avgbn alone for a depthwise block), dbb_1x1_kxk.{idconv1 or
// conv1, bn1.bn, conv2, bn2}.
func (b *builder) dbb(n *Node, in Shape) error {
	l := n.Layer
	origin := geometry(l, in)
	if err := checkConv(n, &origin, in); err != nil {
		return err
	}
	g, k := origin.Groups, origin.KH
	depthwise := g >= origin.Out
	if depthwise && (in.C != origin.Out || g != in.C) {
		return diag.Tag(l.FieldErrorf("groups", "groups %d >= out %d makes a depthwise DBB, which needs in = out = groups (the input has %d channels)", g, origin.Out, in.C), ErrShape)
	}
	internal := l.Internal
	if internal == 0 {
		internal = in.C
		if depthwise {
			internal = 2 * in.C
		}
	}
	if internal%g != 0 {
		return diag.Tag(l.FieldErrorf("internal", "internal %d is not a multiple of groups %d", internal, g), ErrShape)
	}
	one := func(out, stride int) Conv {
		return Conv{In: in.C, Out: out, KH: 1, KW: 1, StrideH: stride, StrideW: stride, DilH: 1, DilW: 1, Groups: g}
	}
	d := &DBB{Origin: origin, Pad: origin.PadH}
	d.First = one(internal, 1)
	d.Second = Conv{In: internal, Out: origin.Out, KH: k, KW: k, StrideH: origin.StrideH, StrideW: origin.StrideW, DilH: 1, DilW: 1, Groups: g}
	w := b.weights(l, "")
	eps := l.Eps
	d.Origin.Weight = w.tensor("dbb_origin.conv.weight", origin.WeightShape())
	d.OriginBN = w.batchNorm("dbb_origin.bn.", origin.Out, eps)
	d.AvgPool = Pool{K: k, Stride: origin.StrideH, Pad: origin.PadH}
	if !depthwise {
		c := one(origin.Out, origin.StrideH)
		d.One = &c
		d.One.Weight = w.tensor("dbb_1x1.conv.weight", c.WeightShape())
		d.OneBN = w.batchNorm("dbb_1x1.bn.", origin.Out, eps)
		a := one(origin.Out, 1)
		d.AvgConv = &a
		d.AvgConv.Weight = w.tensor("dbb_avg.conv.weight", a.WeightShape())
		d.AvgPadBN = w.batchNorm("dbb_avg.bn.bn.", origin.Out, eps)
		d.AvgPool.Pad = 0 // the BN-and-pad padded already
	}
	d.AvgBN = w.batchNorm("dbb_avg.avgbn.", origin.Out, eps)
	if internal == in.C {
		// IdentityBasedConv1x1: the kernel is its weight plus the identity,
		// 1 at [i][i % (in/groups)].
		d.First.Weight = w.tensor("dbb_1x1_kxk.idconv1.weight", d.First.WeightShape())
		if d.First.Weight != nil {
			d.First.Weight = append([]float64(nil), d.First.Weight...) // the checkpoint's stays as read
			per := in.C / g
			for i := 0; i < in.C; i++ {
				d.First.Weight[i*per+i%per]++
			}
		}
	} else {
		d.First.Weight = w.tensor("dbb_1x1_kxk.conv1.weight", d.First.WeightShape())
	}
	d.FirstBN = w.batchNorm("dbb_1x1_kxk.bn1.bn.", internal, eps)
	d.Second.Weight = w.tensor("dbb_1x1_kxk.conv2.weight", d.Second.WeightShape())
	d.SecondBN = w.batchNorm("dbb_1x1_kxk.bn2.", origin.Out, eps)
	n.DBB = d
	return w.err()
}

func (b *builder) bn(n *Node, in Shape) error {
	w := b.weights(n.Layer, "")
	bn := w.batchNorm("", in.C, n.Layer.Eps)
	n.BN = &bn
	n.Shape = in
	return w.err()
}

func (b *builder) linear(n *Node, in Shape) error {
	lin := &Linear{In: in.Len(), Out: n.Layer.Out}
	w := b.weights(n.Layer, "")
	lin.Weight = w.tensor("weight", []int{lin.Out, lin.In})
	lin.Bias = w.optional("bias", []int{lin.Out})
	n.Linear = lin
	n.Shape = Shape{lin.Out, 1, 1}
	return w.err()
}

// layerWeights looks up one layer's checkpoint keys, collecting problems.
type layerWeights struct {
	b      *builder
	layer  *spec.Layer
	prefix string
	errs   diag.List

	missing []string // required keys not in the checkpoint
	found   int      // keys that are
}

func (b *builder) weights(l *spec.Layer, sub string) *layerWeights {
	return &layerWeights{b: b, layer: l, prefix: l.Prefix + "." + sub}
}

// err returns the problems found. A layer none of whose keys is in the
// checkpoint (a renamed module, a wrong prefix) is one problem, reported
// once rather than once per key.
func (w *layerWeights) err() error {
	path := ""
	if w.b.ck != nil {
		path = w.b.ck.Path
	}
	if len(w.missing) > 1 && w.found == 0 {
		others := fmt.Sprintf("are the layer's %d other keys", len(w.missing)-1)
		if len(w.missing) == 2 {
			others = "is the layer's other key"
		}
		w.fail(w.missing[0], "missing from %s, as %s under %q%s",
			path, others, w.prefix, w.deployHint())
	} else {
		for _, key := range w.missing {
			w.fail(key, "missing from %s%s", path, w.b.suggest(key))
		}
	}
	w.missing = nil
	return w.errs.Err()
}

// deployHint explains an ACBlock none of whose keys is in the checkpoint
// when the block was saved after the official code's switch_to_deploy,
// which leaves one fused conv; else it is suggest's guess.
func (w *layerWeights) deployHint() string {
	fused := w.layer.Prefix + ".fused_conv.weight"
	if _, ok := w.b.ck.Tensors[fused]; ok && w.layer.Op == spec.ACBlock {
		return fmt.Sprintf("; it has %q, a block already fused for deployment (switch_to_deploy): declare the layer `op: conv` with `prefix: %s.fused_conv` and an explicit padding",
			fused, w.layer.Prefix)
	}
	return w.b.suggest(w.missing[0])
}

func (w *layerWeights) fail(key, format string, args ...any) {
	w.errs.Add(diag.Tag(w.layer.Errorf("checkpoint key %q: "+format, append([]any{key}, args...)...), ErrWeights))
}

// tensor returns the data of the required key prefix+name, checking shape
// and values; nil after reporting a problem.
func (w *layerWeights) tensor(name string, shape []int) []float64 {
	key := w.prefix + name
	if w.b.ck == nil {
		w.b.wants = append(w.b.wants, Want{Key: key, Shape: shape})
		return nil
	}
	if _, ok := w.b.ck.Tensors[key]; !ok {
		w.missing = append(w.missing, key)
		return nil
	}
	return w.check(key, shape)
}

// optional is tensor for a key that may be absent (nil then).
func (w *layerWeights) optional(name string, shape []int) []float64 {
	key := w.prefix + name
	if w.b.ck == nil {
		w.b.wants = append(w.b.wants, Want{Key: key, Shape: shape, Optional: true})
		return nil
	}
	if _, ok := w.b.ck.Tensors[key]; !ok {
		return nil
	}
	return w.check(key, shape)
}

func (w *layerWeights) check(key string, shape []int) []float64 {
	t := w.b.ck.Tensors[key]
	w.b.used[key] = true
	w.found++
	if !equalShape(t.Shape, shape) {
		w.fail(key, "shape %v, want %v", t.Shape, shape)
		return nil
	}
	if t.Data == nil {
		w.fail(key, "dtype %s; acgen reads float16, bfloat16, float32 and float64 weights", t.DType)
		return nil
	}
	for i, v := range t.Data {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			w.fail(key, "value at %v is %v", Unravel(i, shape), v)
			return nil
		}
	}
	return t.Data
}

// batchNorm reads the four tensors of a BatchNorm2d under prefix+sub.
// weight and bias are absent together when the BN was not affine.
func (w *layerWeights) batchNorm(sub string, c int, eps float64) BatchNorm {
	bn := BatchNorm{C: c, Eps: eps}
	bn.Mean = w.tensor(sub+"running_mean", []int{c})
	bn.Var = w.tensor(sub+"running_var", []int{c})
	bn.Gamma = w.optional(sub+"weight", []int{c})
	bn.Beta = w.optional(sub+"bias", []int{c})
	if w.b.ck == nil {
		return bn
	}
	_, hasGamma := w.b.ck.Tensors[w.prefix+sub+"weight"]
	_, hasBeta := w.b.ck.Tensors[w.prefix+sub+"bias"]
	if hasGamma != hasBeta {
		missing := w.prefix + sub + "bias"
		if !hasGamma {
			missing = w.prefix + sub + "weight"
		}
		w.fail(missing, "missing, though the other affine parameter of the BatchNorm is present")
	}
	for i, v := range bn.Var {
		if v < 0 {
			w.fail(w.prefix+sub+"running_var", "variance at [%d] is negative (%g)", i, v)
			break
		}
	}
	return bn
}

// suggest names a checkpoint key that a missing one may have been meant
// as. Only keys no layer of the spec reads are candidates: a key another
// layer reads is not the missing one, however near its name.
func (b *builder) suggest(key string) string {
	if b.errs.Len() >= diag.MaxShown {
		return "" // it would not be shown, and costs a scan of every key
	}
	var keys []string
	for _, k := range b.keys() {
		if !b.wanted[k] {
			keys = append(keys, k)
		}
	}
	// The whole network may sit under a wrapper module's name.
	for _, k := range keys {
		if strings.HasSuffix(k, "."+key) {
			return fmt.Sprintf("; it has %q (set the layer's `prefix`?)", k)
		}
	}
	if near := diag.Closest(key, keys); near != "" {
		return fmt.Sprintf("; did you mean %q?", near)
	}
	return ""
}

func (b *builder) keys() []string {
	if b.sortedKeys == nil {
		b.sortedKeys = b.ck.Keys()
	}
	return b.sortedKeys
}

// unusedKeys reports checkpoint tensors that no layer read: each on its
// own line when there are a few, else one line that counts them (a
// checkpoint of the wrong network has dozens).
func (b *builder) unusedKeys() {
	var unused []string
	for _, k := range b.keys() {
		if !b.used[k] {
			unused = append(unused, k)
		}
	}
	const each = 3
	describe := func(k string) string { return fmt.Sprintf("%q %v", k, b.ck.Tensors[k].Shape) }
	if len(unused) <= each {
		for _, k := range unused {
			b.errs.Add(diag.Tag(fmt.Errorf("%s: key %s is not read by any layer of %s (-allow-unused-keys accepts it)",
				b.ck.Path, describe(k), b.net.File), ErrWeights))
		}
		return
	}
	var some []string
	for _, k := range unused[:each] {
		some = append(some, describe(k))
	}
	b.errs.Add(diag.Tag(fmt.Errorf("%s: %d keys are not read by any layer of %s: %s, ... (-allow-unused-keys accepts them)",
		b.ck.Path, len(unused), b.net.File, strings.Join(some, ", ")), ErrWeights))
}

func equalShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Unravel turns a flat row-major index into a multi-index ([i] for a
// vector), for errors that point at one value of a tensor.
func Unravel(i int, shape []int) []int {
	if len(shape) == 0 {
		return []int{i}
	}
	idx := make([]int, len(shape))
	for d := len(shape) - 1; d >= 0; d-- {
		if shape[d] > 0 {
			idx[d] = i % shape[d]
			i /= shape[d]
		}
	}
	return idx
}
