package driver

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/acgen/acgen/graph"
	"github.com/acgen/acgen/plan"
)

// dump prints what a stage produced, for -dump.
func dump(w io.Writer, stage string, r *Result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	defer tw.Flush()
	switch stage {
	case "spec":
		fmt.Fprintf(tw, "input\t%v\n", r.Net.Input)
		for _, l := range r.Net.Layers {
			var ins []string
			for _, in := range l.Inputs {
				ins = append(ins, in.String())
			}
			// Only the fields the op takes, with the values it runs with
			// (written or defaulted): a relu has no kernel size.
			var fields []string
			for _, f := range l.Op.Fields() {
				if v := l.FieldValue(f); v != "" {
					fields = append(fields, f+"="+v)
				}
			}
			if l.Prefix != l.Name && l.Op.HasWeights() {
				fields = append(fields, "prefix="+l.Prefix)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\tinputs=%v\t%s\n", l, l.Op, strings.Join(fields, " "), ins, l.Pos)
		}
	case "weights":
		for _, k := range r.Checkpoint.Keys() {
			t := r.Checkpoint.Tensors[k]
			fmt.Fprintf(tw, "%s\t%s\t%v\n", k, t.DType, t.Shape)
		}
	case "graph":
		dumpGraph(tw, r.Unfused)
	case "fuse":
		dumpGraph(tw, r.Fused)
		// The same counts as acgen's summary line.
		f := r.Fusion
		fmt.Fprintf(tw, "ACBlocks fused\t%d\nother blocks fused\t%d %v\nBatchNorms fused\t%d (%d in ACBlocks, %d in other blocks, %d into a conv or linear layer)\nBatchNorms kept\t%d %v\nparameters\t%d -> %d\n",
			f.ACBlocks, f.RepBlocks, f.Blocks, f.BatchNorms(), 3*f.ACBlocks, f.RepBNs, f.FoldedBNs, len(f.KeptBNs), f.KeptBNs, f.ParamsIn, f.ParamsOut)
	case "check":
		fmt.Fprintf(tw, "samples\t%d\nmax relative difference fused vs unfused\t%.3g\n", len(r.Golden), r.MaxFuseErr)
	case "plan":
		for _, p := range r.Plan.Programs {
			dumpProgram(tw, p)
		}
		fmt.Fprintf(tw, "weights\t%d floats, shared by every program\n", len(r.Plan.Weights))
	case "emit":
		for _, f := range r.Files {
			fmt.Fprintf(tw, "%s\t%d bytes\n", f.Name, len(f.Data))
		}
	case "write":
		fmt.Fprintf(tw, "written\t%v\nunchanged\t%v\nremoved\t%v\n", r.Write.Written, r.Write.Unchanged, r.Write.Removed)
	}
}

func dumpGraph(w io.Writer, g *graph.Graph) {
	fmt.Fprintf(w, "input\t%s\n", g.Input)
	for _, n := range g.Nodes {
		var ins []string
		for _, in := range n.Inputs {
			ins = append(ins, in.Name)
		}
		if len(ins) == 0 {
			ins = []string{"input"}
		}
		fmt.Fprintf(w, "%s\t%s\t%v\t-> %s\n", n.Name, n.Op, ins, n.Shape)
	}
	fmt.Fprintf(w, "output\t%s\n", g.Output.Name)
}

// dumpProgram prints one program's steps and buffers.
func dumpProgram(tw io.Writer, p *plan.Program) {
	fmt.Fprintf(tw, "program %s\n", p.Target.Name)
	for i, s := range p.Steps {
		var ins []string
		for _, v := range s.In {
			ins = append(ins, fmt.Sprintf("b%d:%s", v.Buf.ID, v.Layout))
		}
		out := "dst"
		if s.Out != nil {
			out = fmt.Sprintf("b%d:%s", s.Out.Buf.ID, s.Out.Layout)
		}
		extra := ""
		if s.Conv != nil {
			extra = fmt.Sprintf("%s tiles=%d pixels=%d", s.Conv.Algo, len(s.Conv.Tiles), s.Conv.Pixels)
			if s.Conv.Algo == plan.Winograd {
				extra = fmt.Sprintf("winograd F%d tiles=%d pixels=%d rows=%d", s.Conv.WinogradM, len(s.Conv.Tiles), s.Conv.Pixels, s.Conv.BlockRows)
			}
		}
		why := ""
		if s.Conv != nil && s.Conv.Why != "" {
			why = "\t" + s.Conv.Why
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%v -> %s\t%s\t%.2f MFLOP%s\n", i, s.Name, s.Kind, ins, out, extra, float64(s.FLOPs)/1e6, why)
	}
	for _, b := range p.Buffers {
		fmt.Fprintf(tw, "buffer b%d\t%s\toffset %d\t%d floats\n", b.ID, b.Layout, b.Offset, b.Layout.Len())
	}
	fmt.Fprintf(tw, "workspace\t%d floats\nwinograd weights\t%d floats, computed on first use\n", p.WorkspaceLen, p.WinogradLen)
}
