package plan

import (
	"crypto/sha256"
	"math"
)

// blob is the packed weights shared by every program of a package. The
// packed layouts do not depend on the target (see package target), so a
// second program packing the same parameters finds them already there:
// sections are interned by content, and weights.bin holds each once.
type blob struct {
	data  []float32
	index map[[32]byte]int
}

func newBlob() *blob { return &blob{index: map[[32]byte]int{}} }

// intern stores v in a 64-byte aligned section, or finds an identical
// section stored before, and returns its offset.
func (b *blob) intern(v []float32) int {
	h := sha256.New()
	var buf [4096]byte
	n := 0
	for _, x := range v {
		u := math.Float32bits(x)
		buf[n], buf[n+1], buf[n+2], buf[n+3] = byte(u), byte(u>>8), byte(u>>16), byte(u>>24)
		if n += 4; n == len(buf) {
			h.Write(buf[:])
			n = 0
		}
	}
	h.Write(buf[:n])
	var key [32]byte
	h.Sum(key[:0])
	if off, ok := b.index[key]; ok && len(v) > 0 {
		return off
	}
	off := align16(len(b.data))
	b.data = append(b.data, make([]float32, off-len(b.data))...)
	b.data = append(b.data, v...)
	b.index[key] = off
	return off
}
