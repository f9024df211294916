//lint:file-ignore U1000 the helpers are used by the generated packages this file is copied into

package templates

import (
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
)

// phase is one piece of a level's work that goroutines sharing a call
// split among themselves, with a barrier after it (see plan.Phase): step
// step, or one phase (kind) of block blk of a Winograd step, split into
// up to maxParts ranges of its units, as many as the plan's cost estimate
// says are worth their synchronisation.
type phase struct {
	step, kind, blk int
	units, maxParts int
}

// threads is how many goroutines one Infer call may use (SetThreads).
var threads atomic.Int32

func init() {
	n, err := strconv.Atoi(os.Getenv("ACGEN_THREADS"))
	if err != nil || n < 1 {
		n = 1
	}
	threads.Store(int32(n))
}

// SetThreads makes each later Infer and InferArray call run one sample
// over up to n goroutines (the caller's and n-1 helpers, never more than
// GOMAXPROCS), and returns the previous setting; n <= 0 means GOMAXPROCS.
// The default is 1, or the environment variable ACGEN_THREADS read when
// the package loads.
//
// Use it for latency: one request at a time on a machine with idle cores.
// A server already running many requests at once gains nothing from
// splitting each of them; there InferBatch, or one Infer per request,
// keeps every core busy with less synchronisation. Results are bitwise
// identical whatever the setting: the work is split by output rows, and
// no sum changes order.
func SetThreads(n int) int {
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	return int(threads.Swap(int32(n)))
}

// Threads returns the current SetThreads setting.
func Threads() int { return int(threads.Load()) }

// parallelism is how many goroutines the next call may use.
func parallelism() int { return max(1, min(int(threads.Load()), runtime.GOMAXPROCS(0))) }

// runner is one call's workspace, with scratch room for parts goroutines,
// and the state its helpers read.
type runner struct {
	ws    []float32
	parts int

	l              *level
	w, u, dst, src []float32
	n              int // goroutines of the current call
	bar            barrier
	helpers        []*helper
}

func (p *program) getRunner(parts int) *runner {
	p.mu.Lock()
	for i := len(p.runners) - 1; i >= 0; i-- {
		if r := p.runners[i]; r.parts >= parts {
			p.runners = append(p.runners[:i], p.runners[i+1:]...)
			p.mu.Unlock()
			return r
		}
	}
	p.mu.Unlock()
	// Halos and padded lanes must be zero; kernels never write them, so
	// zeroing once at allocation is enough. Each extra goroutine gets its
	// own Winograd scratch space after the first's.
	return &runner{ws: make([]float32, p.workspaceLen+(parts-1)*p.scratchLen), parts: parts, helpers: make([]*helper, 0, parts)}
}

func (p *program) putRunner(r *runner) {
	r.l, r.w, r.u, r.dst, r.src = nil, nil, nil, nil, nil
	p.mu.Lock()
	p.runners = append(p.runners, r)
	p.mu.Unlock()
}

// widest is how many goroutines level l's most divisible phase can use:
// helpers beyond it would meet the caller at no barrier.
func (l *level) widest() int {
	most := 1
	for i := range l.phases {
		most = max(most, l.phases[i].maxParts)
	}
	return most
}

// runParallel runs one sample on level l over up to want (> 1)
// goroutines.
func runParallel(l *level, dst, src []float32, want int) {
	w := packedWeights()
	u := l.prog.transformed(w)
	r := l.prog.getRunner(want)
	r.helpers = acquireHelpers(r.helpers[:0], want-1)
	r.l, r.w, r.u, r.dst, r.src = l, w, u, dst, src
	r.n = 1 + len(r.helpers)
	r.bar.n = int32(r.n)
	for i, h := range r.helpers {
		h.tasks <- task{r: r, index: i + 1}
	}
	r.work(0)
	l.prog.putRunner(r)
}

// work runs goroutine index's share of every phase, waiting for the
// others after each one that was shared or precedes one that is (the
// next phase reads what they wrote).
func (r *runner) work(index int) {
	l, n := r.l, r.n
	scratch := index * l.prog.scratchLen
	parts := func(i int) int {
		if i >= len(l.phases) {
			return 1
		}
		return min(n, l.phases[i].maxParts)
	}
	for i := range l.phases {
		ph := &l.phases[i]
		k := parts(i)
		if index < k {
			lo, hi := ph.units*index/k, ph.units*(index+1)/k
			l.part(r.ws, r.w, r.u, r.dst, r.src, ph, lo, hi, scratch)
		}
		// A phase run by the caller alone, followed by another, needs no
		// barrier between them: every goroutine computes the same parts,
		// so all skip it alike.
		if k > 1 || parts(i+1) > 1 {
			r.bar.wait()
		}
	}
}

// barrier is a reusable spinning barrier: the parts of a shared phase
// end within microseconds of each other, and waking a parked goroutine
// costs as much as a small phase.
type barrier struct {
	n     int32
	count atomic.Int32
	gen   atomic.Uint32
}

func (b *barrier) wait() {
	g := b.gen.Load()
	if b.count.Add(1) == b.n {
		b.count.Store(0)
		b.gen.Add(1)
		return
	}
	for spins := 0; b.gen.Load() == g; spins++ {
		if spins > 1<<14 {
			// Tens of microseconds: the others may be waiting for our P
			// (more goroutines than CPUs). Yielding sooner would take the
			// scheduler's lock on every barrier.
			runtime.Gosched()
		}
	}
}

// helper is a goroutine that runs shares of other calls' steps.
type helper struct{ tasks chan task }

type task struct {
	r     *runner
	index int
}

var helpers struct {
	sync.Mutex
	idle  []*helper
	total int
}

// acquireHelpers appends up to k idle helpers to hs, starting new ones
// while fewer than GOMAXPROCS-1 exist; calls that find none idle run
// with fewer (two concurrent callers share the cores rather than wait).
func acquireHelpers(hs []*helper, k int) []*helper {
	helpers.Lock()
	defer helpers.Unlock()
	for len(hs) < k && len(helpers.idle) > 0 {
		n := len(helpers.idle)
		hs = append(hs, helpers.idle[n-1])
		helpers.idle = helpers.idle[:n-1]
	}
	for len(hs) < k && helpers.total < runtime.GOMAXPROCS(0)-1 {
		h := &helper{tasks: make(chan task)}
		helpers.total++
		go h.loop()
		hs = append(hs, h)
	}
	return hs
}

func (h *helper) loop() {
	for t := range h.tasks {
		t.r.work(t.index)
		helpers.Lock()
		helpers.idle = append(helpers.idle, h)
		helpers.Unlock()
	}
}
