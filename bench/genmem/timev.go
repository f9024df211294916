package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// timed is one command's resources, as GNU time -v reports them.
type timed struct {
	maxRSS     float64 // bytes: "Maximum resident set size"
	wall       float64 // seconds: "Elapsed (wall clock) time"
	user, sys  float64 // seconds
	others     float64 // CPUs other processes used meanwhile, on average
	loadBefore string
	redone     int // earlier tries set aside (quiet.run)
}

// quiet is the policy for a shared machine: wait for a quiet second
// before a run, and run again (at most redo times) when other processes
// used more than maxOther CPUs during it, as their work lengthens the
// wall time.
type quiet struct {
	maxOther float64
	redo     int
	wait     time.Duration
}

func (q quiet) run(name string, n int, f func() (timed, error)) (timed, error) {
	for try := 0; ; try++ {
		if q.maxOther > 0 {
			waitIdle(q.maxOther, q.wait)
		}
		t, err := f()
		if err != nil {
			return t, err
		}
		t.redone = try
		busy := q.maxOther > 0 && t.others > q.maxOther
		note := ""
		if busy && try < q.redo {
			note = ", set aside"
		} else if busy {
			note = ", kept: redone often enough"
		}
		fmt.Fprintf(os.Stderr, "%s run %d: %.0f MB, %.1f s (others %.2f CPUs, load average %s%s)\n", name, n, t.maxRSS/1e6, t.wall, t.others, t.loadBefore, note)
		if !busy || try >= q.redo {
			return t, nil
		}
	}
}

// waitIdle waits, at most limit, for a second in which the machine's
// processes used at most maxOther CPUs (this one sleeps meanwhile).
func waitIdle(maxOther float64, limit time.Duration) {
	start := time.Now()
	for time.Since(start) < limit {
		b0 := busyCPU()
		time.Sleep(time.Second)
		if b0 < 0 || busyCPU()-b0 <= maxOther {
			return
		}
	}
}

// timeV runs name args under /usr/bin/time -v and returns what it
// measured and the command's standard output.
func timeV(name string, args ...string) (timed, string, error) {
	var t timed
	if la, err := os.ReadFile("/proc/loadavg"); err == nil {
		t.loadBefore = strings.Join(strings.Fields(string(la))[:3], " ")
	}
	cmd := exec.Command("/usr/bin/time", append([]string{"-v", name}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	busy0 := busyCPU()
	err := cmd.Run()
	busy := busyCPU() - busy0
	if err != nil {
		return t, "", fmt.Errorf("%s: %v\n%s", name, err, lastLines(stderr.String(), 30))
	}
	t.parse(stderr.String())
	if t.maxRSS == 0 || t.wall == 0 {
		return t, "", fmt.Errorf("%s: no resource report from /usr/bin/time -v:\n%s", name, lastLines(stderr.String(), 30))
	}
	if busy >= 0 {
		t.others = max(0, (busy-t.user-t.sys)/t.wall)
	}
	return t, stdout.String(), nil
}

// parse reads GNU time -v's report (the command's own stderr may come
// before it).
func (t *timed) parse(report string) {
	for _, l := range strings.Split(report, "\n") {
		key, val, ok := strings.Cut(strings.TrimSpace(l), ": ")
		if !ok {
			continue
		}
		switch key {
		case "Maximum resident set size (kbytes)":
			kb, _ := strconv.ParseFloat(val, 64)
			t.maxRSS = kb * 1024
		case "Elapsed (wall clock) time (h:mm:ss or m:ss)":
			t.wall = clock(val)
		case "User time (seconds)":
			t.user, _ = strconv.ParseFloat(val, 64)
		case "System time (seconds)":
			t.sys, _ = strconv.ParseFloat(val, 64)
		}
	}
}

// clock parses time's "h:mm:ss" or "m:ss.ss".
func clock(s string) float64 {
	var secs float64
	for _, part := range strings.Split(s, ":") {
		v, _ := strconv.ParseFloat(part, 64)
		secs = secs*60 + v
	}
	return secs
}

// busyCPU is the CPU-seconds all CPUs have spent busy since boot (from
// /proc/stat; USER_HZ is 100 on Linux), or -1 without /proc.
func busyCPU() float64 {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return -1
	}
	line, _, _ := strings.Cut(string(data), "\n")
	f := strings.Fields(line)
	var total float64
	for i := 1; i < len(f) && i <= 8; i++ {
		v, _ := strconv.ParseFloat(f[i], 64)
		if i != 4 && i != 5 && i != 8 { // idle, iowait, steal
			total += v
		}
	}
	return total / 100
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
