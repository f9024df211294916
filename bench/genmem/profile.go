package main

import (
	"fmt"
	"io"
	"math"
	"runtime"
	"runtime/metrics"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/acgen/acgen/driver"
	"github.com/acgen/acgen/internal/emitters"
)

// profileRate is the heap profile's sampling rate in this mode: fine
// enough that a stage's small objects are counted, coarse enough not to
// slow the pipeline much. Allocations of MBs are always sampled.
const profileRate = 16 << 10

// stageFuncs maps the driver's stage functions to the stage names that
// -dump uses: an allocation belongs to the stage whose function is on
// its stack. A stage missing here shows as "other" (and the report says
// so), should the driver rename its functions.
var stageFuncs = map[string]string{
	"parseSpec": "spec", "loadWeights": "weights", "buildGraph": "graph", "fuseGraph": "fuse",
	"checkFusion": "check", "planProgram": "plan", "emit": "emit", "writePackage": "write",
}

const driverPkg = "github.com/acgen/acgen/driver."

// snapshot is the live heap after a forced GC, by the stage that
// allocated it and by allocation site.
type snapshot struct {
	during  string // the stage running when it was taken
	live    uint64 // runtime.MemStats.HeapAlloc after the GC
	rss     procMem
	byStage map[string]float64 // bytes, sampling-corrected
	bySite  map[string]float64 // "stage: function (file:line)" -> bytes
}

// stageStats is what one stage did to memory.
type stageStats struct {
	name      string
	wall      time.Duration
	cpu       float64 // seconds of CPU the process used meanwhile
	heapPeak  uint64  // largest sampled heap (live and not yet collected)
	rssPeak   uint64  // largest sampled VmRSS
	liveAfter uint64  // after the stage, after a GC
	end       procMem // after the stage
}

// profiler follows one driver.Run: the stage running, the heap and RSS
// sampled every few milliseconds, and a GC with a heap-profile snapshot
// each time the heap outgrows the largest live heap seen so far by a
// fifth, so that the snapshot with the most live bytes is within a fifth
// of the true live peak.
type profiler struct {
	mu     sync.Mutex
	stage  int // index into stages; -1 before the first
	cpu0   float64
	names  []string
	stages []stageStats
	start  time.Time
	peak   *snapshot // the snapshot with the most live bytes
	snaps  int
	quit   chan struct{}
	done   chan struct{}
}

func newProfiler() *profiler {
	names := driver.StageNames()
	p := &profiler{stage: -1, names: names, stages: make([]stageStats, len(names)),
		quit: make(chan struct{}), done: make(chan struct{})}
	for i, n := range names {
		p.stages[i].name = n
	}
	return p
}

// status is driver.Config.Status: the driver calls it at the start and the
// end of each stage, in order.
func (p *profiler) status(what string, done bool, elapsed time.Duration) {
	cpu := cpuSeconds()
	if !done {
		p.mu.Lock()
		p.stage++
		p.cpu0 = cpu
		p.mu.Unlock()
		return
	}
	p.mu.Lock()
	i := p.stage
	p.mu.Unlock()
	if i < 0 || i >= len(p.stages) {
		return
	}
	s := p.take(p.names[i])
	p.mu.Lock()
	p.stages[i].wall = elapsed
	p.stages[i].cpu = cpu - p.cpu0
	p.stages[i].liveAfter = s.live
	p.stages[i].end = s.rss
	p.mu.Unlock()
}

// take runs a GC and reads the heap profile it publishes.
func (p *profiler) take(during string) *snapshot {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	s := &snapshot{during: during, live: ms.HeapAlloc, rss: readProcMem(),
		byStage: map[string]float64{}, bySite: map[string]float64{}}
	var recs []runtime.MemProfileRecord
	for {
		n, ok := runtime.MemProfile(recs, false)
		if ok {
			recs = recs[:n]
			break
		}
		recs = make([]runtime.MemProfileRecord, n+64)
	}
	for i := range recs {
		r := &recs[i]
		bytes := scaled(r.InUseObjects(), r.InUseBytes())
		if bytes == 0 {
			continue
		}
		stage, site := attribute(r.Stack())
		s.byStage[stage] += bytes
		s.bySite[stage+": "+site] += bytes
	}
	p.mu.Lock()
	if p.peak == nil || s.live > p.peak.live {
		p.peak = s
	}
	p.snaps++
	p.mu.Unlock()
	return s
}

// scaled undoes the heap profile's sampling, as pprof does: an object of
// size s is sampled with probability 1-exp(-s/rate).
func scaled(objects, bytes int64) float64 {
	if objects <= 0 || bytes <= 0 {
		return 0
	}
	avg := float64(bytes) / float64(objects)
	return float64(bytes) / (1 - math.Exp(-avg/float64(runtime.MemProfileRate)))
}

