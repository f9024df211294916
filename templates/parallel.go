//lint:file-ignore U1000 the helpers are used by the generated packages this file is copied into

package templates

import (
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// phase is one piece of a level's work that goroutines sharing a call
// split among themselves, the next starting once it is done (see
// plan.Phase): step step, or one phase (kind) of block blk of a Winograd step, split into
// up to maxParts ranges of its units, as many as the plan's cost estimate
// says are worth their synchronisation. It is part of calls over
// minThreads to maxThreads goroutines (maxThreads 0: any number): a
// Winograd step has a schedule for few goroutines and one for many.
type phase struct {
	step, kind, blk        int
	units, maxParts        int
	minThreads, maxThreads int
}

// The kinds of phase (plan.PhaseKind): a step (a range of its units),
// one of a Winograd block's three phases, or a range of a Winograd
// step's grid of units: (tile row, channel tile) pairs numbered
// row-major, or (tile row, channel block) pairs numbered block-major
// (see grid.go).
const (
	wholeStep = iota
	winogradIn
	winogradGemm
	winogradOut
	winogradRows
	winogradChannels
)

// runs reports whether ph is part of a call over n goroutines.
func (ph *phase) runs(n int) bool {
	return ph.minThreads <= n && (ph.maxThreads == 0 || n <= ph.maxThreads)
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
// identical whatever the setting: each layer is split by output rows, or
// by output channel tiles where its weights outweigh its input (Winograd
// layers by a grid of tile rows and channel tiles, or phase by phase, by
// channels and transform elements, as the plan's cost estimate chooses),
// and no sum changes order. A goroutine that has
// done its part of a layer runs the parts no other has started, so a
// core the machine is busy with elsewhere slows a call rather than
// stalls it.
//
// The n-1 helper goroutines spin for half a millisecond after each call
// before they sleep, so that calls made one after another start at once:
// that long after a call, they keep their cores busy.
func SetThreads(n int) int {
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	return int(threads.Swap(int32(n)))
}

// Threads returns the current SetThreads setting.
func Threads() int { return int(threads.Load()) }

// parallelism is how many goroutines the next call may use.
func parallelism() int {
	n := int(threads.Load())
	if n <= 1 {
		return 1 // the default: no need to ask GOMAXPROCS, which takes the scheduler's lock
	}
	return max(1, min(n, runtime.GOMAXPROCS(0)))
}

// runner is one call's workspace, with scratch room for parts goroutines,
// and the state its helpers read.
type runner struct {
	ws    []float32
	parts int

	l              *level
	w, u, dst, src []float32
	n              int // goroutines of the current call
	helpers        []*helper

	// gen numbers the runner's calls. Phase i's part j is claimed by the
	// goroutine that swaps gen into claims[i*parts+j]; done[i] counts the
	// phase's finished parts (gen<<32 | count). Numbering the calls saves
	// clearing both before each.
	gen    uint32
	claims []atomic.Uint32
	done   []atomic.Uint64
	// inside counts the goroutines in the call, the caller's among them:
	// it hands the runner back once its helpers have left.
	inside atomic.Int32
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
	w := packedWeights(l.align)
	u := l.prog.transformed(w)
	sharing.Add(1)
	defer sharing.Add(-1)
	r := l.prog.getRunner(want)
	if len(r.done) < len(l.phases) {
		r.claims = make([]atomic.Uint32, len(l.phases)*r.parts)
		r.done = make([]atomic.Uint64, len(l.phases))
	}
	if r.gen++; r.gen == 0 {
		r.gen = 1 // claims start at 0: never a call's number
	}
	r.helpers = acquireHelpers(r.helpers[:0], want-1)
	r.l, r.w, r.u, r.dst, r.src = l, w, u, dst, src
	r.n = 1 + len(r.helpers)
	r.inside.Store(int32(r.n))
	for i, h := range r.helpers {
		h.give(r, i+1)
	}
	r.work(0)
	// The output is complete. A helper that has not taken its share yet
	// (its goroutine did not run meanwhile) never will; the others are
	// leaving the last phases, which they have nothing left of.
	for _, h := range r.helpers {
		if h.next.CompareAndSwap(r, nil) {
			r.inside.Add(-1)
		}
	}
	for spins := 0; r.inside.Load() > 1; spins++ {
		pause(spins)
	}
	releaseHelpers(r.helpers)
	l.prog.putRunner(r)
}

// work runs goroutine index's share of every phase of a call over n
// goroutines: once the previous phase is done (the next reads what it
// wrote), it claims its own part of the phase and then any part that no
// goroutine has started, so that a goroutine the machine holds up (a
// virtual CPU the host runs something else on, a goroutine waiting for a
// P) does not hold up the call: the others run its parts. A part is the
// same range of units whoever runs it, in that goroutine's own scratch
// space, so the answer is the same bit for bit.
func (r *runner) work(index int) {
	l, n, gen := r.l, r.n, r.gen
	scratch := index * l.prog.scratchLen
	prev, prevParts := -1, 0
	for i := range l.phases {
		ph := &l.phases[i]
		if !ph.runs(n) {
			continue
		}
		k := min(n, ph.maxParts)
		if prev >= 0 {
			r.waitDone(prev, prevParts, gen)
		}
		// Others' parts only after our own: a goroutine with no part
		// of a phase would otherwise race its owner for it.
		if index < k && r.claim(i, index, gen) {
			r.runPart(ph, i, index, k, gen, scratch)
			for j := 1; j < k; j++ {
				if o := (index + j) % k; r.claim(i, o, gen) {
					r.runPart(ph, i, o, k, gen, scratch)
				}
			}
		}
		prev, prevParts = i, k
	}
	if prev >= 0 {
		r.waitDone(prev, prevParts, gen)
	}
}

// claim reports whether this goroutine takes part j of phase i.
func (r *runner) claim(i, j int, gen uint32) bool {
	return r.claims[i*r.parts+j].Swap(gen) != gen
}

// runPart runs part j of k of phase ph (phase i) and counts it done.
func (r *runner) runPart(ph *phase, i, j, k int, gen uint32, scratch int) {
	lo, hi := ph.units*j/k, ph.units*(j+1)/k
	r.l.part(r.ws, r.w, r.u, r.dst, r.src, ph, lo, hi, scratch)
	d := &r.done[i]
	for {
		old := d.Load()
		next := old + 1
		if uint32(old>>32) != gen {
			next = uint64(gen)<<32 | 1
		}
		if d.CompareAndSwap(old, next) {
			return
		}
	}
}

// waitDone spins until all k parts of phase i are done: they end within
// microseconds of each other, and waking a parked goroutine costs as much
// as a small phase.
func (r *runner) waitDone(i, k int, gen uint32) {
	want := uint64(gen)<<32 | uint64(k)
	for spins := 0; r.done[i].Load() != want; spins++ {
		pause(spins)
	}
}

// pause is turn spins of a goroutine waiting for the others of its call:
// past tens of microseconds it yields, since they may be waiting for its
// P (more goroutines than CPUs). Yielding sooner would take the
// scheduler's lock on every phase.
func pause(spins int) {
	if spins > 1<<14 {
		runtime.Gosched()
	}
}

// helper is a goroutine that runs shares of other calls' steps: the
// call that acquired it sets index and then next; the helper spins a
// while for it before it parks (state helperParked) on wake.
type helper struct {
	index int
	next  atomic.Pointer[runner]
	state atomic.Int32
	wake  chan struct{} // one token: a give that found the helper parked
}

const (
	helperSpinning = iota
	helperParked
)

// helperSpin is how long a helper polls for its next call, once no call
// sharing its steps is running, before it parks: waking a parked
// goroutine takes tens to a hundred microseconds on a virtual machine, a
// tenth of a small network's whole call, and calls made one after
// another (a service answering one request at a time) come sooner than
// this. While a call runs the steps it does not share (a network's last
// layers, often), its helpers keep polling. A spinning helper holds a P.
const helperSpin = 500 * time.Microsecond

// sharing is how many calls sharing their steps are running.
var sharing atomic.Int32

// holdHelpers keeps helpers from taking their shares, for TestThreads:
// the caller then runs every part, as it does when a helper's goroutine
// does not run in time.
var holdHelpers atomic.Bool

// helpersPoll keeps idle helpers polling instead of parking; for
// TestNoAllocations: parking may allocate inside the runtime (the record
// of a waiting goroutine, whose cache a collection empties), between
// calls and not in them, so the test keeps the helpers polling to count
// what calls allocate.
var helpersPoll atomic.Bool

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
		h := &helper{wake: make(chan struct{}, 1)}
		helpers.total++
		go h.loop()
		hs = append(hs, h)
	}
	return hs
}

