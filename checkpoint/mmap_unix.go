//go:build unix

package checkpoint

import (
	"errors"
	"math"
	"os"
	"syscall"
	"unsafe"
)

// mapFile maps the file read-only; release unmaps it. Nothing returned by
// Read aliases the mapping, so unmapping after Read is safe.
func mapFile(f *os.File, size int64) ([]byte, func(), error) {
	if size > math.MaxInt {
		return nil, nil, errors.New("file too large to map")
	}
	b, err := syscall.Mmap(int(f.Fd()), 0, int(size), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return readFile(f, size)
	}
	return b, func() { _ = syscall.Munmap(b) }, nil
}

// dropPages gives a lazy file's touched pages back to the OS: they stay
// in the page cache, so reading them again costs no disk access, but no
// longer count towards the process's resident memory. A tensor decoded
// into float64 needs its file pages no more.
func (f *File) dropPages() {
	if len(f.mapped) > 0 {
		_ = syscall.Madvise(f.mapped, syscall.MADV_DONTNEED)
	}
}

// dropRange gives back the whole pages of b, a part of the mapping.
func (f *File) dropRange(b []byte) {
	if len(b) == 0 || len(f.mapped) == 0 {
		return
	}
	start := uintptr(unsafe.Pointer(unsafe.SliceData(b))) - uintptr(unsafe.Pointer(unsafe.SliceData(f.mapped)))
	if start >= uintptr(len(f.mapped)) {
		return // not the mapping's (a copy: deflated or byte-swapped)
	}
	page := uintptr(os.Getpagesize())
	lo := (start + page - 1) / page * page
	hi := (start + uintptr(len(b))) / page * page
	if hi > lo {
		_ = syscall.Madvise(f.mapped[lo:hi], syscall.MADV_DONTNEED)
	}
}
