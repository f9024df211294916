package checkpoint

import (
	"errors"
	"fmt"
	"strings"

	"github.com/acgen/acgen/checkpoint/internal/pickle"
)

// errRefused ends every refusal of something a state_dict does not need.
var errRefused = errors.New("refused; a state_dict needs only tensors and dicts")

// The callables a state_dict pickle may name. Nothing else resolves: not
// copy_reg._reconstructor, not __builtin__.object, not a model class (a
// whole model saved with torch.save(model) is refused by its class name).
type torchGlobal string

const (
	gOrderedDict       torchGlobal = "collections.OrderedDict"
	gRebuildTensorV2   torchGlobal = "torch._utils._rebuild_tensor_v2"
	gRebuildTensor     torchGlobal = "torch._utils._rebuild_tensor"
	gRebuildParameter  torchGlobal = "torch._utils._rebuild_parameter"
	gRebuildParamState torchGlobal = "torch._utils._rebuild_parameter_with_state"
)

var allowedGlobals = map[string]torchGlobal{}

// inertGlobals are the classes and functions training scripts pickle
// beside the weights: argparse's Namespace of hyper-parameters, numpy
// scalars and arrays (a best accuracy), torch.Size. Each resolves to an
// inert placeholder: nothing is imported or called, whatever it is
// applied to becomes an opaque value, and such a value is an error only
// where a tensor must be (inside the state_dict).
var inertGlobals = map[string]bool{
	"argparse.Namespace":                  true,
	"torch.Size":                          true,
	"numpy.dtype":                         true,
	"numpy.ndarray":                       true,
	"numpy.core.multiarray.scalar":        true,
	"numpy.core.multiarray._reconstruct":  true,
	"numpy._core.multiarray.scalar":       true,
	"numpy._core.multiarray._reconstruct": true,
	"_codecs.encode":                      true,
}

// systemModules are Python's and the libraries' own: a class of any other
// module in a checkpoint is the user's, as torch.save(model) pickles.
var systemModules = map[string]bool{
	"builtins": true, "__builtin__": true, "os": true, "posix": true, "nt": true, "sys": true, "subprocess": true,
	"copyreg": true, "copy_reg": true, "_codecs": true, "functools": true, "operator": true, "collections": true,
	"torch": true, "numpy": true, "io": true, "pickle": true, "types": true, "codecs": true, "shutil": true,
}

// inertClass is one of inertGlobals; inertValue what it made.
type (
	inertClass struct{ name string }
	inertValue struct{ of string }
)

func (c inertClass) String() string { return c.name }
func (v inertValue) String() string { return v.of + " value" }

func init() {
	for _, g := range []torchGlobal{gOrderedDict, gRebuildTensorV2, gRebuildTensor, gRebuildParameter, gRebuildParamState} {
		allowedGlobals[string(g)] = g
	}
}

func (g torchGlobal) String() string { return string(g) }

// storageClass is torch.FloatStorage and its kin: only ever used as the
// element type inside a persistent id.
type storageClass struct {
	name string
	dt   *dtype
}

func (s storageClass) String() string { return "torch." + s.name }

// storageRef is a storage the pickle refers to; its bytes are a zip entry,
// read only if a kept tensor uses it.
type storageRef struct {
	dt    *dtype
	key   string
	numel int64
}

func (*storageRef) String() string { return "storage" }

// tensorRef is what _rebuild_tensor_v2 returns: a view of a storage. Its
// layout is checked against the storage once the tensor's key is known, so
// the error can name it.
type tensorRef struct {
	storage *storageRef
	layout  layout
}

func (*tensorRef) String() string { return "tensor" }

// torchHooks is the allowlist: it gives the harmless meaning to the few
// names a state_dict uses and refuses everything else by name.
type torchHooks struct {
	storages map[string]*storageRef
	// work counts storage-key bytes hashed, bounded as the pickle
	// decoder bounds dict keys: one memoized persistent id with a huge
	// key could otherwise be looked up again and again for 3 bytes each.
	work, maxWork int
}

func newTorchHooks(pickleSize int) *torchHooks {
	return &torchHooks{storages: map[string]*storageRef{}, maxWork: pickle.WorkPerByte*pickleSize + 1<<20}
}

func (h *torchHooks) Global(module, name string) (any, error) {
	full := module + "." + name
	if g, ok := allowedGlobals[full]; ok {
		return g, nil
	}
	if dt, ok := torchStorages[name]; ok && module == "torch" {
		return storageClass{name, dt}, nil
	}
	if inertGlobals[full] {
		return inertClass{full}, nil
	}
	hint := ""
	if !systemModules[strings.SplitN(module, ".", 2)[0]] {
		// Most likely the network's own class: torch.save(model).
		hint = " (a whole model saved with torch.save(model)? save its weights instead: torch.save(model.state_dict(), path))"
	}
	return nil, fmt.Errorf("pickle names %q: %w%s", clip(full), errRefused, hint)
}

