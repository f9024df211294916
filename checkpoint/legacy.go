package checkpoint

import (
	"encoding/binary"
	"fmt"

	"github.com/acgen/acgen/checkpoint/internal/pickle"
)

// The legacy format is what torch.save wrote before torch 1.6 (and since,
// with _use_new_zipfile_serialization=False): five pickles one after
// another (a magic number, the protocol version 1001, a dict of system
// facts, the object, and the sorted list of its storage keys), then every
// storage in that order, each as its element count (int64) and its bytes.
// ACNet dates from 2019, so many of its checkpoints are in this format.
const legacyProtocol = 1001

// legacyStorages holds the storages of a legacy file, by key.
type legacyStorages struct {
	data     map[string][]byte // each numel*size bytes, sliced from the file
	maxBytes int64
	read     int64
}

// readLegacyPth lists the state_dict tensors of a legacy torch.save file.
// Every count the file declares is checked against the bytes that remain
// before anything is sliced or allocated.
func readLegacyPth(data []byte, maxBytes int64) ([]rawTensor, error) {
	// sniff matched the magic pickle; it ends right after it.
	pos := legacyMagicLen(data)
	if len(data) <= pos || data[pos] != '.' {
		return nil, fmt.Errorf("legacy format: the magic number pickle does not end where it should")
	}
	pos++
	next := func(what string, h pickle.Hooks) (any, error) {
		// The zip format's bound on data.pkl holds for each pickle here.
		end := min(len(data), pos+maxPickleBytes)
		v, n, err := pickle.UnpickleNext(data[pos:end], h)
		if err != nil && pickle.ErrTruncated(err) && end < len(data) {
			return nil, fmt.Errorf("legacy format: %s pickle at byte %d: longer than %d MiB, the bound on a checkpoint's pickle", what, pos, maxPickleBytes>>20)
		}
		if err != nil {
			return nil, fmt.Errorf("legacy format: %s pickle at byte %d: %w", what, pos, err)
		}
		pos += n
		return v, nil
	}
	plain := newTorchHooks(0) // names nothing: these pickles hold plain values
	version, err := next("protocol version", plain)
	if err != nil {
		return nil, err
	}
	if v, ok := version.(int64); !ok {
		// Never the value itself: a string could hold a newline.
		return nil, fmt.Errorf("legacy format: protocol version is a %s, want the int %d", pickle.TypeName(version), legacyProtocol)
	} else if v != legacyProtocol {
		return nil, fmt.Errorf("legacy format: protocol version %d, want %d", v, legacyProtocol)
	}
	info, err := next("system info", plain)
	if err != nil {
		return nil, err
	}
	if d, ok := info.(*pickle.Dict); !ok {
		return nil, fmt.Errorf("legacy format: system info is a %s, not a dict", pickle.TypeName(info))
	} else if le, ok := d.Get("little_endian"); !ok || le != true {
		return nil, fmt.Errorf("legacy format: written on a big-endian machine; re-save it there with torch >= 1.6")
	}
	th := newTorchHooks(len(data) - pos)
	top, err := next("checkpoint", th)
	if err != nil {
		return nil, err
	}
	keysValue, err := next("storage keys", plain)
	if err != nil {
		return nil, err
	}
	keys, ok := keysValue.(*pickle.List)
	if !ok {
		return nil, fmt.Errorf("legacy format: the storage keys are a %s, not a list", pickle.TypeName(keysValue))
	}
	src := &legacyStorages{data: map[string][]byte{}, maxBytes: maxBytes}
	for i, k := range keys.Items {
		key, ok := k.(string)
		if !ok {
			return nil, fmt.Errorf("legacy format: storage key %d is a %s, not a str", i, pickle.TypeName(k))
		}
		// The element size comes from the pickle's reference to the
		// storage; torch writes only the storages the object refers to.
		ref, ok := th.storages[key]
		if !ok {
			return nil, fmt.Errorf("legacy format: storage %q is not one the checkpoint refers to", clip(key))
		}
		if _, dup := src.data[key]; dup {
			return nil, fmt.Errorf("legacy format: storage %q is listed twice", clip(key))
		}
		if len(data)-pos < 8 {
			return nil, fmt.Errorf("legacy format: storage %q: the file ends before its size (truncated?)", clip(key))
		}
		numel := int64(binary.LittleEndian.Uint64(data[pos:]))
		pos += 8
		n, ok := mul64(numel, ref.dt.size)
		if !ok || numel < 0 || n > int64(len(data)-pos) {
			return nil, fmt.Errorf("legacy format: storage %q declares %d elements, more than the %d bytes left hold (truncated?)",
				clip(key), numel, len(data)-pos)
		}
		if numel != ref.numel {
			return nil, fmt.Errorf("legacy format: storage %q: the pickle says %d elements, the data %d", clip(key), ref.numel, numel)
		}
		src.data[key] = data[pos : pos+int(n)]
		pos += int(n)
	}
	return stateDictTensors(top, src)
}

func (l *legacyStorages) storage(key string, dt *dtype, numel int64) ([]byte, error) {
	b, ok := l.data[key]
	if !ok {
		return nil, fmt.Errorf("not among the file's storages")
	}
	var fits bool
	if l.read, fits = add64(l.read, int64(len(b))); !fits || l.read > l.maxBytes {
		return nil, fmt.Errorf("storages total more than %d bytes, the limit set by Options.MaxBytes", l.maxBytes)
	}
	return b, nil
}
