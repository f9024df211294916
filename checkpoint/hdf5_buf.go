package checkpoint

import (
	"encoding/binary"
	"errors"
)

// h5buf reads little-endian fields from one HDF5 structure. Its error is
// sticky: a read past the end sets it and returns zeros, so a parser reads
// a whole structure and checks once, as Go's binary readers do.
type h5buf struct {
	b   []byte
	off int
	err error
	so  int // the file's size of offsets (addresses), 2, 4 or 8 bytes
	sl  int // its size of lengths
}

var errH5Short = errors.New("structure runs past its end")

func (c *h5buf) take(n int) []byte {
	if c.err != nil || n < 0 || n > len(c.b)-c.off {
		c.err = errH5Short
		return nil
	}
	p := c.b[c.off : c.off+n]
	c.off += n
	return p
}

func (c *h5buf) skip(n int)     { c.take(n) }
func (c *h5buf) left() int      { return len(c.b) - c.off }
func (c *h5buf) u8() uint8      { return uint8(c.uint(1)) }
func (c *h5buf) u16() uint16    { return uint16(c.uint(2)) }
func (c *h5buf) u32() uint32    { return uint32(c.uint(4)) }
func (c *h5buf) addr() uint64   { return c.uint(c.so) }
func (c *h5buf) length() uint64 { return c.uint(c.sl) }

// uint reads an n-byte unsigned integer, n from 1 to 8.
func (c *h5buf) uint(n int) uint64 {
	p := c.take(n)
	if p == nil {
		return 0
	}
	var w [8]byte
	copy(w[:], p)
	return binary.LittleEndian.Uint64(w[:])
}

// undefined is the all-ones address HDF5 writes for "none".
func (c *h5buf) undefined(a uint64) bool {
	return c.so == 8 && a == ^uint64(0) || c.so < 8 && a == 1<<(8*c.so)-1
}
