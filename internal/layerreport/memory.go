package layerreport

import (
	"time"

	"github.com/acgen/acgen/plan"
)

// The steps that compute little per value they move (LayerNorm, the
// activations, sums, pooling, gathers) are bounded by memory, not by the
// FMA peak, so the report holds them to a copy of the same bytes: Go's
// copy (memmove) reading what the step reads and writing what it writes,
// timed in the same run. A step at 50% of its copy is within 2x of a
// memory-bound pass over its data.

// memoryBound reports whether s is such a step: every kind but the
// convolutions and the fully connected layers, whose arithmetic bounds
// them.
func memoryBound(s *plan.Step) bool {
	return s.Kind != plan.Conv && s.Kind != plan.Linear
}

// stepBytes is what s reads and writes, in bytes: its inputs and its
// output, float32, without the layouts' padding.
func stepBytes(s *plan.Step) int64 {
	var n int64
	for _, v := range s.In {
		n += values(v)
	}
	return 4 * (n + values(s.Out))
}

func values(v *plan.Value) int64 {
	if v == nil {
		return 0
	}
	l := v.Layout
	return int64(l.C) * int64(l.H) * int64(l.W)
}

// timeCopies sets CopyNS of every memory-bound row: the time Go's copy
// takes to move its bytes (half read, half written), measured once per
// size.
func timeCopies(rows []Row) {
	took := map[int64]float64{}
	for i := range rows {
		n := rows[i].Bytes
		if !rows[i].MemoryBound || n < 8 {
			continue
		}
		if _, ok := took[n]; !ok {
			took[n] = copyNS(int(n / 8))
		}
		rows[i].CopyNS = took[n]
	}
}

// copyNS is the median of five timings of copying n float32s, each
// repeating the copy for at least 20 ms (testing.Benchmark's second per
// size would make a report of many sizes slow).
func copyNS(n int) float64 {
	src, dst := make([]float32, n), make([]float32, n)
	for i := range src {
		src[i] = float32(i)
	}
	copy(dst, src) // fault the pages in
	var ns []float64
	for range 5 {
		start, reps := time.Now(), 0
		for time.Since(start) < 20*time.Millisecond {
			copy(dst, src)
			reps++
		}
		ns = append(ns, float64(time.Since(start).Nanoseconds())/float64(reps))
	}
	return Median(ns)
}
