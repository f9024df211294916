//lint:file-ignore U1000 the helpers are used by the generated packages this file is copied into

package templates

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
)

// program is the run-time state of one of the package's planned
// programs: its workspaces and its transformed Winograd weights. The
// programs share the packed weights.
type program struct {
	workspaceLen  int
	winogradLen   int
	winogradSteps []*winogradConv
	scratchLen    int // floats of Winograd scratch space per goroutine

	uOnce sync.Once
	u     []float32

	// A free list of zeroed-once workspaces. Unlike a sync.Pool it never
	// drops them, so steady-state calls allocate nothing; it holds at
	// most as many as were ever in use at once.
	mu      sync.Mutex
	free    [][]float32
	runners []*runner // for calls over several goroutines
}

// transformed returns the program's Winograd weights, computed from the
// packed weights w on first use.
func (p *program) transformed(w []float32) []float32 {
	p.uOnce.Do(func() {
		if p.winogradLen > 0 {
			p.u = make([]float32, p.winogradLen)
			for _, c := range p.winogradSteps {
				c.transformWeights(p.u, w)
			}
		}
	})
	return p.u
}

func (p *program) getWorkspace() []float32 {
	p.mu.Lock()
	if n := len(p.free); n > 0 {
		ws := p.free[n-1]
		p.free = p.free[:n-1]
		p.mu.Unlock()
		return ws
	}
	p.mu.Unlock()
	// Halos and padded channel lanes must be zero; kernels never write
	// them, so zeroing once at allocation is enough.
	return make([]float32, p.workspaceLen)
}

func (p *program) putWorkspace(ws []float32) {
	p.mu.Lock()
	p.free = append(p.free, ws)
	p.mu.Unlock()
}

// level is one way of running the network: a program and the kernels
// that run it (assembly for one instruction set, or portable Go).
type level struct {
	name      string // what ISA reports
	prog      *program
	run       func(ws, w, u, dst, src []float32)
	phases    []phase                                                            // its work, as goroutines sharing a call split it
	part      func(ws, w, u, dst, src []float32, ph *phase, lo, hi, scratch int) // units lo to hi-1 of one phase
	supported bool                                                               // this CPU can run it
	align     int                                                                // the bytes of its kernels' weight vectors (see packedWeights)
}

// levels are the package's levels, best first; the last is the
// portable Go one, which runs everywhere.
var levels = append(asmLevels(), portableLevel)

var active atomic.Pointer[level]

// current is the level calls use: chosen once, on first use, unless
// SetISA chose one before.
func current() *level {
	if l := active.Load(); l != nil {
		return l
	}
	active.CompareAndSwap(nil, chooseLevel(os.Getenv("ACGEN_ISA")))
	return active.Load()
}

// chooseLevel returns the best level this CPU runs, at or below the
// one named want (any name that is not a level's means no limit).
func chooseLevel(want string) *level {
	start := 0
	for i, l := range levels {
		if l.name == strings.ToLower(strings.TrimSpace(want)) {
			start = i
		}
	}
	for _, l := range levels[start:] {
		if l.supported {
			return l
		}
	}
	return levels[len(levels)-1]
}

// ISA returns the instruction set Infer runs: "avx512" or "avx2" on
// amd64, "neon" on arm64, or "go" (the portable kernels). By default it
// is the best one this CPU supports among those the package holds; the
// environment variable ACGEN_ISA, read on first use, caps it
// (ACGEN_ISA=avx2 on an AVX-512 machine runs AVX2; ACGEN_ISA=go the
// portable kernels).
func ISA() string { return current().name }

// ISAs lists the instruction sets the package holds kernels for and
// this CPU runs, best first; the last is always "go".
func ISAs() []string {
	var names []string
	for _, l := range levels {
		if l.supported {
			names = append(names, l.name)
		}
	}
	return names
}

// SetISA makes later calls run the named instruction set, one of ISAs():
// for comparing paths in tests and benchmarks. It is safe to call at
// any time; calls already running finish as they started. Every set
// gives the same answers to within rounding (the package's tests check
// each one against the reference outputs).
func SetISA(name string) error {
	for _, l := range levels {
		if l.name == name {
			if !l.supported {
				return fmt.Errorf("%s: SetISA(%q): this CPU does not support it", packageName, name)
			}
			active.Store(l)
			return nil
		}
	}
	return fmt.Errorf("%s: SetISA(%q): the package holds %s", packageName, name, strings.Join(held(), ", "))
}

func held() []string {
	var names []string
	for _, l := range levels {
		names = append(names, l.name)
	}
	return names
}
