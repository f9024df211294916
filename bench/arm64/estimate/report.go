package main

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/acgen/acgen/plan"
)

// report prints the inner loops' share of each model's FMA peak, then
// the per-layer estimate and the totals.
func report(w io.Writer, name string, neon *plan.Program, rows []row, portable *plan.Program, goRows []row, e *estimator, mca string) {
	var hdr []string
	for _, c := range cpus {
		hdr = append(hdr, fmt.Sprintf("%s (%s)", c.name, model(mca, c.name)))
	}
	fmt.Fprintf(w, "%s, NEON program, %s; peak vector FMAs a cycle by the models: ", name, mca)
	for i, c := range cpus {
		if i > 0 {
			fmt.Fprint(w, ", ")
		}
		fmt.Fprintf(w, "%s %.0f", hdr[i], e.peak[c.name])
	}
	fmt.Fprint(w, "\n\n## Inner loops: FMAs a cycle and share of the model's peak\n\n")
	fmt.Fprintf(w, "| step | kernel | FMAs/iter | %s |\n|---|---|---:|%s\n", strings.Join(names(), " | "), strings.Repeat("---:|", len(cpus)))
	for _, r := range rows {
		if r.main == nil {
			continue
		}
		fmt.Fprintf(w, "| %s | %s | %d |", r.step.Name, r.what, r.main.vecFMA)
		for _, c := range cpus {
			rate := float64(r.main.vecFMA) / r.main.cycles[c.name]
			fmt.Fprintf(w, " %.2f (%.0f%%) |", rate, 100*rate/e.peak[c.name])
		}
		fmt.Fprintln(w)
	}
	if len(e.transforms) > 0 {
		fmt.Fprint(w, "\n## Winograd transforms: cycles a tile and 4-channel block\n\n")
		fmt.Fprintf(w, "| kernel | %s |\n|---|%s\n", strings.Join(names(), " | "), strings.Repeat("---:|", len(cpus)))
		var keys []string
		for k := range e.transforms {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(w, "| %s |", k)
			for _, c := range cpus {
				fmt.Fprintf(w, " %.0f |", e.transforms[k][c.name])
			}
			fmt.Fprintln(w)
		}
	}
	fmt.Fprint(w, "\n## Per layer: millions of cycles (one core, batch 1)\n\n")
	fmt.Fprintf(w, "| step | NEON kernel | MFLOP | %s | portable Go on %s | note |\n|---|---|---:|%s---:|---|\n", strings.Join(names(), " | "), cpus[0].name, strings.Repeat("---:|", len(cpus)))
	goOf := map[string]row{}
	for _, r := range goRows {
		goOf[r.step.Name] = r
	}
	totals := map[string]float64{}
	goTotal := map[string]float64{}
	flops := 0.0
	for _, r := range rows {
		flops += float64(r.step.FLOPs)
		fmt.Fprintf(w, "| %s | %s | %.1f |", r.step.Name, r.what, float64(r.step.FLOPs)/1e6)
		for _, c := range cpus {
			fmt.Fprintf(w, " %.2f |", r.cycles[c.name]/1e6)
			totals[c.name] += r.cycles[c.name]
		}
		if g, ok := goOf[r.step.Name]; ok {
			fmt.Fprintf(w, " %.1f (%s) |", g.cycles[cpus[0].name]/1e6, g.what)
		} else {
			fmt.Fprint(w, " |")
		}
		fmt.Fprintf(w, " %s |\n", r.note)
	}
	for _, g := range goRows {
		for _, c := range cpus {
			goTotal[c.name] += g.cycles[c.name]
		}
	}
	// The same with each layer at least as long as reading its weights
	// from memory at the NEON row's rate (ResNet-18's 47 MB, and its
	// Winograd layers' larger transformed weights, outgrow the caches).
	bw := neon.Target.Cost.MemoryBytesPerCycle
	floored := map[string]float64{}
	for _, r := range rows {
		for _, c := range cpus {
			floored[c.name] += max(r.cycles[c.name], weightBytes(r.step)/bw)
		}
	}
	fmt.Fprint(w, "\n## Portable Go kernels: scalar multiply-adds a cycle of their inner loop\n\n")
	fmt.Fprintf(w, "| step | Go kernel | %s |\n|---|---|%s\n", strings.Join(names(), " | "), strings.Repeat("---:|", len(cpus)))
	seen := map[string]bool{}
	for _, g := range goRows {
		if seen[g.what] {
			continue
		}
		seen[g.what] = true
		fmt.Fprintf(w, "| %s | %s |", g.step.Name, g.what)
		for _, c := range cpus {
			fmt.Fprintf(w, " %.2f |", goMACs(g.step.Conv)/g.cycles[c.name])
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "\n## Whole network (%.2f GFLOP)\n\n", flops/1e9)
	fmt.Fprintf(w, "| model | chip, clock | NEON Mcycles | NEON ms | GFLOP/s | with weights from memory at %.0f B/cycle | portable Go ms (at least) |\n|---|---|---:|---:|---:|---:|---:|\n", bw)
	for _, c := range cpus {
		ms := totals[c.name] / (c.ghz * 1e6)
		fmt.Fprintf(w, "| %s | %s, %.1f GHz | %.1f | %.1f | %.0f | %.1f ms | %.0f |\n", c.name, c.chip, c.ghz, totals[c.name]/1e6, ms, flops/(ms*1e6), floored[c.name]/(c.ghz*1e6), goTotal[c.name]/(c.ghz*1e6))
	}
}

// weightBytes is what a step reads of weights per inference: Winograd's
// transformed ones, or the kernel.
func weightBytes(s *plan.Step) float64 {
	c := s.Conv
	if s.Kind != plan.Conv {
		return 0
	}
	if c.Algo == plan.Winograd {
		a := float64(c.WinogradM + 2)
		return 4 * a * a * float64(c.XiStride) // XiStride floats a transform element
	}
	return 4 * float64(c.Out*c.In/c.Groups*c.KH*c.KW)
}

func names() []string {
	var n []string
	for _, c := range cpus {
		n = append(n, c.name)
	}
	return n
}
