//go:build amd64

package peak

import "testing"

func BenchmarkPeak(b *testing.B) {
	const iters = 1 << 14
	for i := 0; i < b.N; i++ {
		fmaLoop(iters)
	}
	b.ReportMetric(float64(iters)*768*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}
