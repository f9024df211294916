package checkpoint

import (
	"archive/zip"
	"bytes"
	"fmt"
	"path"
	"strings"
)

// archive is a torch.save zip: <prefix>/data.pkl, <prefix>/data/<key> per
// storage, <prefix>/version and, since torch 2.1, <prefix>/byteorder. The
// prefix is named after the file torch wrote ("model/" for model.pth).
type archive struct {
	data      []byte // the whole file; stored entries are sliced from it
	entries   map[string]*zip.File
	prefix    string
	bigEndian bool
	maxBytes  int64
	read      int64 // storage bytes read so far
}

// maxPickleBytes bounds data.pkl. A state_dict's pickle takes roughly
// 100 bytes per tensor (47 KB for ResNet-20's 300 tensors), so this allows
// hundreds of thousands of tensors; decoding allocates a few dozen bytes
// per pickle byte at worst, so the bound also bounds that.
const maxPickleBytes = 64 << 20

// readPth lists the state_dict tensors of a torch.save zip archive.
func readPth(data []byte, maxBytes int64) ([]rawTensor, error) {
	a, err := openArchive(data, maxBytes)
	if err != nil {
		return nil, err
	}
	pkl, err := a.entry("data.pkl", -1, min(maxBytes, maxPickleBytes))
	if err != nil {
		return nil, err
	}
	return loadPickle(pkl, a)
}

// openArchive indexes the zip and refuses what is not a state_dict archive.
// archive/zip bounds the central directory by the file size before it
// allocates for it; entry contents are only read later, by entry.
func openArchive(data []byte, maxBytes int64) (*archive, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, fmt.Errorf("not a readable zip archive (truncated or corrupt?): %w", err)
	}
	a := &archive{data: data, entries: make(map[string]*zip.File, len(zr.File)), maxBytes: maxBytes}
	var pkls []string
	for _, f := range zr.File {
		if _, dup := a.entries[f.Name]; dup {
			return nil, fmt.Errorf("zip entry %q appears twice", clip(f.Name))
		}
		a.entries[f.Name] = f
		if path.Base(f.Name) == "data.pkl" && strings.Count(f.Name, "/") <= 1 {
			pkls = append(pkls, f.Name)
		}
	}
	switch len(pkls) {
	case 0:
		return nil, fmt.Errorf("zip archive has no data.pkl: not a PyTorch checkpoint: %w", errFormat)
	case 1:
	default:
		return nil, fmt.Errorf("zip archive has %d data.pkl entries (%q, %q, ...)", len(pkls), clip(pkls[0]), clip(pkls[1]))
	}
	a.prefix = strings.TrimSuffix(pkls[0], "data.pkl")
	if a.isTorchScript() {
		return nil, fmt.Errorf("a TorchScript archive (torch.jit.save), not a state_dict: " +
			"save the weights with torch.save(model.state_dict(), path)")
	}
	if err := a.readByteOrder(); err != nil {
		return nil, err
	}
	return a, nil
}

func (a *archive) isTorchScript() bool {
	if _, ok := a.entries[a.prefix+"constants.pkl"]; ok {
		return true
	}
	for name := range a.entries {
		if strings.HasPrefix(name, a.prefix+"code/") {
			return true
		}
	}
	return false
}

// readByteOrder reads the optional byteorder entry; without it storages
// are little-endian, as every torch before 2.1 wrote them.
func (a *archive) readByteOrder() error {
	if _, ok := a.entries[a.prefix+"byteorder"]; !ok {
		return nil
	}
	b, err := a.entry("byteorder", -1, 16)
	if err != nil {
		return err
	}
	switch strings.TrimSpace(string(b)) {
	case "little":
	case "big":
		a.bigEndian = true
	default:
		return fmt.Errorf("zip entry %sbyteorder says %q, want little or big", a.prefix, clip(string(b)))
	}
	return nil
}

// storage returns the bytes of <prefix>/data/<key>, which must be exactly
// the numel*size bytes the pickle declared, counted against maxBytes.
func (a *archive) storage(key string, dt *dtype, numel int64) ([]byte, error) {
	n, ok := mul64(numel, dt.size)
	if ok {
		a.read, ok = add64(a.read, n)
	}
	if !ok || a.read > a.maxBytes {
		return nil, fmt.Errorf("storages total more than %d bytes, the limit set by Options.MaxBytes", a.maxBytes)
	}
	b, err := a.entry("data/"+key, n, n)
	if err != nil {
		return nil, err
	}
	if a.bigEndian && dt.size > 1 {
		b = swapBytes(b, int(dt.size))
	}
	return b, nil
}

// swapBytes returns a little-endian copy of big-endian elements.
func swapBytes(b []byte, size int) []byte {
	out := make([]byte, len(b))
	for i := 0; i+size <= len(b); i += size {
		for j := 0; j < size; j++ {
			out[i+j] = b[i+size-1-j]
		}
	}
	return out
}
