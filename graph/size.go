package graph

import (
	"fmt"
	"math"
	"math/bits"
)

// raiseLimit ends the message of a network refused for its size.
const raiseLimit = " (raise it with acgen -max-activation-mb, or Options.MaxActivationBytes, if this is meant)"

// shapeBytes is the size of a float32 activation of shape s, saturating
// at math.MaxInt64 rather than wrapping around.
func shapeBytes(s Shape) int64 {
	if s.C < 0 || s.H < 0 || s.W < 0 {
		return math.MaxInt64 // cannot happen for shapes Build makes
	}
	n := uint64(4)
	for _, d := range []int{s.C, s.H, s.W} {
		hi, lo := bits.Mul64(n, uint64(d))
		if hi != 0 || lo > math.MaxInt64 {
			return math.MaxInt64
		}
		n = lo
	}
	return int64(n)
}

// addSat is a+b for non-negative a and b, saturating at math.MaxInt64.
func addSat(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

// mib formats a byte count in MiB, rounded up.
func mib(b int64) string {
	if b == math.MaxInt64 {
		return "more than 8 EiB"
	}
	m := b >> 20
	if b&(1<<20-1) != 0 {
		m++
	}
	return fmt.Sprintf("%d MiB", m)
}
