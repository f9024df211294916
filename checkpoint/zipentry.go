package checkpoint

import (
	"archive/zip"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
)

// maxDeflateRatio is the most that deflate can expand its input
// (258-byte matches coded in under two bits each: about 1032:1); an entry
// declaring more is lying about its size.
const maxDeflateRatio = 1032

// entry returns the contents of <prefix>/name. want >= 0 demands exactly
// that size; limit bounds it. Both checks use the sizes the central
// directory declares, before anything is read or allocated, and the read
// itself never goes past the declared size, so neither a forged size nor
// a zip bomb can make it allocate more than limit.
func (a *archive) entry(name string, want, limit int64) ([]byte, error) {
	full := a.prefix + name
	f, ok := a.entries[full]
	if !ok {
		return nil, fmt.Errorf("zip entry %q is missing", clip(full))
	}
	size := f.UncompressedSize64
	if want >= 0 && size != uint64(want) {
		return nil, fmt.Errorf("zip entry %q holds %d bytes, the pickle declares %d", clip(full), size, want)
	}
	if size > uint64(limit) {
		why := "the limit set by Options.MaxBytes"
		if limit != a.maxBytes {
			why = "such an entry can hold"
		}
		return nil, fmt.Errorf("zip entry %q declares %d bytes, more than the %d %s", clip(full), size, limit, why)
	}
	var b []byte
	var err error
	switch f.Method {
	case zip.Store: // what torch writes: slice the file, no copy
		b, err = a.stored(f)
	case zip.Deflate: // a checkpoint someone re-zipped
		b, err = inflate(f)
	default:
		err = fmt.Errorf("compression method %d is not supported (torch stores entries uncompressed)", f.Method)
	}
	if err != nil {
		return nil, fmt.Errorf("zip entry %q: %w", clip(full), err)
	}
	return b, nil
}

func (a *archive) stored(f *zip.File) ([]byte, error) {
	size := f.UncompressedSize64
	if f.CompressedSize64 != size {
		return nil, fmt.Errorf("stored entry declares %d bytes compressed and %d uncompressed", f.CompressedSize64, size)
	}
	off, err := f.DataOffset()
	if err != nil {
		return nil, fmt.Errorf("local header: %w", err)
	}
	if off < 0 || uint64(off) > uint64(len(a.data)) || size > uint64(len(a.data))-uint64(off) {
		return nil, fmt.Errorf("%d bytes at offset %d run past the end of the %d-byte file (truncated?)", size, off, len(a.data))
	}
	b := a.data[off : uint64(off)+size]
	if crc32.ChecksumIEEE(b) != f.CRC32 {
		return nil, errors.New("checksum mismatch: the file is corrupt")
	}
	return b, nil
}

func inflate(f *zip.File) ([]byte, error) {
	size := f.UncompressedSize64
	if size/maxDeflateRatio > f.CompressedSize64 {
		return nil, fmt.Errorf("declares %d bytes from %d compressed, more than deflate can produce", size, f.CompressedSize64)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b := make([]byte, size)
	if _, err := io.ReadFull(rc, b); err != nil {
		return nil, fmt.Errorf("inflating: %w", err)
	}
	// One more read must hit the end: archive/zip checks the CRC there,
	// and refuses (ErrFormat) to inflate past the declared size.
	n, err := rc.Read(make([]byte, 1))
	switch {
	case n == 0 && err == io.EOF:
	case errors.Is(err, zip.ErrChecksum):
		return nil, errors.New("checksum mismatch: the file is corrupt")
	case n > 0 || err == nil || errors.Is(err, zip.ErrFormat):
		return nil, errors.New("inflates to more than its declared size")
	default:
		return nil, fmt.Errorf("inflating: %w", err)
	}
	return b, nil
}
