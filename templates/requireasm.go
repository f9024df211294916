// This file is a test template: package gen writes it, with the
// package's asmLevelFlags, into every package with assembly kernels as
// kernels_GOARCH_test.go, one for each architecture it holds kernels for.

package templates

import (
	"os"
	"strings"
	"testing"
)

// TestRequireAssembly checks that the fast path runs where it can: on a
// machine whose CPU flags (read from /proc/cpuinfo, independently of the
// package's own CPUID checks: its "flags" line on amd64, "Features" on
// arm64) show what a level the package holds needs, the package must run
// that level or a better one, unless ACGEN_ISA asked for less. A level
// that needs no flags (NEON: every arm64 CPU has ASIMD) must run
// wherever its architecture's build does.
func TestRequireAssembly(t *testing.T) {
	if isa := os.Getenv("ACGEN_ISA"); isa != "" {
		t.Skipf("ACGEN_ISA=%s chooses the level", isa)
	}
	var flags []string
	read := false
	has := func(f string) bool {
		if !read {
			read = true
			info, err := os.ReadFile("/proc/cpuinfo")
			if err != nil {
				t.Skip("no /proc/cpuinfo to check the CPU against")
			}
			for _, line := range strings.Split(string(info), "\n") {
				if strings.HasPrefix(line, "flags") || strings.HasPrefix(line, "Features") {
					flags = strings.Fields(line)
					break
				}
			}
		}
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
				t.Fatalf("the CPU has %q but the package runs %q, not %q", l.flags, got, l.name)
			}
			return
		}
	}
	if got := ISA(); got != "go" {
		t.Fatalf("the CPU lacks every assembly level's flags, but the package runs %q", got)
	}
}
