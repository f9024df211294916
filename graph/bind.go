package graph

import (
	"fmt"
	"math"
	"strings"

	"github.com/acgen/acgen/internal/diag"
	"github.com/acgen/acgen/spec"
)

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

// parameter looks up a layer whose one tensor's key is its prefix (a
// scale's nn.Parameter): its name is "".
func (b *builder) parameter(l *spec.Layer) *layerWeights {
	return &layerWeights{b: b, layer: l, prefix: l.Prefix}
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

// tensorOf is tensor for a key that may have any of shapes (the first is
// the one a checkpoint is asked for); it returns the shape found.
func (w *layerWeights) tensorOf(name string, shapes ...[]int) ([]float64, []int) {
	if w.b.ck == nil {
		return w.tensor(name, shapes[0]), shapes[0]
	}
	key := w.prefix + name
	t, ok := w.b.ck.Tensors[key]
	if !ok {
		return w.tensor(name, shapes[0]), shapes[0]
	}
	for _, shape := range shapes {
		if equalShape(t.Shape, shape) {
			return w.check(key, shape), shape
		}
	}
	w.b.used[key] = true
	w.found++
	var want []string
	for _, shape := range shapes {
		want = append(want, fmt.Sprint(shape))
	}
	w.fail(key, "shape %v, want %s", t.Shape, strings.Join(want, " or "))
	return nil, shapes[0]
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
	if !t.Float() {
		w.fail(key, "dtype %s; acgen reads float16, bfloat16, float32 and float64 weights", t.DType)
		return nil
	}
	if w.b.lazy && !w.b.loading {
		return unloaded // Graph.Bind reads it
	}
	if err := t.Load(); err != nil {
		w.errs.Add(diag.Tag(w.layer.Errorf("%w", err), ErrWeights))
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
		if !b.used[k] && !b.unreadOnPurpose(k) {
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

// unreadOnPurpose reports whether key belongs to a module the spec's
// `unread` names.
func (b *builder) unreadOnPurpose(key string) bool {
	for _, p := range b.net.Unread {
		if key == p || strings.HasPrefix(key, p+".") {
			return true
		}
	}
	return false
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
