package main

import (
	"path/filepath"
	"runtime"
	"testing"

	"github.com/acgen/acgen/driver"
	"github.com/acgen/acgen/fixtures"
)

// GNU time -v's report as it prints it (version 1.9), after a line of the
// command's own.
const timeReport = `acgen: something on stderr
	Command being timed: "acgen -q -spec net.yaml -weights model.pth -out x"
	User time (seconds): 30.52
	System time (seconds): 5.20
	Percent of CPU this job got: 120%
	Elapsed (wall clock) time (h:mm:ss or m:ss): 1:02.50
	Maximum resident set size (kbytes): 5500960
	Exit status: 0
`

func TestParseTimeV(t *testing.T) {
	var got timed
	got.parse(timeReport)
	if got.maxRSS != 5500960*1024 || got.wall != 62.5 || got.user != 30.52 || got.sys != 5.20 {
		t.Errorf("parsed %+v, want RSS 5500960 KiB, wall 62.5 s, user 30.52 s, sys 5.2 s", got)
	}
	if c := clock("1:02:03.5"); c != 3723.5 {
		t.Errorf("clock(1:02:03.5) = %v, want 3723.5", c)
	}
}

// TestStagesAttributed profiles a small generation and checks that the
// heap is attributed to the driver's stages by name: it fails when the
// driver's stage functions are renamed and stageFuncs is not.
func TestStagesAttributed(t *testing.T) {
	if testing.Short() {
		t.Skip("generates a package")
	}
	defer func(r int) { runtime.MemProfileRate = r }(runtime.MemProfileRate)
	runtime.MemProfileRate = profileRate
	f := fixtures.Get("resnet20")
	p, _, err := profiled(f.Spec, f.Pth, filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.stages) != len(driver.StageNames()) {
		t.Fatalf("%d stages profiled, the driver has %d", len(p.stages), len(driver.StageNames()))
	}
	for _, s := range p.stages {
		if s.wall == 0 {
			t.Errorf("stage %s: no end reported", s.name)
		}
	}
	if p.peak == nil {
		t.Fatal("no snapshot taken")
	}
	// Live at the end of the pipeline: the packed weights and the files
	// (emit). The weights are streamed, so the weights and fuse stages
	// hold only the graphs' structure, kilobytes that the sampling
	// profiler may or may not catch. ResNet-20 has Winograd candidates,
	// so the check stage plans again (see driver's replan) and its plan
	// holds the packed weights.
	for _, st := range []string{"check", "emit"} {
		if p.peak.byStage[st] == 0 {
			t.Errorf("no live bytes attributed to stage %s; by stage: %v", st, p.peak.byStage)
		}
	}
	var total float64
	for _, b := range p.peak.byStage {
		total += b
	}
	if other := p.peak.byStage["other"]; other > total/4 {
		t.Errorf("%.0f of %.0f live bytes attributed to no stage: are stageFuncs the driver's stage functions?", other, total)
	}
}
