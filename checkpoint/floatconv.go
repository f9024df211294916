package checkpoint

import "math"

// The conversions below build float64 bits directly instead of going
// through Go's float32 conversion: CPUs quiet a signalling NaN when they
// widen it, and a checkpoint's bits should come through exactly, NaN
// payloads included. Every float16, bfloat16 and float32 value is exactly
// representable as a float64, so no rounding happens anywhere.

// f32ToF64 widens IEEE binary32 bits.
func f32ToF64(b uint32) float64 {
	if b&0x7f800000 == 0x7f800000 { // inf or NaN: keep sign and payload
		return math.Float64frombits(uint64(b>>31)<<63 | 0x7ff<<52 | uint64(b&0x7fffff)<<29)
	}
	return float64(math.Float32frombits(b))
}

// bf16ToF64 widens bfloat16 bits: the top half of a binary32.
func bf16ToF64(b uint16) float64 { return f32ToF64(uint32(b) << 16) }

// f16ToF64 widens IEEE binary16 bits (1 sign, 5 exponent, 10 fraction).
func f16ToF64(b uint16) float64 {
	sign := uint64(b>>15) << 63
	exp := uint64(b>>10) & 0x1f
	frac := uint64(b) & 0x3ff
	switch exp {
	case 0: // zero or subnormal: frac * 2^-24, exact in float64
		v := math.Ldexp(float64(frac), -24)
		return math.Float64frombits(sign | math.Float64bits(v))
	case 0x1f: // inf or NaN
		return math.Float64frombits(sign | 0x7ff<<52 | frac<<42)
	}
	return math.Float64frombits(sign | (exp-15+1023)<<52 | frac<<42)
}
