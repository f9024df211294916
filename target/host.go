package target

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
)

// Caches are the data cache sizes (bytes) the cost model assumes for
// one core: its own L1 and L2. A target's Cost holds a portable default,
// the smallest of the cores it describes, so that a package generated
// anywhere plans the same; Tuned replaces them with a particular
// machine's (acgen -tune host), a choice the user makes.
type Caches struct{ L1, L2 int }

func (c Caches) String() string {
	return fmt.Sprintf("L1 %d KB, L2 %d KB", c.L1>>10, c.L2>>10)
}

// Tuned is cost with the cache sizes of c.
func (cost Cost) Tuned(c *Caches) Cost {
	if c != nil {
		cost.L1Bytes, cost.L2Bytes = c.L1, c.L2
	}
	return cost
}

// HostCaches reads the data caches of this machine's first core from
// Linux's sysfs (/sys/devices/system/cpu/cpu0/cache): the level 1 data
// cache and the level 2 cache.
func HostCaches() (Caches, error) {
	if runtime.GOOS != "linux" {
		return Caches{}, fmt.Errorf("reading the caches' sizes needs Linux's sysfs, not %s", runtime.GOOS)
	}
	dir := "/sys/devices/system/cpu/cpu0/cache"
	entries, err := filepath.Glob(filepath.Join(dir, "index*"))
	if err != nil || len(entries) == 0 {
		return Caches{}, fmt.Errorf("no caches listed in %s", dir)
	}
	var c Caches
	for _, e := range entries {
		level, err1 := readSysfs(e, "level")
		typ, err2 := readSysfs(e, "type")
		size, err3 := readSysfs(e, "size")
		if err1 != nil || err2 != nil || err3 != nil {
			continue
		}
		n, err := parseCacheSize(size)
		if err != nil {
			return Caches{}, fmt.Errorf("%s/size: %w", e, err)
		}
		switch {
		case level == "1" && typ == "Data":
			c.L1 = n
		case level == "2" && (typ == "Unified" || typ == "Data"):
			c.L2 = n
		}
	}
	if c.L1 == 0 || c.L2 == 0 {
		return Caches{}, fmt.Errorf("%s lists no level 1 data cache or no level 2 cache", dir)
	}
	return c, nil
}

func readSysfs(dir, name string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dir, name))
	return strings.TrimSpace(string(b)), err
}

// parseCacheSize reads sysfs's sizes: "48K", "1280K", "32M", or bytes.
func parseCacheSize(s string) (int, error) {
	mult := 1
	switch {
	case strings.HasSuffix(s, "K"):
		mult, s = 1<<10, strings.TrimSuffix(s, "K")
	case strings.HasSuffix(s, "M"):
		mult, s = 1<<20, strings.TrimSuffix(s, "M")
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("cache size %q: want a number of bytes, K or M", s)
	}
	return n * mult, nil
}
