package asm

import (
	"math"
	"testing"
)

// TestGELUFit: the rational function of GELU's exact form, with its
// float32 coefficients evaluated in float64, is within 2e-8 relative of
// S(a) = erfc(a/sqrt 2) e^(a^2/2) / 2 on [0, 12], and within 1e-6 up to
// the clamp (where the output is below 2^-100 anyway).
func TestGELUFit(t *testing.T) {
	s := func(a float64) float64 { return 0.5 * math.Erfc(a/math.Sqrt2) * math.Exp(a*a/2) }
	poly := func(c []float32, a float64) float64 {
		v := 0.0
		for i := len(c) - 1; i >= 0; i-- {
			v = v*a + float64(c[i])
		}
		return v
	}
	var worst, tail float64
	for i := 0; i <= 180000; i++ {
		a := float64(i) / 10000
		e := math.Abs(poly(geluP, a)/poly(geluQ, a)/s(a) - 1)
		if a <= 12 {
			worst = max(worst, e)
		} else {
			tail = max(tail, e)
		}
	}
	t.Logf("S's fit: max relative error %.3g on [0, 12], %.3g on [12, 18]", worst, tail)
	if worst > 2e-8 || tail > 1e-6 {
		t.Errorf("S's fit is off: %.3g on [0, 12], %.3g beyond", worst, tail)
	}
}
