package main

import (
	"fmt"
	"os/exec"
	"strconv"
	"strings"
)

// mcaIterations is how many iterations llvm-mca simulates.
const mcaIterations = 100

// mcaCycles runs llvm-mca on src for cpu and returns its cycles an
// iteration.
func mcaCycles(mca, cpu, src string) (float64, error) {
	cmd := exec.Command(mca, "-mtriple=aarch64", "-mcpu="+cpu, fmt.Sprintf("-iterations=%d", mcaIterations))
	cmd.Stdin = strings.NewReader(src)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("%s -mcpu=%s: %w\n%s", mca, cpu, err, out)
	}
	for _, l := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(l, "Total Cycles:"); ok {
			c, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return c / mcaIterations, err
		}
	}
	return 0, fmt.Errorf("%s -mcpu=%s: no total cycles in its output", mca, cpu)
}

// peakFMA is the model's own vector FMA rate: llvm-mca's cycles for 24
// independent FMLAs (as bench/arm64/mca.sh measures it).
func peakFMA(mca, cpu string) (float64, error) {
	var b strings.Builder
	b.WriteString(".L0:\n")
	for i := 0; i < 24; i++ {
		fmt.Fprintf(&b, "\tfmla\tv%d.4s, v30.4s, v31.4s\n", i)
	}
	c, err := mcaCycles(mca, cpu, b.String())
	if err != nil {
		return 0, err
	}
	return 24 / c, nil
}

// model names the scheduling model llvm-mca uses for cpu: its
// resources' prefix (N1Unit...), so that a stand-in model shows.
func model(mca, cpu string) string {
	cmd := exec.Command(mca, "-mtriple=aarch64", "-mcpu="+cpu)
	cmd.Stdin = strings.NewReader("\tfmla v0.4s, v1.4s, v2.4s\n")
	out, _ := cmd.CombinedOutput()
	lines := strings.Split(string(out), "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "Resources:") && i+1 < len(lines) {
			f := strings.Fields(lines[i+1])
			if len(f) >= 3 {
				if j := strings.Index(f[2], "Unit"); j > 0 {
					return f[2][:j+4]
				}
				return f[2]
			}
		}
	}
	return "?"
}
