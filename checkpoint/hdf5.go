package checkpoint

import (
	"bytes"
	"fmt"
	"strings"
)

// HDF5 is read for the official ACNet pipeline, whose final artifact is an
// .hdf5 file written by h5py (utils/misc.py save_hdf5): one dataset a
// state_dict key, '/' written as '+', all in the root group, plus a
// "deps" array of channel widths. This is the subset of the format
// (hdfgroup.org's "HDF5 File Format Specification", version 3) that h5py
// writes for such files, with its default settings or with compression:
//
//   - superblocks version 0 to 3, after a user block or not;
//   - object headers version 1 and 2, with continuation blocks;
//   - groups as symbol tables (v1 B-trees, symbol nodes and a local heap:
//     h5py's default) or as link messages (libver="latest" with few
//     entries); dense link storage (a fractal heap) is refused, saying how
//     to re-save;
//   - datasets of IEEE floats (16, 32, 64 bits) and integers, either byte
//     order; compact, contiguous and chunked layouts, chunks indexed by a
//     v1 B-tree or a single chunk; the deflate, shuffle and fletcher32
//     filters.
//
// Every address, length and count comes from the file and is checked
// before use; every structure is visited at most once, so cycles and
// shared subtrees cannot make the reader loop or blow up.

// h5Signature starts a superblock: at offset 0, or after a user block of
// 512, 1024, 2048... bytes.
var h5Signature = []byte("\x89HDF\r\n\x1a\n")

// h5SuperblockAt finds the superblock, or returns -1.
func h5SuperblockAt(data []byte) int {
	for off := 0; off+len(h5Signature) <= len(data); off = max(512, off*2) {
		if bytes.HasPrefix(data[off:], h5Signature) {
			return off
		}
	}
	return -1
}

// Bounds on what one file may make the reader do.
const (
	h5MaxDepth    = 64      // group nesting, and B-tree levels
	h5MaxVisits   = 1 << 20 // object headers, B-tree and symbol nodes, continuation blocks
	h5MaxMessages = 1 << 16 // messages in one object header
	h5MaxName     = 1 << 16 // bytes in one link name
)

// h5File is one HDF5 file being read.
type h5File struct {
	data   []byte
	base   uint64 // addresses are relative to it
	so, sl int
	seen   map[uint64]bool
	visits int
	raws   []rawTensor
	notes  []string
}

// readHDF5 lists the datasets of an HDF5 file as tensors, named by their
// path from the root group with '+' read back as '/', as the official
// read_hdf5 does. The official "deps" array (integers at the root) is not
// a weight: it is left out, with a note.
func readHDF5(data []byte, maxBytes int64) ([]rawTensor, []string, error) {
	at := h5SuperblockAt(data)
	if at < 0 {
		return nil, nil, fmt.Errorf("hdf5: no superblock")
	}
	f := &h5File{data: data, seen: map[uint64]bool{}}
	root, err := f.superblock(at)
	if err != nil {
		return nil, nil, fmt.Errorf("hdf5: superblock: %w", err)
	}
	if err := f.object(root, "", 0, maxBytes); err != nil {
		return nil, nil, fmt.Errorf("hdf5: %w", err)
	}
	if len(f.raws) > maxTensors {
		return nil, nil, fmt.Errorf("hdf5: %d datasets, more than the %d a checkpoint may hold", len(f.raws), maxTensors)
	}
	return f.raws, f.notes, nil
}

// superblock reads the superblock at offset at and returns the root
// group's object header address.
func (f *h5File) superblock(at int) (uint64, error) {
	c := &h5buf{b: f.data[at:]}
	c.skip(len(h5Signature))
	version := c.u8()
	var root, eof uint64
	switch version {
	case 0, 1:
		c.skip(4) // free-space, root entry and shared-message versions, reserved
		f.so, f.sl = int(c.u8()), int(c.u8())
		c.skip(1 + 4 + 4) // reserved, group K values, consistency flags
		if version == 1 {
			c.skip(4) // indexed storage K, reserved
		}
		if !h5Size(f.so) || !h5Size(f.sl) {
			return 0, fmt.Errorf("sizes of offsets %d and lengths %d: want 2, 4 or 8", f.so, f.sl)
		}
		c.so, c.sl = f.so, f.sl
		f.base = c.addr()
		c.addr() // free-space info
		eof = c.addr()
		c.addr() // driver info
		c.addr() // root entry: link name offset
		root = c.addr()
	case 2, 3:
		f.so, f.sl = int(c.u8()), int(c.u8())
		if !h5Size(f.so) || !h5Size(f.sl) {
			return 0, fmt.Errorf("sizes of offsets %d and lengths %d: want 2, 4 or 8", f.so, f.sl)
		}
		c.so, c.sl = f.so, f.sl
		c.skip(1) // consistency flags
		f.base = c.addr()
		c.addr() // superblock extension
		eof = c.addr()
		root = c.addr()
	default:
		return 0, fmt.Errorf("version %d (acgen reads 0 to 3)", version)
	}
	if c.err != nil {
		return 0, c.err
	}
	if f.base > uint64(len(f.data)) {
		return 0, fmt.Errorf("base address %d outside the %d-byte file", f.base, len(f.data))
	}
	// The end-of-file address counts the user block too, as HDF5 1.10
	// writes it (the specification calls it absolute).
	if eof > uint64(len(f.data)) {
		return 0, fmt.Errorf("truncated: the file should end at byte %d, but has %d", eof, len(f.data))
	}
	return root, nil
}

func h5Size(n int) bool { return n == 2 || n == 4 || n == 8 }

// at returns the file's bytes from address a to its end.
func (f *h5File) at(a uint64) (*h5buf, error) {
	if a >= uint64(len(f.data))-f.base {
		return nil, fmt.Errorf("address %d outside the %d-byte file", a, len(f.data))
	}
	return &h5buf{b: f.data[f.base+a:], so: f.so, sl: f.sl}, nil
}

// span returns n bytes at address a.
func (f *h5File) span(a, n uint64) ([]byte, error) {
	size := uint64(len(f.data)) - f.base
	if a > size || n > size-a {
		return nil, fmt.Errorf("%d bytes at address %d run past the %d-byte file", n, a, len(f.data))
	}
	return f.data[f.base+a : f.base+a+n], nil
}

// visit marks a structure read, refusing a second visit (a cycle, or a
// subtree shared to multiply work) and more visits than any file needs.
func (f *h5File) visit(a uint64, what string) error {
	if f.seen[a] {
		return fmt.Errorf("%s at address %d is reached twice", what, a)
	}
	if f.visits++; f.visits > h5MaxVisits {
		return fmt.Errorf("more than %d structures", h5MaxVisits)
	}
	f.seen[a] = true
	return nil
}

// h5Key is a dataset's checkpoint key: its path, with the official
// save_hdf5's '+' read back as '/'.
func h5Key(path string) string { return strings.ReplaceAll(path, "+", "/") }

func h5Join(dir, name string) string {
	if dir == "" {
		return name
	}
	return dir + "/" + name
}
