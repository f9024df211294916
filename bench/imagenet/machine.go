package main

import (
	"bytes"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// busyCPU is the CPU-seconds all CPUs have spent busy since boot, from
// /proc/stat (USER_HZ is 100 on Linux), leaving out idle, iowait and
// steal; 0 without /proc.
func busyCPU() float64 {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(data), "\n")
	f := strings.Fields(line)
	var total float64
	for i := 1; i < len(f) && i <= 8; i++ {
		if i == 4 || i == 5 || i == 8 {
			continue
		}
		v, _ := strconv.ParseFloat(f[i], 64)
		total += v
	}
	return total / 100
}

// waitIdle waits, at most limit, for a second during which the machine's
// other processes used at most maxOther CPUs; it returns how long it
// waited and the last second's load.
func waitIdle(maxOther float64, limit time.Duration) (time.Duration, float64) {
	start := time.Now()
	for {
		b0 := busyCPU()
		time.Sleep(time.Second)
		others := busyCPU() - b0 // this process sleeps meanwhile
		if others <= maxOther || time.Since(start) >= limit {
			return time.Since(start), others
		}
	}
}

func loadAvg() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// cpuModel is lscpu's model name.
func cpuModel() string {
	out, err := exec.Command("lscpu").Output()
	if err != nil {
		return "?"
	}
	for _, l := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(l, "Model name:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "?"
}

// cpuFlags names the CPU's family and model and the vector extensions
// that matter here.
func cpuFlags() string {
	data, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "?"
	}
	var family, model string
	var flags []string
	for _, l := range strings.Split(string(data), "\n") {
		k, v, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch {
		case k == "cpu family" && family == "":
			family = v
		case k == "model" && model == "":
			model = v
		case k == "flags" && flags == nil:
			have := map[string]bool{}
			for _, f := range strings.Fields(v) {
				have[f] = true
			}
			for _, f := range []string{"avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16"} {
				if have[f] {
					flags = append(flags, f)
				}
			}
		}
	}
	return "family " + family + " model " + model + ", " + strings.Join(flags, " ")
}

func numCPU() int { return runtime.NumCPU() }

func goVersion() string { return runtime.Version() }

func gitRev() string {
	cmd := exec.Command("git", "describe", "--always", "--dirty")
	cmd.Dir = repoRoot()
	out, err := cmd.Output()
	if err != nil {
		return "?"
	}
	return "commit " + string(bytes.TrimSpace(out))
}

// schedNote says whether this run was given priority over other sessions
// (run.sh's BOOST): the nice of its autogroup, when not 0.
func schedNote() string {
	data, err := os.ReadFile("/proc/self/autogroup")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(data)) // "/autogroup-11 nice 0"
	if len(f) == 3 && f[2] != "0" {
		return "; autogroup nice " + f[2] + " (priority over other sessions)"
	}
	return ""
}
