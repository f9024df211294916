package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/acgen/acgen/driver"
	"github.com/acgen/acgen/internal/layerreport"
)

// writeReport measures the generated package layer by layer (its
// BenchmarkLayers, in a scratch module), prints the table and, for a
// file ending in .svg or .html, draws it there too.
func writeReport(path string, res *driver.Result, stdout io.Writer, quiet bool) error {
	// Time the program the package runs here: the best one this CPU has.
	prog := res.Plan.Portable()
	for _, p := range res.Plan.Programs {
		if p.Target.OnHost() {
			prog = p
			break
		}
	}
	rows, err := layerreport.Measure(prog, res.Files, "200ms", 3)
	if err != nil {
		return err
	}
	name := prog.Name
	if name == "" {
		name = "network"
	}
	if !quiet {
		fmt.Fprintf(stdout, "acgen: %s, per layer on this machine with the %s kernels (median of 3):\n", name, prog.Target.Name)
		if err := layerreport.WriteText(stdout, rows, 0); err != nil {
			return err
		}
	}
	var buf bytes.Buffer
	var total float64
	for _, r := range rows {
		total += r.NS
	}
	title := fmt.Sprintf("%s: time and FLOPs per layer, %.1f µs in all (%s)", name, total/1e3, layerreport.Machine(prog.Target.Name))
	switch strings.ToLower(filepath.Ext(path)) {
	case ".svg":
		err = layerreport.WriteSVG(&buf, title, rows)
	case ".html", ".htm":
		err = layerreport.WriteHTML(&buf, title, rows)
	default:
		fmt.Fprintln(&buf, title)
		err = layerreport.WriteText(&buf, rows, 0)
	}
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "acgen: report written to %s\n", path)
	return nil
}
