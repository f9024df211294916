package layerreport

import (
	"bytes"
	"encoding/xml"
	"github.com/acgen/acgen/plan"
	"strings"
	"testing"
)

var rows = []Row{
	{Step: "conv1+relu1", Op: "conv3x3+relu", Shape: "3x32x32->16x32x32", Algorithm: "direct", FLOPs: 884736, NS: 9000},
	{Step: "gap", Op: "global_avgpool", Shape: "64x8x8->64x1x1", Algorithm: "go", NS: 6000},
	{Step: "a<b&c", Op: "conv", FLOPs: 1, NS: 0},
}

func TestFill(t *testing.T) {
	out := "BenchmarkLayers/00_conv1+relu1-2   1000   9100 ns/op   97 GFLOP/s\n" +
		"BenchmarkLayers/00_conv1+relu1-2   1000   8900 ns/op\n" +
		"BenchmarkLayers/00_conv1+relu1-2   1000   9000 ns/op\n" +
		"BenchmarkLayers/01_gap-2   1000   6000 ns/op\n"
	got := Fill(append([]Row(nil), rows...), out)
	if got[0].NS != 9000 || got[1].NS != 6000 || got[2].NS != 0 {
		t.Errorf("times %v %v %v: want medians 9000, 6000 and none", got[0].NS, got[1].NS, got[2].NS)
	}
}

// TestSVG: the chart is well-formed XML, escapes step names, and labels
// a step without FLOPs with its time only.
func TestSVG(t *testing.T) {
	var b bytes.Buffer
	if err := WriteSVG(&b, "net & co", rows); err != nil {
		t.Fatal(err)
	}
	s := b.String()
	d := xml.NewDecoder(strings.NewReader(s))
	for {
		if _, err := d.Token(); err != nil {
			if err.Error() != "EOF" {
				t.Fatalf("not well-formed XML: %v", err)
			}
			break
		}
	}
	if strings.Contains(s, "a<b") || !strings.Contains(s, "a&lt;b&amp;c") {
		t.Error("step names are not escaped")
	}
	if !strings.Contains(s, "6.0 µs</text>") || strings.Contains(s, "6.0 µs, ") {
		t.Error("a step without FLOPs should show its time only")
	}
}

func TestText(t *testing.T) {
	var b bytes.Buffer
	if err := WriteText(&b, rows, 100); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "98%") { // 884736 flops in 9 µs = 98 GFLOP/s of 100
		t.Errorf("no %% of peak in:\n%s", b.String())
	}
	if strings.Contains(b.String(), "runner-up") {
		t.Errorf("a planner column without reasons:\n%s", b.String())
	}
	// With the planner's reasons, a last column, left-aligned.
	withWhy := append([]Row(nil), rows...)
	withWhy[0].Why = "tile 64x6: 12 kcycles, runner-up tile 32x12: 13 kcycles"
	b.Reset()
	if err := WriteText(&b, withWhy, 100); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(b.String(), "\n")
	if !strings.Contains(lines[0], "runner-up") || !strings.HasSuffix(lines[1], "98%  "+withWhy[0].Why) {
		t.Errorf("no planner's column at the end of:\n%s", b.String())
	}
}

// TestCopyColumns: a memory-bound step with a copy timed shows its GB/s
// and its share of the copy's speed; a table without copies has neither
// column.
func TestCopyColumns(t *testing.T) {
	var b bytes.Buffer
	if err := WriteText(&b, rows, 0); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "% copy") {
		t.Errorf("copy columns without a copy timed:\n%s", b.String())
	}
	withCopy := append([]Row(nil), rows...)
	// 64x8x8 floats read, 64 written: 16640 bytes in 6 µs, 2.8 GB/s;
	// a copy of them in 4.5 µs: the step runs at 75% of its speed.
	withCopy[1].Bytes, withCopy[1].MemoryBound, withCopy[1].CopyNS = 16640, true, 4500
	b.Reset()
	if err := WriteText(&b, withCopy, 0); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(b.String(), "\n")
	f := strings.Fields(lines[2])
	if !strings.Contains(lines[0], "GB/s") || len(f) < 2 || f[len(f)-2] != "2.8" || f[len(f)-1] != "75%" {
		t.Errorf("want GB/s 2.8 and 75%% of the copy on the gap row of:\n%s", b.String())
	}
}

// TestStepBytes: a step's traffic is its inputs and output, float32,
// and only steps other than convolutions and linear layers are
// memory-bound.
func TestStepBytes(t *testing.T) {
	in := &plan.Value{Layout: plan.Layout{C: 96, H: 56, W: 56, Block: 16}}
	out := &plan.Value{Layout: plan.Layout{C: 96, H: 56, W: 56, Block: 16}}
	ln := &plan.Step{Kind: plan.LayerNorm, In: []*plan.Value{in}, Out: out}
	if got, want := stepBytes(ln), int64(8*96*56*56); got != want || !memoryBound(ln) {
		t.Errorf("layernorm: %d bytes (memory-bound %v), want %d and memory-bound", got, memoryBound(ln), want)
	}
	if conv := (&plan.Step{Kind: plan.Conv, In: []*plan.Value{in}, Out: out}); memoryBound(conv) {
		t.Error("a convolution counted memory-bound")
	}
	if n := copyNS(1 << 10); !(n > 0) {
		t.Errorf("copying 1024 floats took %g ns", n)
	}
}
