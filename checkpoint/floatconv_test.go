package checkpoint

import (
	"math"
	"testing"
)

// TestF16Exhaustive checks all 65536 float16 patterns against the IEEE
// definition computed a different way: (-1)^s * 2^(e-15) * (1 + f/1024),
// or 2^-14 * f/1024 for subnormals.
func TestF16Exhaustive(t *testing.T) {
	for b := 0; b < 1<<16; b++ {
		s, e, f := b>>15, (b>>10)&0x1f, b&0x3ff
		got := f16ToF64(uint16(b))
		var want float64
		switch {
		case e == 0x1f && f == 0:
			want = math.Inf(1)
		case e == 0x1f:
			if !math.IsNaN(got) || math.Signbit(got) != (s == 1) {
				t.Fatalf("%#04x: got %v, want a NaN with sign %d", b, got, s)
			}
			if payload := math.Float64bits(got) >> 42 & 0x3ff; payload != uint64(f) {
				t.Fatalf("%#04x: NaN payload %#x, want %#x", b, payload, f)
			}
			continue
		case e == 0:
			want = math.Ldexp(float64(f)/1024, -14)
		default:
			want = math.Ldexp(1+float64(f)/1024, e-15)
		}
		if s == 1 {
			want = -want
		}
		if math.Float64bits(got) != math.Float64bits(want) {
			t.Fatalf("%#04x: got %v (%#016x), want %v", b, got, math.Float64bits(got), want)
		}
	}
}

// TestBF16Exhaustive checks all bfloat16 patterns against Go's own
// float32 widening, which is exact for every non-NaN value.
func TestBF16Exhaustive(t *testing.T) {
	for b := 0; b < 1<<16; b++ {
		got := bf16ToF64(uint16(b))
		f32 := math.Float32frombits(uint32(b) << 16)
		if math.IsNaN(float64(f32)) {
			if !math.IsNaN(got) || math.Signbit(got) != (b>>15 == 1) {
				t.Fatalf("%#04x: got %v, want NaN with the same sign", b, got)
			}
			continue
		}
		if math.Float64bits(got) != math.Float64bits(float64(f32)) {
			t.Fatalf("%#04x: got %v, want %v", b, got, f32)
		}
	}
}

func TestFloatSpecials(t *testing.T) {
	for _, c := range []struct {
		name string
		got  float64
		want uint64 // float64 bits
	}{
		{"f16 1", f16ToF64(0x3c00), math.Float64bits(1)},
		{"f16 max", f16ToF64(0x7bff), math.Float64bits(65504)},
		{"f16 min subnormal", f16ToF64(0x0001), math.Float64bits(math.Ldexp(1, -24))},
		{"f16 -0", f16ToF64(0x8000), 1 << 63},
		{"f16 -inf", f16ToF64(0xfc00), math.Float64bits(math.Inf(-1))},
		{"bf16 1", bf16ToF64(0x3f80), math.Float64bits(1)},
		{"bf16 min subnormal", bf16ToF64(0x0001), math.Float64bits(math.Ldexp(1, -133))},
		{"bf16 -0", bf16ToF64(0x8000), 1 << 63},
		{"f32 min subnormal", f32ToF64(1), math.Float64bits(math.Ldexp(1, -149))},
		{"f32 -0", f32ToF64(0x80000000), 1 << 63},
		{"f32 inf", f32ToF64(0x7f800000), math.Float64bits(math.Inf(1))},
		// A signalling NaN keeps its payload (a CPU widening would quiet it).
		{"f32 sNaN", f32ToF64(0x7f800001), 0x7ff0000020000000},
		{"f16 sNaN", f16ToF64(0x7c01), 0x7ff0040000000000},
	} {
		if math.Float64bits(c.got) != c.want {
			t.Errorf("%s: got %#016x, want %#016x", c.name, math.Float64bits(c.got), c.want)
		}
	}
}