func (h *torchHooks) Reduce(fn any, args pickle.Tuple) (any, error) {
	if c, ok := fn.(inertClass); ok {
		return inertValue{c.name}, nil
	}
	switch fn {
	case gOrderedDict:
		// Python 3 pickles an OrderedDict as an empty call followed by
		// SETITEMS. Python 2's form, a call with a list of pairs, is
		// refused: torch's zip format is Python 3 only, and copying a list
		// that the pickle can name again and again through the memo would
		// cost work out of all proportion to the pickle's size.
		if len(args) == 0 {
			return pickle.NewDict(), nil
		}
	case gRebuildTensorV2: // (storage, offset, size, stride, requires_grad, backward_hooks[, metadata])
		if (len(args) == 6 || len(args) == 7) && isBool(args[4]) && isEmptyDict(args[5]) {
			if t, ok := rebuildTensor(args[:4]); ok {
				return t, nil
			}
		}
	case gRebuildTensor: // (storage, offset, size, stride)
		if t, ok := rebuildTensor(args); ok {
			return t, nil
		}
	case gRebuildParameter, gRebuildParamState: // (data, requires_grad, backward_hooks[, state])
		want := 3
		if fn == gRebuildParamState {
			want = 4
		}
		if len(args) == want && isBool(args[1]) && isEmptyDict(args[2]) {
			if t, ok := args[0].(*tensorRef); ok {
				return t, nil
			}
		}
	default:
		return nil, fmt.Errorf("pickle calls a %s: %w", pickle.TypeName(fn), errRefused)
	}
	return nil, fmt.Errorf("pickle calls %s%s: unexpected arguments: %w", fn, describeArgs(args), errRefused)
}

func (h *torchHooks) NewObj(cls any, args pickle.Tuple) (any, error) {
	if cls == gOrderedDict && len(args) == 0 {
		return pickle.NewDict(), nil
	}
	if c, ok := cls.(inertClass); ok {
		return inertValue{c.name}, nil
	}
	return nil, fmt.Errorf("pickle constructs a %s%s: %w", pickle.TypeName(cls), describeArgs(args), errRefused)
}

// Build accepts only the OrderedDict state torch writes: a dict of
// attributes (the state_dict's _metadata), which is dropped.
func (h *torchHooks) Build(obj, state any) (any, error) {
	if _, ok := obj.(inertValue); ok {
		return obj, nil // a Namespace's attributes, an array's data: dropped
	}
	if _, ok := obj.(*pickle.Dict); ok {
		if _, ok := state.(*pickle.Dict); ok || state == nil {
			return obj, nil
		}
	}
	return nil, fmt.Errorf("pickle sets the state of a %s to a %s: %w", pickle.TypeName(obj), pickle.TypeName(state), errRefused)
}

// Persistent resolves ('storage', torch.FloatStorage, key, location,
// numel), and the legacy format's same tuple with a sixth element, the
// view metadata, which torch leaves None for a whole storage.
func (h *torchHooks) Persistent(id any) (any, error) {
	t, ok := id.(pickle.Tuple)
	if ok && len(t) == 6 && t[5] == nil {
		t = t[:5]
	}
	if !ok || len(t) != 5 || t[0] != "storage" {
		what := pickle.TypeName(id)
		if ok {
			what += describeArgs(t)
		}
		return nil, fmt.Errorf("pickle refers to a persistent %s, not a storage: %w", what, errRefused)
	}
	class, ok1 := t[1].(storageClass)
	key, ok2 := t[2].(string)
	_, ok3 := t[3].(string)
	numel, ok4 := t[4].(int64)
	if !ok1 || !ok2 || !ok3 || !ok4 {
		return nil, fmt.Errorf("pickle refers to a storage%s: want (\"storage\", class, key, location, numel): %w", describeArgs(t), errRefused)
	}
	if h.work += len(key) + 8; h.work > h.maxWork {
		return nil, fmt.Errorf("storage keys cost more to look up than the pickle's size can justify")
	}
	if _, ok := mul64(numel, class.dt.size); !ok || numel < 0 {
		return nil, fmt.Errorf("storage %q: bad element count %d", clip(key), numel)
	}
	if s, ok := h.storages[key]; ok {
		if s.dt != class.dt || s.numel != numel {
			return nil, fmt.Errorf("storage %q: declared as %d %s and as %d %s", clip(key), s.numel, s.dt.name, numel, class.dt.name)
		}
		return s, nil
	}
	s := &storageRef{dt: class.dt, key: key, numel: numel}
	h.storages[key] = s
	return s, nil
}

// rebuildTensor checks the types of (storage, offset, size, stride); their
// values are checked later by layout.check.
func rebuildTensor(args []any) (*tensorRef, bool) {
	if len(args) != 4 {
		return nil, false
	}
	s, ok1 := args[0].(*storageRef)
	off, ok2 := args[1].(int64)
	size, ok3 := ints(args[2])
	stride, ok4 := ints(args[3])
	if !ok1 || !ok2 || !ok3 || !ok4 {
		return nil, false
	}
	return &tensorRef{storage: s, layout: layout{shape: size, stride: stride, offset: off}}, true
}

// ints converts a tuple of ints (torch.Size or a stride); rank is capped
// here so a forged million-entry tuple is not copied.
func ints(v any) ([]int64, bool) {
	t, ok := v.(pickle.Tuple)
	if !ok || len(t) > maxDims {
		return nil, false
	}
	out := make([]int64, len(t))
	for i, x := range t {
		if out[i], ok = x.(int64); !ok {
			return nil, false
		}
	}
	return out, true
}

func isBool(v any) bool { _, ok := v.(bool); return ok }

// isEmptyDict accepts the backward_hooks argument: torch writes an empty
// OrderedDict; a non-empty one would hold functions.
func isEmptyDict(v any) bool {
	d, ok := v.(*pickle.Dict)
	return ok && d.Len() == 0
}

// describeArgs lists argument types, never values: values can be cyclic.
func describeArgs(args []any) string {
	var b strings.Builder
	b.WriteByte('(')
	for i, a := range args {
		if i == 8 {
			fmt.Fprintf(&b, ", ... %d more", len(args)-i)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(pickle.TypeName(a))
	}
	b.WriteByte(')')
	return b.String()
}

// clip shortens file text quoted in an error.
func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}
