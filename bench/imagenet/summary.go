package main

import (
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/acgen/acgen/internal/layerreport"
)

// result is one benchmark line.
type result struct {
	round  int
	ns     float64
	gflops float64 // 0 when not reported
	others float64 // CPUs other processes used while its process ran
}

// parsed is a raw file: the results by benchmark name (without a -N
// suffix), the layer lines by network, and the comments worth repeating.
type parsed struct {
	cpu     string
	machine string // the "# date, CPUs; flags; acgen ...; go" line
	setup   string // the "# rounds N, threads ..., benchtime ..." line
	results map[string][]result
	layers  map[string][]string // net -> "BenchmarkLayers/NN_step ..." lines
	busy    []string            // benchmarks kept although the machine was busy
	rounds  []string            // "round N, load average ..."
	done    string
}

var (
	benchLine  = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+\d+\s+([\d.]+) ns/op(.*)$`)
	gflopsPart = regexp.MustCompile(`([\d.]+) GFLOP/s`)
	layersName = regexp.MustCompile(`^BenchmarkLayers/net=([^/]+)/isa=[^/]+/(.*)$`)
	othersNote = regexp.MustCompile(`^# .*, others ([\d.]+) CPUs`)
)

func parse(raw string) *parsed {
	p := &parsed{results: map[string][]result{}, layers: map[string][]string{}}
	round, others := 0, 0.0
	for _, line := range strings.Split(raw, "\n") {
		line = strings.TrimSpace(line)
		if m := othersNote.FindStringSubmatch(line); m != nil {
			others, _ = strconv.ParseFloat(m[1], 64) // bench.go's note before a process's lines
		}
		switch {
		case strings.HasPrefix(line, "cpu: "):
			p.cpu = strings.TrimPrefix(line, "cpu: ")
		case strings.HasPrefix(line, "# rounds "):
			p.setup = strings.TrimPrefix(line, "# ")
		case strings.HasPrefix(line, "# round "):
			fmt.Sscanf(line, "# round %d", &round)
			p.rounds = append(p.rounds, strings.TrimPrefix(line, "# "))
		case strings.HasPrefix(line, "# done "):
			p.done = strings.TrimPrefix(line, "# ")
		case strings.HasSuffix(line, "(kept: redone often enough)"):
			p.busy = append(p.busy, strings.TrimPrefix(line, "# "))
		case p.machine == "" && strings.HasPrefix(line, "# ") && strings.Contains(line, " CPUs; "):
			p.machine = strings.TrimPrefix(line, "# ")
		}
		m := benchLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		if l := layersName.FindStringSubmatch(m[1]); l != nil {
			p.layers[l[1]] = append(p.layers[l[1]], "BenchmarkLayers/"+l[2]+" 1 "+m[2]+" ns/op")
			continue
		}
		r := result{round: round, others: others}
		r.ns, _ = strconv.ParseFloat(m[2], 64)
		if g := gflopsPart.FindStringSubmatch(m[3]); g != nil {
			r.gflops, _ = strconv.ParseFloat(g[1], 64)
		}
		p.results[m[1]] = append(p.results[m[1]], r)
	}
	return p
}

func (p *parsed) ns(name string) []float64 {
	var v []float64
	for _, r := range p.results[name] {
		v = append(v, r.ns)
	}
	return v
}

func (p *parsed) others(name string) []float64 {
	var v []float64
	for _, r := range p.results[name] {
		v = append(v, r.others)
	}
	return v
}

func (p *parsed) gflops(name string) []float64 {
	var v []float64
	for _, r := range p.results[name] {
		v = append(v, r.gflops)
	}
	return v
}

// perRound is the ratio a/b of the two benchmarks' times in each round
// both ran (the median of a round's lines), sorted.
func (p *parsed) perRound(a, b string) []float64 {
	byRound := func(name string) map[int][]float64 {
		m := map[int][]float64{}
		for _, r := range p.results[name] {
			m[r.round] = append(m[r.round], r.ns)
		}
		return m
	}
	ra, rb := byRound(a), byRound(b)
	var out []float64
	for round, va := range ra {
		if vb, ok := rb[round]; ok {
			out = append(out, layerreport.Median(va)/layerreport.Median(vb))
		}
	}
	sort.Float64s(out)
	return out
}

// peakName is the FMA peak benchmark of an instruction set's registers.
var peakName = map[string]string{"avx512": "BenchmarkPeakZMM", "avx2": "BenchmarkPeak"}

