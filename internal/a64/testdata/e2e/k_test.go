package k

import (
	"math"
	"math/rand"
	"os"
	"testing"
)

// inputs are n floats: random, with exact zeros of both signs.
func inputs(r *rand.Rand, n int, scale float32) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = (r.Float32()*2 - 1) * scale
		switch r.Intn(16) {
		case 0:
			v[i] = 0
		case 1:
			v[i] = float32(math.Copysign(0, -1))
		}
	}
	return v
}

func same(t *testing.T, what string, got, want []float32) {
	t.Helper()
	bad := 0
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			if bad++; bad <= 5 {
				t.Errorf("%s[%d] = %v (%#08x), Go %v (%#08x)", what, i, got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
			}
		}
	}
}

func TestFMARelu(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	n := 256
	a, b, c := inputs(r, n, 4), inputs(r, n, 4), inputs(r, n, 16)
	got, want := make([]float32, n), make([]float32, n)
	fmaRelu(&got[0], &a[0], &b[0], &c[0], n)
	fmaReluRef(want, a, b, c)
	same(t, "fmaRelu", got, want)
}

func TestVMax(t *testing.T) {
	r := rand.New(rand.NewSource(2))
	n := 256
	a, b := inputs(r, n, 1), inputs(r, n, 1)
	got, want := make([]float32, n), make([]float32, n)
	vmax(&got[0], &a[0], &b[0], n)
	vmaxRef(want, a, b)
	same(t, "vmax", got, want)
}

func TestGemm4(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	k := 37
	at, b := inputs(r, 4*k, 1), inputs(r, 4*k, 1)
	got, want := make([]float32, 16), make([]float32, 16)
	gemm4(&got[0], &at[0], &b[0], k)
	gemm4Ref(want, at, b, k)
	same(t, "gemm4", got, want)
}

func TestExp(t *testing.T) {
	r := rand.New(rand.NewSource(4))
	n := 1024
	x := inputs(r, n, 100)
	x[0], x[1], x[2], x[3] = 0, 1, -1, 88.5
	got, want := make([]float32, n), make([]float32, n)
	expv(&got[0], &x[0], n)
	expRef(want, x)
	same(t, "expv", got, want)
	worst := 0.0
	for i, v := range x {
		// The polynomial is e^x: within 3e-7 relative (2.5 float32
		// ulps) inside the clamp.
		if v < expLo || v > expHi {
			continue
		}
		e := math.Exp(float64(v))
		d := math.Abs(float64(got[i])-e) / e
		if d > 3e-7 {
			t.Errorf("expv(%v) = %v, e^x = %v: relative error %.2g", v, got[i], e, d)
		}
		worst = max(worst, d)
	}
	t.Logf("expv: largest relative error from e^x %.2g", worst)
	sig := make([]float32, n)
	sigmoid(&got[0], &x[0], n)
	sigmoidRef(sig, x)
	same(t, "sigmoid", got, sig)
}

func TestLeaky(t *testing.T) {
	r := rand.New(rand.NewSource(5))
	n := 64
	x := inputs(r, n, 3)
	got, want := make([]float32, n), make([]float32, n)
	leaky(&got[0], &x[0], n, 0.125)
	leakyRef(want, x, 0.125)
	same(t, "leaky", got, want)
}

func TestMixed(t *testing.T) {
	s := []float32{2.5, 7}
	x, q := mixed(-40, 1.25, 200, s)
	wx, wq := mixedRef(-40, 1.25, 200, s)
	if x != wx || q != wq {
		t.Errorf("mixed = %v, %d; Go %v, %d", x, q, wx, wq)
	}
}

// TestSweepLinked keeps sweep, which is only disassembled, in the test
// binary; it never runs.
func TestSweepLinked(t *testing.T) {
	if os.Getenv("A64_RUN_SWEEP") == "crash" {
		sweep()
	}
}
