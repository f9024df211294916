package main

import (
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/acgen/acgen/internal/layerreport"
)

// results maps a benchmark name (without the -N GOMAXPROCS suffix) to its
// ns/op of every repetition, and to its GFLOP/s metric when reported.
type results struct {
	ns     map[string][]float64
	gflops map[string][]float64
}

var lineRE = regexp.MustCompile(`^(Benchmark\S+?)(-\d+)?\s+\d+\s+([\d.]+) ns/op(.*)$`)
var gflopsRE = regexp.MustCompile(`([\d.]+) GFLOP/s`)

func parse(raw string) results {
	r := results{ns: map[string][]float64{}, gflops: map[string][]float64{}}
	for _, line := range strings.Split(raw, "\n") {
		m := lineRE.FindStringSubmatch(strings.TrimSpace(line))
		if m == nil {
			continue
		}
		v, _ := strconv.ParseFloat(m[3], 64)
		r.ns[m[1]] = append(r.ns[m[1]], v)
		if g := gflopsRE.FindStringSubmatch(m[4]); g != nil {
			x, _ := strconv.ParseFloat(g[1], 64)
			r.gflops[m[1]] = append(r.gflops[m[1]], x)
		}
	}
	return r
}

// peakOf is the FMA peak benchmark of an instruction set's registers.
var peakOf = map[string]string{"avx512": "BenchmarkPeakZMM", "avx2": "BenchmarkPeak"}

func report(w io.Writer, nets []*network, raw string) {
	r := parse(raw)
	isas := hostISAs()
	for _, isa := range isas {
		fmt.Fprintf(w, "FMA peak (one core, this run, %s registers): %.1f GFLOP/s\n", isa, layerreport.Median(r.gflops[peakOf[isa]]))
	}
	for _, n := range nets {
		for _, isa := range isas {
			peak := layerreport.Median(r.gflops[peakOf[isa]])
			key := n.name + "/" + isa
			fmt.Fprintf(w, "\n== %s, %s: per layer (medians over %d rounds; %% of the %s peak)\n", n.name, isa, len(r.ns["BenchmarkInfer/"+key]), isa)
			// This network's layer lines, named as the package prints them.
			own := strings.ReplaceAll(raw, "BenchmarkLayers/"+key+"/", "BenchmarkLayers/")
			var lines []string
			for _, l := range strings.Split(own, "\n") {
				f := strings.Fields(l)
				if len(f) > 0 && strings.HasPrefix(f[0], "BenchmarkLayers/") && !strings.Contains(f[0][len("BenchmarkLayers/"):], "/") {
					lines = append(lines, l)
				}
			}
			layerreport.WriteText(w, layerreport.Fill(layerreport.Rows(n.program(isa)), strings.Join(lines, "\n")), peak)
		}
	}
	fmt.Fprintf(w, "\n== per network (median ms; ratio = acgen / ONNX Runtime, lower is better)\n")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "network\tMFLOP\t")
	for _, isa := range isas {
		fmt.Fprintf(tw, "acgen %s\tvs ORT\t", isa)
	}
	fmt.Fprintf(tw, "ONNX Runtime\tPyTorch\t\n")
	for _, n := range nets {
		var flops int64
		for _, s := range n.plan.Portable().Steps {
			flops += s.FLOPs
		}
		ort := layerreport.Median(r.ns["BenchmarkORT/"+n.name])
		torch := layerreport.Median(r.ns["BenchmarkTorch/"+n.name+"/ofi-fused"])
		fmt.Fprintf(tw, "%s\t%.1f\t", n.name, float64(flops)/1e6)
		for _, isa := range isas {
			ours := layerreport.Median(r.ns["BenchmarkInfer/"+n.name+"/"+isa])
			fmt.Fprintf(tw, "%.3f\t%s\t", ours/1e6, ratio(ours, ort))
		}
		fmt.Fprintf(tw, "%s\t%s\t\n", ms(ort), ms(torch))
	}
	tw.Flush()
}

func ms(ns float64) string {
	if ns == 0 {
		return "-"
	}
	return fmt.Sprintf("%.3f", ns/1e6)
}

func ratio(ours, peer float64) string {
	if peer == 0 || ours == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", ours/peer)
}
