package main

import (
	"fmt"
	"io"
	"maps"
	"runtime/debug"
	"slices"

	"github.com/acgen/acgen/driver"
	"github.com/acgen/acgen/plan"
)

func printSummary(w io.Writer, cfg *driver.Config, r *driver.Result) {
	for _, note := range r.Checkpoint.Notes {
		fmt.Fprintf(w, "acgen: %s: %s\n", cfg.Weights, note)
	}
	f := r.Fusion
	var flops int64
	for _, s := range r.Program.Steps {
		flops += s.FLOPs
	}
	blocks := fmt.Sprintf("%d ACBlocks", f.ACBlocks)
	for _, family := range slices.Sorted(maps.Keys(f.Blocks)) {
		blocks += fmt.Sprintf(", %d %s blocks", f.Blocks[family], family)
	}
	fmt.Fprintf(w, "acgen: fused %s and %d BatchNorms: %s -> %s parameters, %s MFLOP per sample\n",
		blocks, f.BatchNorms(), thousands(f.ParamsIn), thousands(f.ParamsOut), mflop(flops))
	fmt.Fprintf(w, "acgen: fused vs unfused on %d random inputs: max relative difference %.2g\n", len(r.Golden), r.MaxFuseErr)
	if p := r.Plan.Programs[0]; p.EmulatedError > 0 && len(p.WinogradLayers()) > 0 {
		convs, wino := 0, len(p.WinogradLayers())
		for _, s := range p.Steps {
			if s.Kind == plan.Conv {
				convs++
			}
		}
		fmt.Fprintf(w, "acgen: %s: Winograd in %d of %d convolutions, emulated error %.2gx PyTorch's float32 (budget %.2gx)\n",
			p.Target.Name, wino, convs, p.EmulatedError, plan.ErrorBudget)
	}
	if cfg.Out == "" {
		return // -dump without -out: nothing was written
	}
	wr := r.Write
	if rc := wr.Recovered; rc.Finished+rc.RolledBack > 0 {
		fmt.Fprintf(w, "acgen: %s: first healed what a killed run left (%d writes finished from their journal, %d rolled back); see docs/out-dir.md\n",
			wr.Dir, rc.Finished, rc.RolledBack)
	}
	fmt.Fprintf(w, "acgen: %s: %d files written, %d unchanged", wr.Dir, len(wr.Written), len(wr.Unchanged))
	if len(wr.Removed) > 0 {
		fmt.Fprintf(w, ", %d stale removed", len(wr.Removed))
	}
	fmt.Fprintln(w)
}

// mflop shows FLOPs in millions: one decimal, or two significant digits
// for a network too small for that to show anything.
func mflop(flops int64) string {
	m := float64(flops) / 1e6
	if m < 1 {
		return fmt.Sprintf("%.2g", m)
	}
	return fmt.Sprintf("%.1f", m)
}

func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// version is the module version acgen was built from: a tag for
// `go install ...@v1.2.3`, else the VCS revision of a checkout.
func version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown)"
	}
	v := info.Main.Version
	var rev, dirty string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "+dirty"
			}
		}
	}
	if (v == "" || v == "(devel)") && rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		return "devel " + rev + dirty
	}
	if v == "" {
		return "(devel)"
	}
	return v
}
