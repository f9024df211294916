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

func report(w io.Writer, nets []*network, raw string) {
	r := parse(raw)
	peak := layerreport.Median(r.gflops["BenchmarkPeak"])
	fmt.Fprintf(w, "FMA peak (one core, this run): %.1f GFLOP/s\n", peak)
	for _, n := range nets {
		fmt.Fprintf(w, "\n== %s: per layer (medians over %d rounds)\n", n.name, len(r.ns["BenchmarkInfer/"+n.name]))
		// This network's layer lines, named as the package prints them.
		own := strings.ReplaceAll(raw, "BenchmarkLayers/"+n.name+"/", "BenchmarkLayers/")
		var lines []string
		for _, l := range strings.Split(own, "\n") {
			f := strings.Fields(l)
			if len(f) > 0 && strings.HasPrefix(f[0], "BenchmarkLayers/") && !strings.Contains(f[0][len("BenchmarkLayers/"):], "/") {
				lines = append(lines, l)
			}
		}
		layerreport.WriteText(w, layerreport.Fill(layerreport.Rows(n.prog), strings.Join(lines, "\n")), peak)
	}
	fmt.Fprintf(w, "\n== per network (median ms; ratio = peer / acgen)\n")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "network\tMFLOP\tacgen\tONNX Runtime\tratio\tPyTorch\tratio\t\n")
	for _, n := range nets {
		var flops int64
		for _, s := range n.prog.Steps {
			flops += s.FLOPs
		}
		ours := layerreport.Median(r.ns["BenchmarkInfer/"+n.name])
		ort := layerreport.Median(r.ns["BenchmarkORT/"+n.name])
		torch := layerreport.Median(r.ns["BenchmarkTorch/"+n.name+"/ofi-fused"])
		fmt.Fprintf(tw, "%s\t%.1f\t%.3f\t%s\t%s\t%s\t%s\t\n", n.name, float64(flops)/1e6, ours/1e6,
			ms(ort), ratio(ort, ours), ms(torch), ratio(torch, ours))
	}
	tw.Flush()
}

func ms(ns float64) string {
	if ns == 0 {
		return "-"
	}
	return fmt.Sprintf("%.3f", ns/1e6)
}

func ratio(peer, ours float64) string {
	if peer == 0 || ours == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2fx", peer/ours)
}
