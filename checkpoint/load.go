package checkpoint

import (
	"fmt"
	"runtime/debug"
	"unsafe"

	"github.com/acgen/acgen/internal/regfile"
)

// Load reads a checkpoint, telling the format from the content: a zip
// archive is a PyTorch .pth, an 8-byte little-endian length followed by '{'
// is safetensors, anything else is an error that says which formats are
// read.
//
// The file is memory-mapped where the OS allows, so only the parts the
// state_dict uses are paged in (not, say, an optimizer's state), and read
// whole elsewhere.
func Load(path string, opt Options) (*File, error) {
	fh, st, err := regfile.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading checkpoint: %w", err)
	}
	defer fh.Close()
	if st.Size() == 0 {
		return Read(path, nil, opt)
	}
	data, release, err := mapFile(fh, st.Size())
	if err != nil {
		return nil, fmt.Errorf("reading checkpoint: %s: %w", path, err)
	}
	f, err := readMapped(path, data, opt)
	if err != nil || !opt.Lazy {
		release()
		return f, err
	}
	// The tensors decode from the mapping later, a few at a time: keep it,
	// and give back the pages reading the layout touched.
	f.mapped, f.unmap = data, release
	f.dropPages()
	return f, nil
}

// guard runs a lazy tensor's decoder with readMapped's protection: a file
// that shrank under its mapping is an error, not a crash.
func (f *File) guard(load func(drop func([]byte)) ([]float64, error)) (data []float64, err error) {
	if f.mapped == nil {
		return load(func([]byte) {})
	}
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		r := recover()
		if r == nil {
			return
		}
		if fault, ok := r.(interface{ Addr() uintptr }); ok && inside(fault.Addr(), f.mapped) {
			data, err = nil, fmt.Errorf("%s: the file changed while it was being read", f.Path)
			return
		}
		panic(r)
	}()
	return load(f.dropRange)
}

// readMapped is Read on a memory-mapped file. If the file shrinks while it
// is mapped, touching the lost pages faults; SetPanicOnFault turns that
// fault into a panic this goroutine can recover, and only that panic is
// turned into an error. Any other panic is a bug and is not hidden.
func readMapped(path string, data []byte, opt Options) (f *File, err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		r := recover()
		if r == nil {
			return
		}
		if fault, ok := r.(interface{ Addr() uintptr }); ok && inside(fault.Addr(), data) {
			f, err = nil, fmt.Errorf("%s: the file changed while it was being read", path)
			return
		}
		panic(r)
	}()
	return Read(path, data, opt)
}

func inside(addr uintptr, b []byte) bool {
	start := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	return addr >= start && addr-start < uintptr(len(b))
}