// attribute names the stage whose function is on the stack, and the
// allocation site: the innermost acgen function outside this program.
func attribute(stack []uintptr) (stage, site string) {
	stage, site = "other", "?"
	frames := runtime.CallersFrames(stack)
	for {
		f, more := frames.Next()
		fn := f.Function
		if site == "?" && strings.HasPrefix(fn, "github.com/acgen/acgen/") && !strings.Contains(fn, "/bench/") {
			site = fmt.Sprintf("%s (%s:%d)", strings.TrimPrefix(fn, "github.com/acgen/acgen/"), shortFile(f.File), f.Line)
		}
		if name, ok := strings.CutPrefix(fn, driverPkg); ok {
			name, _, _ = strings.Cut(name, ".") // closures: emit.func1
			if st, ok := stageFuncs[name]; ok {
				return st, site
			}
		}
		if !more {
			return stage, site
		}
	}
}

func shortFile(f string) string {
	parts := strings.Split(f, "/")
	if len(parts) > 2 {
		parts = parts[len(parts)-2:]
	}
	return strings.Join(parts, "/")
}

// sample polls the heap and RSS until stopped, keeping each stage's
// largest values, and takes a snapshot when the heap has grown a fifth
// past the largest live heap seen.
func (p *profiler) sample() {
	defer close(p.done)
	m := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-p.quit:
			return
		case <-tick.C:
		}
		metrics.Read(m)
		heap := m[0].Value.Uint64()
		rss := readProcMem().rss
		p.mu.Lock()
		i := p.stage
		var threshold uint64
		if p.peak != nil {
			threshold = p.peak.live + p.peak.live/5
		}
		if i >= 0 && i < len(p.stages) {
			st := &p.stages[i]
			st.heapPeak = max(st.heapPeak, heap)
			st.rssPeak = max(st.rssPeak, rss)
		}
		p.mu.Unlock()
		if i >= 0 && i < len(p.names) && heap > threshold && heap > 64<<20 {
			p.take(p.names[i])
		}
	}
}

// profileRun generates one package in this process and writes where its
// memory went.
func profileRun(w io.Writer, name, specPath, weights, out string) error {
	p, wall, err := profiled(specPath, weights, out)
	if err != nil {
		return err
	}
	p.report(w, name, wall)
	return nil
}

// profiled runs the pipeline as acgen does with its default flags,
// under a profiler.
func profiled(specPath, weights, out string) (*profiler, time.Duration, error) {
	p := newProfiler()
	go p.sample()
	start := time.Now()
	_, err := driver.Run(&driver.Config{
		Spec: specPath, Weights: weights, Out: out,
		MaxActivationBytes: 1024 << 20, // acgen's -max-activation-mb default
		MaxCheckFLOPs:      driver.DefaultMaxCheckFLOPs,
		Asm:                emitters.All(),
		Status:             p.status,
	})
	wall := time.Since(start)
	close(p.quit)
	<-p.done
	return p, wall, err
}

const mb = 1e6 // MB = 10^6 bytes, as in the table

func (p *profiler) report(w io.Writer, name string, wall time.Duration) {
	end := readProcMem()
	fmt.Fprintf(w, "%s: acgen's pipeline in one process (driver.Run, the flags' defaults), %.1f s, VmHWM %.0f MB\n",
		name, wall.Seconds(), float64(end.hwm)/mb)
	fmt.Fprintf(w, "  %-8s %7s %7s %12s %12s %12s %12s %12s\n", "stage", "wall s", "CPU s", "heap peak", "RSS peak", "live after", "RSS anon", "RSS file")
	for _, s := range p.stages {
		fmt.Fprintf(w, "  %-8s %7.2f %7.2f %9.0f MB %9.0f MB %9.0f MB %9.0f MB %9.0f MB\n", s.name, s.wall.Seconds(), s.cpu,
			float64(s.heapPeak)/mb, float64(s.rssPeak)/mb, float64(s.liveAfter)/mb, float64(s.end.anon)/mb, float64(s.end.file)/mb)
	}
	pk := p.peak
	if pk == nil {
		return
	}
	var total float64
	for _, b := range pk.byStage {
		total += b
	}
	fmt.Fprintf(w, "  largest live heap (of %d snapshots, each after a forced GC): %.0f MB, during %q; RSS then %.0f MB (anon %.0f, file %.0f)\n",
		p.snaps, float64(pk.live)/mb, pk.during, float64(pk.rss.rss)/mb, float64(pk.rss.anon)/mb, float64(pk.rss.file)/mb)
	fmt.Fprintf(w, "  held then, by the stage that allocated it (heap profile, %.0f MB counted):\n", total/mb)
	for _, n := range append(append([]string(nil), p.names...), "other") {
		if b := pk.byStage[n]; b >= 0.5*mb {
			fmt.Fprintf(w, "    %-8s %7.0f MB  %4.1f%%\n", n, b/mb, 100*b/total)
		}
	}
	type site struct {
		name  string
		bytes float64
	}
	var sites []site
	for n, b := range pk.bySite {
		sites = append(sites, site{n, b})
	}
	sort.Slice(sites, func(i, j int) bool { return sites[i].bytes > sites[j].bytes })
	fmt.Fprintf(w, "  largest allocation sites then (stage: innermost acgen function):\n")
	for i, s := range sites {
		if i == 12 || s.bytes < 1*mb {
			break
		}
		fmt.Fprintf(w, "    %7.0f MB  %s\n", s.bytes/mb, s.name)
	}
}
