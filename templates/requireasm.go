// This file is a test template: package asm writes it, with the
// package's asmLevelFlags, into every package with assembly kernels as
// kernels_amd64_test.go.

package templates

import (
	"os"
	"strings"
	"testing"
)

// TestRequireAssembly checks that the fast path runs where it can: on a
// Linux machine whose CPU flags (read from /proc/cpuinfo, independently of
// the package's own CPUID checks) show what a level the package holds
// needs, the package must run that level or a better one, unless
// ACGEN_ISA asked for less.
func TestRequireAssembly(t *testing.T) {
	if isa := os.Getenv("ACGEN_ISA"); isa != "" {
		t.Skipf("ACGEN_ISA=%s chooses the level", isa)
	}
	info, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		t.Skip("no /proc/cpuinfo to check the CPU against")
	}
	var flags []string
	for _, line := range strings.Split(string(info), "\n") {
		if strings.HasPrefix(line, "flags") {
			flags = strings.Fields(line)
			break
		}
	}
	has := func(f string) bool {
		for _, x := range flags {
			if x == f {
				return true
			}
		}
		return false
	}
	for _, l := range asmLevelFlags {
		ok := true
		for _, f := range strings.Fields(l.flags) {
			ok = ok && has(f)
		}
		if ok {
			if got := ISA(); got != l.name {
				t.Fatalf("the CPU has %s but the package runs %q, not %q", l.flags, got, l.name)
			}
			return
		}
	}
	if got := ISA(); got != "go" {
		t.Fatalf("the CPU lacks every assembly level's flags, but the package runs %q", got)
	}
}
