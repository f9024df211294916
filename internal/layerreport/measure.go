package layerreport

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/acgen/acgen/gen"
	"github.com/acgen/acgen/internal/scratch"
	"github.com/acgen/acgen/plan"
)

// Row is one step of the network with its measured time.
type Row struct {
	Step      string // the step's name (its graph nodes, joined by "+")
	Op        string // what it computes, e.g. "conv3x3+add+relu"
	Shape     string // input -> output
	Algorithm string // "winograd F(4,3)", "direct 3x3/2 16x6", ...
	FLOPs     int64
	NS        float64 // median ns per call; 0 if not measured
	// Why is what the planner's cost model weighed: its estimate of the
	// choice and of the runner-up (plan.ConvStep.Why).
	Why string
	// Bytes is what the step reads and writes; MemoryBound says memory
	// bounds it rather than arithmetic (see memory.go), and CopyNS is
	// then the time of a copy of as many bytes in the same run (0: not
	// measured).
	Bytes       int64
	MemoryBound bool
	CopyNS      float64
}

// GBs is the step's traffic per second.
func (r Row) GBs() float64 {
	if r.NS == 0 {
		return 0
	}
	return float64(r.Bytes) / r.NS
}

// OfCopy is the step's speed as a share of a copy of its bytes (1: as
// fast as the copy), or 0 when either is not measured.
func (r Row) OfCopy() float64 {
	if r.NS == 0 || r.CopyNS == 0 {
		return 0
	}
	return r.CopyNS / r.NS
}

// GFLOPs is the step's speed.
func (r Row) GFLOPs() float64 {
	if r.NS == 0 {
		return 0
	}
	return float64(r.FLOPs) / r.NS
}

// Rows describes every step of p, without times.
func Rows(p *plan.Program) []Row {
	var rows []Row
	for _, s := range p.Steps {
		r := Row{Step: s.Name, Op: gen.DescribeStep(s), Shape: shape(s), Algorithm: Algorithm(s), FLOPs: s.FLOPs,
			Bytes: stepBytes(s), MemoryBound: memoryBound(s)}
		if s.Conv == nil && s.NeedsKernel() && p.Target.Asm() {
			r.Algorithm = "asm" // a kernel of its own: LayerNorm's, the elementwise steps'
		}
		if s.Conv != nil {
			r.Why = s.Conv.Why
		}
		rows = append(rows, r)
	}
	return rows
}

// Measure runs the generated package's BenchmarkLayers (files, as the
// generator produced them) count times in a scratch module, on program
// p's instruction set (ACGEN_ISA), and fills in the median time of every
// step, and for the memory-bound ones the time of a copy of their bytes.
func Measure(p *plan.Program, files []gen.File, benchtime string, count int) ([]Row, error) {
	tmp, err := os.MkdirTemp("", "acgen-report-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	mod, err := scratch.New(tmp, "acgenreport")
	if err != nil {
		return nil, err
	}
	if err := mod.WriteFiles("pkg", files); err != nil {
		return nil, err
	}
	mod.Env = []string{"ACGEN_ISA=" + p.Target.Name}
	out, err := mod.Go("test", "-run", "^$", "-bench", "^BenchmarkLayers$", "-benchtime", benchtime, "-count", strconv.Itoa(count), "./pkg")
	if errors.Is(err, scratch.ErrNoGo) {
		return nil, fmt.Errorf("measuring layers needs the go command on PATH")
	}
	if err != nil {
		return nil, err
	}
	rows := Fill(Rows(p), out)
	timeCopies(rows)
	return rows, nil
}

var layerLine = regexp.MustCompile(`^BenchmarkLayers/(\d+)_\S*?(?:-\d+)?\s+\d+\s+([\d.]+) ns/op`)

// Fill sets the rows' times from go test -bench output (lines
// BenchmarkLayers/NN_step ... ns/op, possibly several per step).
func Fill(rows []Row, benchOutput string) []Row {
	times := map[int][]float64{}
	sc := bufio.NewScanner(strings.NewReader(benchOutput))
	for sc.Scan() {
		m := layerLine.FindStringSubmatch(strings.TrimSpace(sc.Text()))
		if m == nil {
			continue
		}
		i, _ := strconv.Atoi(m[1])
		v, _ := strconv.ParseFloat(m[2], 64)
		times[i] = append(times[i], v)
	}
	for i := range rows {
		rows[i].NS = Median(times[i])
	}
	return rows
}

// Median of v, 0 when empty.
func Median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func shape(s *plan.Step) string {
	if s.Out == nil {
		l := s.In[0].Layout
		return fmt.Sprintf("%dx%dx%d->dst", l.C, l.H, l.W)
	}
	l := s.Out.Layout
	if len(s.In) == 0 {
		return fmt.Sprintf("src->%dx%dx%d", l.C, l.H, l.W)
	}
	in := s.In[0].Layout
	return fmt.Sprintf("%dx%dx%d->%dx%dx%d", in.C, in.H, in.W, l.C, l.H, l.W)
}

// Algorithm names how a step is computed.
func Algorithm(s *plan.Step) string {
	if s.Conv == nil {
		return "go"
	}
	c := s.Conv
	switch c.Algo {
	case plan.Winograd:
		return fmt.Sprintf("winograd F(%d,3)", c.WinogradM)
	case plan.Direct:
		a := fmt.Sprintf("direct %dx%d/%d tile %dx%d", c.KH, c.KW, c.StrideH, c.Tiles[0].Blocks*c.Block, c.Pixels)
		if n := c.Passes(); n > 1 {
			a += fmt.Sprintf(" %dx%dch", n, c.Direct.KBlock)
		}
		return a
	}
	return fmt.Sprintf("%s %dx%d/%d", c.Algo, c.KH, c.KW, c.StrideH)
}

// Machine says where a report was measured: the kernels, the CPU (its
// model name on Linux, else the architecture), the go command's version
// and the date, as a report's subtitle.
func Machine(isa string) string {
	cpu := runtime.GOARCH
	if info, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(info), "\n") {
			if name, ok := strings.CutPrefix(line, "model name"); ok {
				cpu = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(name), ":"))
				break
			}
		}
	}
	goVersion := runtime.Version()
	if out, err := (&scratch.Module{Dir: os.TempDir()}).Go("env", "GOVERSION"); err == nil {
		goVersion = strings.TrimSpace(out)
	}
	return fmt.Sprintf("%s kernels on %s, %s, %s", isa, cpu, goVersion, time.Now().UTC().Format("2006-01-02"))
}