func summarise(w io.Writer, c *config, nets []*network, isas []string, raw string) {
	p := parse(raw)
	fmt.Fprintf(w, "ImageNet-size networks (torchvision, 224x224, batch 1, random weights): acgen against ONNX Runtime 1.30\n")
	fmt.Fprintf(w, "(onnxruntime-node, eval-mode ONNX export of the same weights), %d interleaved rounds\n", len(p.rounds))
	fmt.Fprintf(w, "cpu: %s\n# %s\n# %s\n", p.cpu, p.machine, p.setup)
	fmt.Fprintf(w, "FMA peak on one core, this run (median of the rounds [range]):")
	for _, n := range []string{"BenchmarkPeak", "BenchmarkPeakZMM"} {
		if g := p.gflops(n); len(g) > 0 {
			label := map[string]string{"BenchmarkPeak": "YMM (BenchmarkPeak)", "BenchmarkPeakZMM": "ZMM (BenchmarkPeakZMM)"}[n]
			fmt.Fprintf(w, " %s %.1f GFLOP/s [%.1f-%.1f];", label, layerreport.Median(g), minOf(g), maxOf(g))
		}
	}
	fmt.Fprintln(w)
	for _, r := range p.rounds {
		fmt.Fprintf(w, "# %s\n", r)
	}
	if p.done != "" {
		fmt.Fprintf(w, "# %s\n", p.done)
	}
	for _, b := range p.busy {
		fmt.Fprintf(w, "# busy machine: %s\n", b)
	}

	fmt.Fprintf(w, "\nMedian ms per inference; acgen / ORT is the ratio of the medians (lower is better), [the range of the\nper-round ratios]; %% peak: GFLOP/s at the median over threads x the one-core FMA peak of the ISA's registers;\nothers: the median CPUs other processes used while acgen's (first ISA) and ORT's benchmark processes ran.\n\n")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "network\tMFLOP\tthreads\t")
	for _, isa := range isas {
		fmt.Fprintf(tw, "acgen %s\t%% peak\t", isa)
	}
	fmt.Fprint(tw, "ORT\t")
	for _, isa := range isas {
		fmt.Fprintf(tw, "acgen %s / ORT\t[rounds]\t", isa)
	}
	fmt.Fprintln(tw, "others\t")
	for _, n := range nets {
		var flops int64
		if n.pkg != nil {
			for _, s := range n.pkg.Portable().Steps {
				flops += s.FLOPs
			}
		}
		for _, t := range c.threads {
			key := func(impl string) string {
				return fmt.Sprintf("BenchmarkImageNet/net=%s/impl=%s/threads=%d", n.name, impl, t)
			}
			ort := layerreport.Median(p.ns(key("ort")))
			fmt.Fprintf(tw, "%s\t%.0f\t%d\t", n.name, float64(flops)/1e6, t)
			for _, isa := range isas {
				ours := layerreport.Median(p.ns(key("acgen-" + isa)))
				peak := layerreport.Median(p.gflops(peakName[isa]))
				pct := "-"
				if ours > 0 && peak > 0 {
					pct = fmt.Sprintf("%.0f%%", 100*float64(flops)/ours/(peak*float64(t)))
				}
				fmt.Fprintf(tw, "%s\t%s\t", ms(ours), pct)
			}
			fmt.Fprintf(tw, "%s\t", ms(ort))
			for _, isa := range isas {
				ours := layerreport.Median(p.ns(key("acgen-" + isa)))
				rounds := "-"
				if pr := p.perRound(key("acgen-"+isa), key("ort")); len(pr) > 0 {
					rounds = fmt.Sprintf("[%.2f-%.2f]", pr[0], pr[len(pr)-1])
				}
				fmt.Fprintf(tw, "%s\t%s\t", ratio(ours, ort), rounds)
			}
			fmt.Fprintf(tw, "%.2f / %.2f\t\n", layerreport.Median(p.others(key("acgen-"+isas[0]))), layerreport.Median(p.others(key("ort"))))
		}
	}
	tw.Flush()

	for _, n := range nets {
		lines := p.layers[n.name]
		if len(lines) == 0 || n.pkg == nil {
			continue
		}
		isa := isas[0]
		peak := layerreport.Median(p.gflops(peakName[isa]))
		rows := layerreport.Fill(layerreport.Rows(n.program(isa)), strings.Join(lines, "\n"))
		fmt.Fprintf(w, "\n== %s, %s kernels, one goroutine: per layer (BenchmarkLayers, median of %d rounds; %% of the one-core %s peak, %.1f GFLOP/s)\n",
			n.name, isa, len(p.rounds), map[string]string{"avx512": "ZMM", "avx2": "YMM"}[isa], peak)
		layerreport.WriteText(w, rows, peak)
	}
}

func ms(ns float64) string {
	if ns == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", ns/1e6)
}

func ratio(ours, peer float64) string {
	if peer == 0 || ours == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", ours/peer)
}

func minOf(xs []float64) float64 {
	m := xs[0]
	for _, x := range xs {
		m = min(m, x)
	}
	return m
}

func maxOf(xs []float64) float64 {
	m := xs[0]
	for _, x := range xs {
		m = max(m, x)
	}
	return m
}
