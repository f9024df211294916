package checkpoint

import (
	"fmt"
	"strings"
)

// rawTensor is a tensor as a file declares it, before normalisation and
// before any of its data is read. Both formats reduce to a list of these,
// so the checks and the conversion below are shared.
type rawTensor struct {
	key          string // as in the file
	dt           *dtype
	layout       layout
	storageNumel int64
	// storage returns the storage's bytes, little-endian, exactly
	// storageNumel*dt.size of them; it is only called for kept tensors,
	// after every layout and the byte budget have been checked.
	storage func() ([]byte, error)
}

const dataParallelPrefix = "module."

// maxTensors bounds the tensors of one checkpoint: each costs a few
// hundred bytes of bookkeeping before any data, and real networks hold
// thousands.
const maxTensors = 1 << 18

// finish normalises the keys (drops num_batches_tracked, strips the
// nn.DataParallel prefix when every key has it), checks every tensor's
// layout against its storage and the total against maxBytes, and only then
// converts the float tensors to float64: all of them, or with want only
// those it names with their element count (see Options.Want), whose
// widened size counts against maxBytes before anything is allocated.
func finish(raws []rawTensor, maxBytes int64, want map[string]int64, lazy bool) (map[string]*Tensor, error) {
	strip := len(raws) > 0
	for _, r := range raws {
		strip = strip && strings.HasPrefix(r.key, dataParallelPrefix)
	}
	type kept struct {
		raw   *rawTensor
		numel int64
		read  bool // fetch the storage and convert
	}
	if len(raws) > maxTensors {
		return nil, fmt.Errorf("%d tensors, more than the %d a checkpoint may hold", len(raws), maxTensors)
	}
	var keep []kept
	var total int64
	for i := range raws {
		r := &raws[i]
		if strings.HasSuffix(r.key, "num_batches_tracked") {
			continue
		}
		numel, err := r.layout.check(r.storageNumel)
		if err != nil {
			return nil, fmt.Errorf("key %q: %w", clip(r.key), err)
		}
		read := true
		size := r.dt.size
		if want != nil {
			key := r.key
			if strip {
				key = strings.TrimPrefix(key, dataParallelPrefix)
			}
			w, ok := want[key]
			read = ok && w == numel
			size = 8 // widened to float64
		}
		if !read {
			keep = append(keep, kept{r, numel, false})
			continue
		}
		n, ok := mul64(numel, size)
		if lazy {
			total = 0 // tensors are decoded a few at a time: each is bounded
		}
		if ok {
			total, ok = add64(total, n)
		}
		if !ok || total > maxBytes {
			return nil, fmt.Errorf("key %q: tensors total more than %d bytes, the limit set by Options.MaxBytes", clip(r.key), maxBytes)
		}
		keep = append(keep, kept{r, numel, true})
	}

	out := make(map[string]*Tensor, len(keep))
	for _, k := range keep {
		r := k.raw
		key := r.key
		if strip {
			key = strings.TrimPrefix(key, dataParallelPrefix)
		}
		t := &Tensor{Key: key, DType: r.dt.name, Shape: make([]int, len(r.layout.shape))}
		for i, n := range r.layout.shape {
			if int64(int(n)) != n {
				return nil, fmt.Errorf("key %q: dimension %d does not fit in an int", clip(r.key), n)
			}
			t.Shape[i] = int(n)
		}
		if _, dup := out[key]; dup {
			return nil, fmt.Errorf("key %q: appears twice", clip(r.key))
		}
		if !k.read {
			out[key] = t
			continue
		}
		// Every kept tensor's storage is fetched, so a missing or corrupt
		// entry is found even for the tensors that keep Data nil.
		buf, err := r.storage()
		if err != nil {
			return nil, fmt.Errorf("key %q: %w", clip(r.key), err)
		}
		if int64(len(buf)) != r.storageNumel*r.dt.size {
			return nil, fmt.Errorf("key %q: storage holds %d bytes, want %d", clip(r.key), len(buf), r.storageNumel*r.dt.size)
		}
		switch {
		case !r.dt.float:
		case lazy:
			numel := k.numel
			t.load = func(drop func([]byte)) ([]float64, error) {
				buf, err := r.storage()
				if err != nil {
					return nil, err
				}
				if !r.layout.contiguous() {
					return gather(r.dt, buf, r.layout, numel)
				}
				// Decoded a slab at a time, each slab's file pages given
				// back as it is done: a 400 MB tensor then never holds
				// its file pages and its float64 values at once.
				dst := make([]float64, numel)
				const slab = 1 << 20
				for lo := int64(0); lo < numel; lo += slab {
					hi := min(lo+slab, numel)
					if err := decodeRow(r.dt, dst[lo:hi], buf, r.layout.offset+lo, 1); err != nil {
						return nil, err
					}
					drop(buf[(r.layout.offset+lo)*r.dt.size : (r.layout.offset+hi)*r.dt.size])
				}
				return dst, nil
			}
		default:
			if t.Data, err = gather(r.dt, buf, r.layout, k.numel); err != nil {
				return nil, fmt.Errorf("key %q: %w", clip(r.key), err)
			}
		}
		out[key] = t
	}
	return out, nil
}
