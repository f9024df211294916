package main

import (
	"strings"
	"testing"
)

// raw is two rounds as bench.go writes them: the peak, acgen and ONNX
// Runtime lines, a layer line, and a set-aside note.
const raw = `goos: linux
goarch: amd64
pkg: github.com/acgen/acgen/bench/imagenet
cpu: Some CPU @ 2.80GHz
# 2026-12-07 12:37 UTC, 2 CPUs; family 6 model 106, avx2 fma avx512f; acgen commit abc; go1.26.8
# round 1, load average 0.10 0.20 0.30
BenchmarkPeak    	    1363	    763716 ns/op	        80.00 GFLOP/s
BenchmarkPeakZMM 	    2563	    648203 ns/op	       160.00 GFLOP/s
BenchmarkImageNet/net=n/impl=acgen-avx512/threads=1 	  22	  20000000 ns/op	 12.13 GFLOP/s	 0 B/op	 0 allocs/op
BenchmarkImageNet/net=n/impl=ort/threads=1 	       6	  25000000 ns/op
BenchmarkLayers/net=n/isa=avx512/01_conv1 	      38	   2890609 ns/op	         7.499 GFLOP/s
# round 2, load average 0.10 0.20 0.30
BenchmarkPeak    	    1363	    763716 ns/op	        90.00 GFLOP/s
BenchmarkImageNet/net=n/impl=ort/threads=1 	       6	  20000000 ns/op
# n acgen avx512: 2.6 s, own CPU 2.5 s, others 0.50 CPUs (kept: redone often enough)
BenchmarkImageNet/net=n/impl=acgen-avx512/threads=1 	  22	  18000000 ns/op
`

func TestParse(t *testing.T) {
	p := parse(raw)
	if p.cpu != "Some CPU @ 2.80GHz" || !strings.HasPrefix(p.machine, "2026-12-07 12:37 UTC, 2 CPUs;") {
		t.Errorf("cpu %q, machine %q", p.cpu, p.machine)
	}
	if len(p.rounds) != 2 || len(p.busy) != 1 {
		t.Errorf("rounds %q, busy %q: want 2 rounds and 1 busy note", p.rounds, p.busy)
	}
	if g := p.gflops("BenchmarkPeak"); len(g) != 2 || g[0] != 80 || g[1] != 90 {
		t.Errorf("YMM peaks %v, want [80 90]", g)
	}
	acgen := "BenchmarkImageNet/net=n/impl=acgen-avx512/threads=1"
	if ns := p.ns(acgen); len(ns) != 2 || ns[0] != 20e6 || ns[1] != 18e6 {
		t.Errorf("acgen times %v, want [20e6 18e6]", ns)
	}
	// Round 1: 20/25; round 2: 18/20.
	r := p.perRound(acgen, "BenchmarkImageNet/net=n/impl=ort/threads=1")
	if len(r) != 2 || r[0] != 0.8 || r[1] != 0.9 {
		t.Errorf("per-round ratios %v, want [0.8 0.9]", r)
	}
	if o := p.others(acgen); len(o) != 2 || o[0] != 0 || o[1] != 0.5 {
		t.Errorf("others' load %v, want [0 0.5] (from the note before the line)", o)
	}
	if l := p.layers["n"]; len(l) != 1 || !strings.HasPrefix(l[0], "BenchmarkLayers/01_conv1 ") {
		t.Errorf("layer lines %q, want one named BenchmarkLayers/01_conv1", l)
	}
}

func TestRenameProcs(t *testing.T) {
	for line, want := range map[string][]string{
		"BenchmarkInferThreads   	  22	  49601036 ns/op": {"BenchmarkInferThreads", ""},
		"BenchmarkInferThreads-2 	   2	 121019732 ns/op": {"BenchmarkInferThreads", "2"},
	} {
		m := procsSuffix.FindStringSubmatch(line)
		if m == nil || m[1] != want[0] || m[3] != want[1] {
			t.Errorf("%q: matched %q, want name %q and procs %q", line, m, want[0], want[1])
		}
	}
}
