// This file is a test template: acgen's tests (and the scripts of
// fixtures/official and bench/reparam) write it into generated packages
// as pytorch_test.go, with PyTorch's inputs and outputs in
// testdata/pytorch.bin. It lives here so that acgen's build compiles and
// vets it.

package templates

import (
	_ "embed"
	"math"
	"testing"
)

//go:embed testdata/pytorch.bin
var pytorchRaw string

func TestMatchesPyTorch(t *testing.T) {
	var v []float32
	for i := 0; i+4 <= len(pytorchRaw); i += 4 {
		r := pytorchRaw[i:]
		v = append(v, math.Float32frombits(uint32(r[0])|uint32(r[1])<<8|uint32(r[2])<<16|uint32(r[3])<<24))
	}
	n := len(v) / (InputLen + OutputLen)
	if n == 0 {
		t.Fatal("no samples")
	}
	got := make([]float32, OutputLen)
	var all float64
	for i := 0; i < n; i++ {
		if err := Infer(got, v[i*InputLen:(i+1)*InputLen]); err != nil {
			t.Fatal(err)
		}
		want := v[n*InputLen+i*OutputLen : n*InputLen+(i+1)*OutputLen]
		var worst float64
		for j := range want {
			d := math.Abs(float64(got[j])-float64(want[j])) / math.Max(1, math.Abs(float64(want[j])))
			if !(d <= worst) {
				worst = d
			}
		}
		if !(worst <= 1e-4) {
			t.Errorf("sample %d: max relative error vs PyTorch %.3g, want <= 1e-4", i, worst)
		}
		all = max(all, worst)
	}
	t.Logf("MAXERR %s %s %.3g", packageName, ISA(), all)
}
