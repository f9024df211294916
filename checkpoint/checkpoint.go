package checkpoint

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
)

// Tensor is one named tensor from a checkpoint, converted to float64.
type Tensor struct {
	Key   string // key after normalisation (see the package doc)
	DType string // "float32", "float16", "bfloat16", "float64", or for others their torch name ("int64", ...)
	Shape []int
	// Data is the values, row-major, len == product(Shape); nil when
	// DType is not a float type, and in a file loaded with Options.Lazy
	// until Load.
	Data []float64

	load func(drop func([]byte)) ([]float64, error) // a lazy file's decoder (drop gives back pages it read); nil otherwise
	file *File
}

// Float reports whether the tensor holds floating-point values, which
// acgen reads (Data, or Load in a lazy file).
func (t *Tensor) Float() bool { return t.Data != nil || t.load != nil }

// Load decodes a lazy file's tensor into Data, if it is not there: in a
// file loaded without Options.Lazy it always is. The error names the key.
func (t *Tensor) Load() error {
	if t.Data != nil || t.load == nil {
		return nil
	}
	data, err := t.file.guard(t.load)
	if err != nil {
		return fmt.Errorf("key %q: %w", clip(t.Key), err)
	}
	t.Data = data
	t.file.dropPages()
	return nil
}

// Release lets go of a lazy tensor's Data; Load decodes it again. It does
// nothing in a file that is not lazy, whose Data is all there is.
func (t *Tensor) Release() {
	if t.load != nil {
		t.Data = nil
	}
}

// File is a loaded checkpoint.
type File struct {
	Path    string
	Format  string // "pth", "safetensors" or "hdf5"
	Tensors map[string]*Tensor
	// Notes are what the reader left out on purpose, one line each (the
	// official ACNet HDF5 files' "deps" array), for the caller to show.
	Notes []string

	// A lazy file keeps its mapping until Close; mapped is its bytes.
	mapped []byte
	unmap  func()
}

// Close releases a lazy file's mapping; its tensors cannot Load after.
// It is a no-op for other files.
func (f *File) Close() {
	if f.unmap != nil {
		f.unmap()
		f.unmap, f.mapped = nil, nil
	}
}

// Keys returns the tensor keys sorted.
func (f *File) Keys() []string {
	keys := make([]string, 0, len(f.Tensors))
	for k := range f.Tensors {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Options tunes loading.
type Options struct {
	// MaxBytes bounds the total tensor bytes accepted (default 4 GiB when 0).
	// It counts each kept tensor's elements times its element size, and
	// separately the storage bytes read from a .pth archive. The float64
	// Data built from them is up to 8/size times larger (4x for float16).
	MaxBytes int64

	// Lazy leaves every tensor's Data nil until its Load, and keeps the
	// file mapped until Close: a caller that loads and releases a few
	// tensors at a time holds only those in memory. The file's layout and
	// every tensor's storage are still checked by Load (the function), so
	// a broken file fails there, not halfway through a run. MaxBytes then
	// bounds each tensor's float64 size rather than their sum.
	Lazy bool

	// Want, when set, names the tensors the caller will read and their
	// element counts (a spec's, from graph.Wants). Only those are read
	// and converted: every other tensor, and one whose element count
	// differs (the caller reports its shape), is listed with its dtype and
	// shape but Data nil, and its bytes are never touched. So the memory a
	// load takes is bounded by what the spec needs (8 bytes an element
	// once widened to float64), whatever else the file holds.
	Want map[string]int64
}

// defaultMaxBytes is the MaxBytes used when Options.MaxBytes is 0 or less.
const defaultMaxBytes = 4 << 30

func (o Options) maxBytes() int64 {
	if o.MaxBytes <= 0 {
		return defaultMaxBytes
	}
	return o.MaxBytes
}

// Read is Load from bytes already in memory; name is used in errors and as
// File.Path. data is only read, never kept: nothing in the returned File
// aliases it.
func Read(name string, data []byte, opt Options) (*File, error) {
	format, err := sniff(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	var raws []rawTensor
	var notes []string
	switch format {
	case "pth":
		raws, err = readPth(data, opt.maxBytes())
	case "pth-legacy":
		raws, err = readLegacyPth(data, opt.maxBytes())
		format = "pth"
	case "safetensors":
		raws, err = readSafetensors(data, opt.maxBytes())
	case "hdf5":
		raws, notes, err = readHDF5(data, opt.maxBytes())
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	f := &File{Path: name, Format: format, Notes: notes}
	f.Tensors, err = finish(raws, opt.maxBytes(), opt.Want, opt.Lazy)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	for _, t := range f.Tensors {
		t.file = f
	}
	return f, nil
}

// errFormat is wrapped by every "this is not a file we read" error.
var errFormat = errors.New("acgen reads PyTorch .pth files (torch.save's zip format, or the legacy one of torch < 1.6), .safetensors files and HDF5 files of datasets (h5py's, as the official ACNet code saves)")

// pickleMagic starts the legacy (torch < 1.6) format (see legacy.go): a
// pickled magic number 0x1950a86a20f9469cfc6c, written as protocol 2 LONG1.
var pickleMagic = []byte{0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19}

// legacyMagicLen is the length of the legacy format's magic-number pickle
// at the start of data, without its STOP, or 0: torch.save writes it in
// the pickle protocol it was given, 2 by default, and protocols 4 and 5
// put it in a frame.
func legacyMagicLen(data []byte) int {
	long := pickleMagic[2:] // LONG1 of the magic number
	for _, head := range [][]byte{{0x80, 0x02}, {0x80, 0x03}, {0x80, 0x04, 0x95, 13, 0, 0, 0, 0, 0, 0, 0}, {0x80, 0x05, 0x95, 13, 0, 0, 0, 0, 0, 0, 0}} {
		if bytes.HasPrefix(data, head) && bytes.HasPrefix(data[len(head):], long) {
			return len(head) + len(long)
		}
	}
	return 0
}

// sniff tells the format from the content, never from the file name.
func sniff(data []byte) (string, error) {
	switch {
	case len(data) == 0:
		return "", fmt.Errorf("empty file: %w", errFormat)
	case bytes.HasPrefix(data, []byte("PK\x03\x04")), bytes.HasPrefix(data, []byte("PK\x05\x06")):
		return "pth", nil
	case len(data) > 8 && data[8] == '{':
		return "safetensors", nil
	case h5SuperblockAt(data) >= 0:
		return "hdf5", nil
	case legacyMagicLen(data) > 0:
		return "pth-legacy", nil
	case len(data) > 262 && string(data[257:262]) == "ustar":
		return "", fmt.Errorf("the tar format of the earliest torch versions: " +
			"re-save it with a newer torch: torch.save(torch.load(path), new_path)")
	case data[0] == 0x80:
		return "", fmt.Errorf("a bare pickle, not a checkpoint: %w", errFormat)
	}
	return "", fmt.Errorf("unknown format: %w", errFormat)
}
