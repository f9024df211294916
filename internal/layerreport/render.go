package layerreport

import (
	"fmt"
	"html"
	"io"
	"strings"
	"text/tabwriter"
)

// WriteText prints the rows as a table; with peak > 0 (GFLOP/s) it adds
// each step's share of it.
func WriteText(w io.Writer, rows []Row, peak float64) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	head := "step\top\tshape\talgorithm\tMFLOP\ttime µs\tGFLOP/s\t"
	if peak > 0 {
		head += "% peak\t"
	}
	fmt.Fprintln(tw, head)
	var total float64
	for _, r := range rows {
		total += r.NS
		line := fmt.Sprintf("%s\t%s\t%s\t%s\t%.2f\t%.1f\t%.1f\t", short(r.Step), r.Op, r.Shape, r.Algorithm,
			float64(r.FLOPs)/1e6, r.NS/1e3, r.GFLOPs())
		if peak > 0 {
			if r.FLOPs > 0 && r.NS > 0 {
				line += fmt.Sprintf("%.0f%%\t", 100*r.GFLOPs()/peak)
			} else {
				line += "\t"
			}
		}
		fmt.Fprintln(tw, line)
	}
	fmt.Fprintf(tw, "total\t\t\t\t\t%.1f\t\t\n", total/1e3)
	return tw.Flush()
}

// WriteSVG draws, per step, a bar of its time and a bar of its FLOPs
// (each scaled to the largest), labelled with the step, its algorithm and
// its speed.
func WriteSVG(w io.Writer, title string, rows []Row) error {
	const (
		rowH, labelW, barW, pad = 22, 330, 300, 10
	)
	var maxNS float64
	var maxF int64
	for _, r := range rows {
		maxNS = max(maxNS, r.NS)
		maxF = max(maxF, r.FLOPs)
	}
	height := pad*2 + rowH*(len(rows)+2)
	width := labelW + 2*barW + 3*pad + 170
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="12">`+"\n", width, height)
	fmt.Fprintf(&b, `<text x="%d" y="%d" font-weight="bold">%s</text>`+"\n", pad, pad+14, html.EscapeString(title))
	y := pad + rowH + 4
	fmt.Fprintf(&b, `<text x="%d" y="%d" fill="#444">time</text><text x="%d" y="%d" fill="#444">FLOPs</text>`+"\n",
		labelW+pad, y, labelW+barW+2*pad, y)
	for i, r := range rows {
		y := pad + rowH*(i+2)
		fmt.Fprintf(&b, `<text x="%d" y="%d"><title>%s</title>%s <tspan fill="#666">%s</tspan></text>`+"\n",
			pad, y+14, html.EscapeString(r.Step), html.EscapeString(short(r.Step)), html.EscapeString(r.Algorithm))
		if maxNS > 0 {
			tw := barW * r.NS / maxNS
			fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.1f" height="%d" fill="#d9534f"><title>%.1f µs</title></rect>`+"\n",
				labelW+pad, y+3, tw, rowH-6, r.NS/1e3)
		}
		if maxF > 0 {
			fw := float64(barW) * float64(r.FLOPs) / float64(maxF)
			fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.1f" height="%d" fill="#5b8def"><title>%.2f MFLOP</title></rect>`+"\n",
				labelW+barW+2*pad, y+3, fw, rowH-6, float64(r.FLOPs)/1e6)
		}
		switch {
		case r.NS > 0 && r.FLOPs > 0:
			fmt.Fprintf(&b, `<text x="%d" y="%d" fill="#444">%.1f µs, %.0f GFLOP/s</text>`+"\n",
				labelW+2*barW+3*pad, y+14, r.NS/1e3, r.GFLOPs())
		case r.NS > 0:
			fmt.Fprintf(&b, `<text x="%d" y="%d" fill="#444">%.1f µs</text>`+"\n", labelW+2*barW+3*pad, y+14, r.NS/1e3)
		}
	}
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteHTML is WriteSVG inside a page that also holds the table.
func WriteHTML(w io.Writer, title string, rows []Row) error {
	var svg, table strings.Builder
	if err := WriteSVG(&svg, title, rows); err != nil {
		return err
	}
	if err := WriteText(&table, rows, 0); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>%s</title></head>\n<body>\n%s<pre>%s</pre>\n</body></html>\n",
		html.EscapeString(title), svg.String(), html.EscapeString(table.String()))
	return err
}

// short is a step's first node's name: conv2+add+relu -> conv2.
func short(step string) string {
	if i := strings.Index(step, "+"); i > 0 {
		return step[:i]
	}
	return step
}
