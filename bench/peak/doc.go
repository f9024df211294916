// Package peak measures the machine's single-core fp32 FMA peak, the
// yardstick of the per-layer report: BenchmarkPeak runs an AVX2 loop of
// independent FMAs and reports GFLOP/s, BenchmarkPeakZMM the same in
// AVX-512's ZMM registers. The loops are generated with avo by gen.go.
package peak

//go:generate go run gen.go
