package main

import (
	"bufio"
	"os"
	"strconv"
	"strings"
)

// procMem is this process's resident memory, from /proc/self/status
// (zero where there is no /proc): the checkpoint is memory-mapped, so its
// pages count in RSS as file pages, apart from the Go heap's anonymous
// ones.
type procMem struct {
	rss, hwm, anon, file uint64 // bytes: VmRSS, VmHWM (peak RSS), RssAnon, RssFile
}

func readProcMem() procMem {
	var m procMem
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return m
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		var dst *uint64
		switch key {
		case "VmRSS":
			dst = &m.rss
		case "VmHWM":
			dst = &m.hwm
		case "RssAnon":
			dst = &m.anon
		case "RssFile":
			dst = &m.file
		default:
			continue
		}
		kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(val), " kB"), 10, 64)
		if err == nil {
			*dst = kb << 10
		}
	}
	return m
}

// cpuSeconds is the CPU time this process has used (user and system),
// from /proc/self/stat (clock ticks of 1/100 s); 0 without /proc.
func cpuSeconds() float64 {
	data, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return 0
	}
	// The command name, field 2, is in parentheses and may hold spaces.
	i := strings.LastIndexByte(string(data), ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(data[i+1:]))
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseFloat(f[11], 64) // field 14
	stime, _ := strconv.ParseFloat(f[12], 64) // field 15
	return (utime + stime) / 100
}
