package graph

import "testing"

// The reference convolution's speed (conv.go): checking a large network
// is mostly this. Reported as FLOPs per second, in the "MB/s" column.

func BenchmarkConv(b *testing.B) {
	benchConv(b, Conv{In: 64, Out: 64, KH: 3, KW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1, DilH: 1, DilW: 1, Groups: 1}, 56)
}

func BenchmarkConvDeep(b *testing.B) {
	benchConv(b, Conv{In: 512, Out: 512, KH: 3, KW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1, DilH: 1, DilW: 1, Groups: 1}, 14)
}

func benchConv(b *testing.B, c Conv, size int) {
	c.Weight = make([]float64, c.Out*c.In/c.Groups*c.KH*c.KW)
	x := NewTensor(Shape{C: c.In, H: size, W: size})
	b.SetBytes(int64(2 * c.Out * size * size * c.In / c.Groups * c.KH * c.KW))
	for b.Loop() {
		conv(x, &c)
	}
}
