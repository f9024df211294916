// Package k is the tiny package TestEndToEnd assembles: kernels built
// with package a64 (k_arm64.s, stubs_arm64.go and consts.go are written
// by the test), and here the Go loops they must match bit for bit.
package k

import (
	"math"
	"math/big"
)

// fma32 is a*b + c rounded once to float32, as FMLA and FMADDS compute
// it: exact in big.Float, then rounded to nearest even.
func fma32(a, b, c float32) float32 {
	x := new(big.Float).SetPrec(600).SetFloat64(float64(a))
	y := new(big.Float).SetFloat64(float64(b))
	z := new(big.Float).SetFloat64(float64(c))
	x.Mul(x, y).Add(x, z)
	f, _ := x.Float32()
	return f
}

// fmax32 is Arm's FMAX for numbers: -0 below +0.
func fmax32(a, b float32) float32 {
	if a > b || a == b && !math.Signbit(float64(a)) {
		return a
	}
	return b
}

func fmaReluRef(dst, a, b, c []float32) {
	for i := range dst {
		dst[i] = fmax32(fma32(a[i], b[i], c[i]), 0)
	}
}

func vmaxRef(dst, a, b []float32) {
	for i := range dst {
		dst[i] = fmax32(b[i], a[i])
	}
}

// gemm4Ref is c[i][j] = sum over k of at[k][i]*b[k][j], fused, in order.
func gemm4Ref(c, at, b []float32, k int) {
	for i := 0; i < 4; i++ {
		for j := 0; j < 4; j++ {
			var acc float32
			for p := 0; p < k; p++ {
				acc = fma32(at[p*4+i], b[p*4+j], acc)
			}
			c[i*4+j] = acc
		}
	}
}

// exp32 is the kernels' e^x: clamp, n = round(x log2 e), r = x - n ln2
// (ln2 in two parts), e^r by Horner's rule, times 2^n from n's bits.
func exp32(x float32) float32 {
	x = min(max(x, expLo), expHi)
	n := float32(math.RoundToEven(float64(x * expLog2e)))
	r := fma32(-n, expLn2Hi, x)
	r = fma32(-n, expLn2Lo, r)
	p := expPoly[0]
	for _, c := range expPoly[1:] {
		p = fma32(p, r, c)
	}
	return p * math.Float32frombits(uint32(int32(n)+127)<<23)
}

func expRef(dst, src []float32) {
	for i, x := range src {
		dst[i] = exp32(x)
	}
}

func sigmoidRef(dst, src []float32) {
	for i, x := range src {
		dst[i] = 1 / (1 + exp32(-x))
	}
}

func leakyRef(dst, src []float32, alpha float32) {
	for i, x := range src {
		if x > 0 {
			dst[i] = x
		} else {
			dst[i] = x * alpha
		}
	}
}

func mixedRef(a int32, b float32, c uint8, s []float32) (float32, int) {
	return b + s[0], int(a) + int(c) + len(s)
}
