package main

import "testing"

func TestMemorySize(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64
	}{
		{"", 0}, {"4GB", 4 << 30}, {"4G", 4 << 30}, {"4GiB", 4 << 30}, {"800MB", 800 << 20}, {"800m", 800 << 20},
		{"1024", 1024 << 20}, {"1.5GB", 3 << 29}, {"512KB", 512 << 10}, {"65536B", 65536}, {"2TB", 2 << 40},
	} {
		if got, err := memorySize(c.in); err != nil || got != c.want {
			t.Errorf("memorySize(%q) = %d, %v; want %d", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"four", "-1GB", "0", "4XB", "GB", "1e30GB"} {
		if got, err := memorySize(bad); err == nil {
			t.Errorf("memorySize(%q) = %d, want an error", bad, got)
		}
	}
}
