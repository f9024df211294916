package target

import (
	"runtime"
	"testing"
)

func TestParseCacheSize(t *testing.T) {
	for in, want := range map[string]int{"48K": 48 << 10, "1280K": 1280 << 10, "32M": 32 << 20, "65536": 65536} {
		if got, err := parseCacheSize(in); err != nil || got != want {
			t.Errorf("parseCacheSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "K", "-4K", "lots"} {
		if _, err := parseCacheSize(in); err == nil {
			t.Errorf("parseCacheSize(%q): no error", in)
		}
	}
}

// TestHostCaches: on Linux the host's caches are read, a level 1 data
// cache smaller than its level 2 (a machine's sysfs may list none: a
// container without /sys says so in its error).
func TestHostCaches(t *testing.T) {
	c, err := HostCaches()
	if runtime.GOOS != "linux" {
		if err == nil {
			t.Errorf("HostCaches on %s: %v, no error", runtime.GOOS, c)
		}
		return
	}
	if err != nil {
		t.Skipf("no caches in sysfs: %v", err)
	}
	if c.L1 < 8<<10 || c.L2 <= c.L1 {
		t.Errorf("host caches %v: want an L1 of 8 KB or more and a larger L2", c)
	}
	tuned := AVX512.Cost.Tuned(&c)
	if tuned.L1Bytes != c.L1 || tuned.L2Bytes != c.L2 || AVX512.Cost.Tuned(nil) != AVX512.Cost {
		t.Errorf("Tuned(%v) = L1 %d, L2 %d", c, tuned.L1Bytes, tuned.L2Bytes)
	}
}
