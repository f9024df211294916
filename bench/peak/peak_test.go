//go:build amd64

package peak

import (
	"testing"

	"golang.org/x/sys/cpu"
)

// BenchmarkPeak is the fp32 FMA peak of one core with YMM registers
// (AVX2), BenchmarkPeakZMM with ZMM (AVX-512): the yardsticks of the
// per-layer report's "% of peak" for each instruction set.
func BenchmarkPeak(b *testing.B) {
	const iters = 1 << 14
	for i := 0; i < b.N; i++ {
		fmaLoop(iters)
	}
	b.ReportMetric(float64(iters)*768*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

func BenchmarkPeakZMM(b *testing.B) {
	if !cpu.X86.HasAVX512F {
		b.Skip("no AVX-512")
	}
	const iters = 1 << 13
	for i := 0; i < b.N; i++ {
		fmaLoopZMM(iters)
	}
	b.ReportMetric(float64(iters)*3072*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}
