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
