package main

import (
	"fmt"
	"strconv"
	"strings"
)

// memorySize reads -max-memory: a number with an optional unit (B, KB,
// MB, GB, TB, or K, M, G, T; powers of 1024); a bare number is megabytes.
// "" is 0: the default.
func memorySize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	num := strings.TrimRight(s, "bBkKmMgGtTiI")
	unit := strings.ToUpper(strings.TrimSuffix(strings.TrimSuffix(s[len(num):], "B"), "b"))
	unit = strings.TrimSuffix(unit, "I")
	shift := map[string]uint{"": 20, "K": 10, "M": 20, "G": 30, "T": 40}
	sh, ok := shift[unit]
	if s[len(num):] == "B" || s[len(num):] == "b" {
		sh, ok = 0, true
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
	if !ok || err != nil || !(v > 0) || v*float64(int64(1)<<sh) >= 1<<62 {
		return 0, fmt.Errorf("%q is not a size such as 4GB or 800MB", s)
	}
	return int64(v * float64(int64(1)<<sh)), nil
}