// releaseHelpers makes hs idle.
func releaseHelpers(hs []*helper) {
	helpers.Lock()
	helpers.idle = append(helpers.idle, hs...)
	helpers.Unlock()
}

// wakeHelpers starts the idle helpers polling if a call over n
// goroutines shares its steps, so that waking them overlaps checking the
// input: a parked goroutine takes up to a few hundred microseconds to run
// again on a virtual machine.
func wakeHelpers(n int) {
	if n < 2 {
		return
	}
	helpers.Lock()
	for _, h := range helpers.idle {
		h.wakeUp()
	}
	helpers.Unlock()
}

// wakeUp makes h poll again if it is parked.
func (h *helper) wakeUp() {
	if h.state.CompareAndSwap(helperParked, helperSpinning) {
		select {
		case h.wake <- struct{}{}:
		default: // a token left over already wakes it
		}
	}
}

// give hands h, acquired by the caller, goroutine index's share of r.
func (h *helper) give(r *runner, index int) {
	h.index = index
	h.next.Store(r)
	h.wakeUp()
}

func (h *helper) loop() {
	for {
		deadline := time.Now().Add(helperSpin)
		for spins := 0; ; spins++ {
			// Load before swapping: polling with a locked exchange would
			// take the line from the caller's core at every turn.
			if h.next.Load() != nil && !holdHelpers.Load() {
				if r := h.next.Swap(nil); r != nil {
					r.work(h.index)
					r.inside.Add(-1)
					deadline = time.Now().Add(helperSpin)
					continue
				}
			}
			if spins%64 != 0 {
				continue
			}
			if sharing.Load() > 0 {
				deadline = time.Now().Add(helperSpin)
			} else if time.Now().After(deadline) && !helpersPoll.Load() {
				break
			}
		}
		// Park, unless a call came between the last poll and saying so;
		// a give that sees the helper parked sends the token. A token
		// left over from such a race wakes it for nothing, harmlessly.
		h.state.Store(helperParked)
		if r := h.next.Load(); r == nil {
			<-h.wake
		}
		h.state.Store(helperSpinning)
	}
}
