// This file is a test template: tests/act_accuracy_test.go writes it into
// its packages as accuracy_test.go. It lives here so that acgen's build
// compiles and vets it.

package templates

import (
	"encoding/binary"
	"math"
	"os"
	"testing"
)

func TestActAccuracy(t *testing.T) {
	raw, err := os.ReadFile("testdata/act.bin")
	if err != nil {
		t.Fatal(err)
	}
	n := len(raw) / 12
	x, want := make([]float32, n), make([]float64, n)
	for i := range x {
		x[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		want[i] = math.Float64frombits(binary.LittleEndian.Uint64(raw[4*n+8*i:]))
	}
	for _, isa := range ISAs() {
		if err := SetISA(isa); err != nil {
			t.Fatal(err)
		}
		var rel, abs float64
		var worst, nanAt float32
		nans := 0 // NaN where float64 has a number (or the reverse): the comparisons below cannot see it
		out := make([]float32, InputLen)
		for lo := 0; lo < n; lo += InputLen {
			in := make([]float32, InputLen)
			copy(in, x[lo:min(n, lo+InputLen)])
			if err := Infer(out, in); err != nil {
				t.Fatal(err)
			}
			for i := lo; i < min(n, lo+InputLen); i++ {
				got, w := float64(out[i-lo]), want[i]
				if math.IsNaN(got) != math.IsNaN(w) {
					if nans == 0 {
						nanAt = x[i]
					}
					nans++
					continue
				}
				if math.Abs(w) >= 0x1p-100 {
					if e := math.Abs(got-w) / math.Abs(w); e > rel {
						rel, worst = e, x[i]
					}
				} else {
					abs = max(abs, math.Abs(got-w))
				}
			}
		}
		t.Logf("ACCURACY %s %s: max relative error %.3g (at x = %g), max absolute error below 2^-100 %.3g", packageName, isa, rel, worst, abs)
		if rel > 1e-6 || abs > 0x1p-100 {
			t.Errorf("%s: error beyond a few float32 ulps", isa)
		}
		if nans > 0 {
			t.Errorf("%s: %d results are NaN where float64's are not, or not where it is (the first at x = %g)", isa, nans, nanAt)
		}
	}
}
