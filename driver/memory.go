package driver

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/acgen/acgen/graph"
)

// runtimeBytes is what a run takes besides weights and activations: the
// Go runtime, the plan, the generated source.
const runtimeBytes = 300 << 20

// weightsFloat64 is the size of g's tensors in float64.
func weightsFloat64(g *graph.Graph) float64 {
	var n float64
	for _, u := range g.Nodes {
		for _, p := range u.Tensors() {
			n += 8 * float64(p.Len())
		}
	}
	return n
}

// checkMemory refuses, before any weight is read, a network whose
// generation would need more memory than cfg.MaxMemory (default: three
// quarters of the machine's): the packed weights, the float64 weights the
// stream holds at once (one layer's, or all of a kept network's), the
// activations of the golden samples and the runtime.
func checkMemory(cfg *Config, r *Result, samples int) error {
	budget := cfg.MaxMemory
	if budget <= 0 {
		budget = DefaultMaxMemory()
	}
	packed := 4 * float64(len(r.Plan.Bin))
	var layer float64
	var largest *graph.Node
	for _, m := range r.Fused.Nodes {
		if b := weightBytes(m); b > layer {
			layer, largest = b, m
		}
	}
	if cfg.KeepWeights {
		layer = weightsFloat64(r.Unfused) + weightsFloat64(r.Fused)
	}
	// Each sample holds a few activations per network at a time.
	var act float64
	for _, n := range r.Unfused.Nodes {
		act = math.Max(act, 8*float64(n.Shape.Len()))
	}
	acts := float64(samples) * 2 * 3 * act
	need := packed + layer + acts + runtimeBytes
	if need <= float64(budget) {
		return nil
	}
	where := ""
	if largest != nil {
		where = fmt.Sprintf(", its largest layer %q %s in float64", largest.Name, gb(layer))
	}
	return fmt.Errorf("%s: generating this network needs about %s (packed weights %s%s, activations %s), more than the memory budget of %s: raise it with -max-memory if the machine has the memory",
		cfg.Weights, gb(need), gb(packed), where, gb(acts), gb(float64(budget)))
}

func gb(b float64) string {
	if b >= 1<<30 {
		return fmt.Sprintf("%.1f GB", b/(1<<30))
	}
	return fmt.Sprintf("%.0f MB", b/(1<<20))
}

// DefaultMaxMemory is the memory budget when none is given: three
// quarters of the memory this process may use (the machine's, or its
// cgroup's limit when lower), or no limit where that is unknown.
func DefaultMaxMemory() int64 {
	total := machineMemory()
	if total <= 0 {
		return math.MaxInt64
	}
	return total / 4 * 3
}

// machineMemory reads Linux's MemTotal and cgroup memory limit; 0
// elsewhere.
func machineMemory() int64 {
	var total int64
	if f, err := os.Open("/proc/meminfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if kb, ok := strings.CutPrefix(sc.Text(), "MemTotal:"); ok {
				v, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(kb), " kB"), 10, 64)
				total = v << 10
			}
		}
		f.Close()
	}
	// cgroup v2's limit, or v1's ("max" and v1's huge "no limit" are
	// above MemTotal and so change nothing).
	for _, limit := range []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"} {
		if b, err := os.ReadFile(limit); err == nil {
			if v, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err == nil && v > 0 && (total == 0 || v < total) {
				total = v
			}
		}
	}
	return total
}
