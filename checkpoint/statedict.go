package checkpoint

import (
	"fmt"

	"github.com/acgen/acgen/checkpoint/internal/pickle"
)

// wrapperKeys are where training scripts keep the state_dict inside a
// bigger checkpoint dict: the official ACNet scripts save {'model': ...},
// many others {'state_dict': ..., 'optimizer': ..., 'epoch': ...}.
var wrapperKeys = []string{"state_dict", "model"}

// stateDict finds the state_dict in the pickle's top-level object. Only
// the chosen dict is looked into; the rest (optimizer state, epoch) was
// decoded but is ignored, and its storages are never read.
func stateDict(top any) (*pickle.Dict, error) {
	d, ok := top.(*pickle.Dict)
	if !ok {
		return nil, fmt.Errorf("the pickle holds a %s, not a dict of tensors", pickle.TypeName(top))
	}
	for _, k := range wrapperKeys {
		if v, ok := d.Get(k); ok {
			if sd, ok := v.(*pickle.Dict); ok {
				return sd, nil
			}
		}
	}
	return d, nil
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
				hint = fmt.Sprintf(" (acgen looks for the state_dict at the top level or under %q or %q)", wrapperKeys[0], wrapperKeys[1])
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
