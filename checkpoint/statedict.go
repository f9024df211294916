package checkpoint

import (
	"fmt"
	"strings"

	"github.com/acgen/acgen/checkpoint/internal/pickle"
)

// wrapperKeys are where training scripts keep the state_dict inside a
// bigger checkpoint dict: the official ACNet scripts save {'model': ...},
// PyTorch's tutorial {'model_state_dict': ..., 'optimizer_state_dict': ...,
// 'epoch': ...}, many others {'state_dict': ...}, {'net': ...}.
var wrapperKeys = []string{"state_dict", "model", "model_state_dict", "net", "network", "module", "weights", "params"}

// stateDict finds the state_dict in the pickle's top-level object: the
// top-level dict itself when it holds tensors, else the first of
// wrapperKeys whose value is a dict that does. Only the chosen dict is
// looked into; the rest (optimizer state, epoch, arguments) was decoded
// but is ignored, and its storages are never read.
func stateDict(top any) (*pickle.Dict, error) {
	d, ok := top.(*pickle.Dict)
	if !ok {
		return nil, fmt.Errorf("the pickle holds a %s, not a dict of tensors (save the weights with torch.save(model.state_dict(), path))", pickle.TypeName(top))
	}
	if holdsTensors(d) || d.Len() == 0 {
		return d, nil
	}
	for _, k := range wrapperKeys {
		if v, ok := d.Get(k); ok {
			if sd, ok := v.(*pickle.Dict); ok && holdsTensors(sd) {
				return sd, nil
			}
		}
	}
	var keys []string
	for i := 0; i < d.Len() && i < 8; i++ {
		if k, ok := d.Key(i).(string); ok {
			keys = append(keys, fmt.Sprintf("%q (%s)", clip(k), pickle.TypeName(d.Value(i))))
		}
	}
	return nil, fmt.Errorf("the checkpoint is a dict of %s, and none is a state_dict: acgen looks at the top level and under %s; save the weights with torch.save(model.state_dict(), path)",
		strings.Join(keys, ", "), strings.Join(wrapperKeys, ", "))
}

// holdsTensors reports whether any value of d is a tensor.
func holdsTensors(d *pickle.Dict) bool {
	for i := 0; i < d.Len(); i++ {
		if _, ok := d.Value(i).(*tensorRef); ok {
			return true
		}
	}
	return false
}

// storageSource gives a storage's bytes: the zip archive, or a map in tests.
type storageSource interface {
	// storage returns exactly numel*dt.size little-endian bytes for key.
	storage(key string, dt *dtype, numel int64) ([]byte, error)
}

// loadPickle decodes data.pkl and lists the state_dict's tensors. Storage
// bytes are fetched lazily, once per storage, through src.
func loadPickle(pkl []byte, src storageSource) ([]rawTensor, error) {
	h := newTorchHooks(len(pkl))
	top, err := pickle.Unpickle(pkl, h)
	if err != nil {
		return nil, fmt.Errorf("data.pkl: %w", err)
	}
	raws, err := stateDictTensors(top, src)
	if err != nil {
		return nil, fmt.Errorf("data.pkl: %w", err)
	}
	return raws, nil
}

// stateDictTensors lists the tensors of the state_dict in a decoded
// checkpoint pickle.
func stateDictTensors(top any, src storageSource) ([]rawTensor, error) {
	sd, err := stateDict(top)
	if err != nil {
		return nil, err
	}
	cache := map[*storageRef][]byte{}
	raws := make([]rawTensor, 0, sd.Len())
	for i := 0; i < sd.Len(); i++ {
		key, ok := sd.Key(i).(string)
		if !ok {
			return nil, fmt.Errorf("state_dict key %d is a %s, not a str", i, pickle.TypeName(sd.Key(i)))
		}
		t, ok := sd.Value(i).(*tensorRef)
		if !ok {
			hint := ""
			if _, isDict := sd.Value(i).(*pickle.Dict); isDict {
				hint = fmt.Sprintf(" (acgen looks for the state_dict at the top level or under %s)", strings.Join(wrapperKeys, ", "))
			}
			return nil, fmt.Errorf("key %q: value is a %s, not a tensor%s", clip(key), pickle.TypeName(sd.Value(i)), hint)
		}
		s := t.storage
		raws = append(raws, rawTensor{
			key:          key,
			dt:           s.dt,
			layout:       t.layout,
			storageNumel: s.numel,
			storage: func() ([]byte, error) {
				if b, ok := cache[s]; ok {
					return b, nil
				}
				b, err := src.storage(s.key, s.dt, s.numel)
				if err != nil {
					return nil, fmt.Errorf("storage %q: %w", clip(s.key), err)
				}
				cache[s] = b
				return b, nil
			},
		})
	}
	return raws, nil
}
