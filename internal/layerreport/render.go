package layerreport

import (
	"fmt"
	"html"
	"io"
	"strings"
	"unicode/utf8"
)

// WriteText prints the rows as a table, names left-aligned and numbers
// right-aligned; with peak > 0 (GFLOP/s) it adds each step's share of it,
// and where a copy was timed (Row.CopyNS), a memory-bound step's traffic
// and its share of the copy's speed.
func WriteText(w io.Writer, rows []Row, peak float64) error {
	head := []string{"step", "op", "shape", "algorithm", "MFLOP", "time µs", "GFLOP/s"}
	if peak > 0 {
		head = append(head, "% peak")
	}
	copies := false
	for _, r := range rows {
		copies = copies || r.CopyNS > 0
	}
	if copies {
		head = append(head, "GB/s", "% copy")
	}
	why := false
	for _, r := range rows {
		why = why || r.Why != ""
	}
	if why {
		head = append(head, "planner's choice (modelled kcycles) and runner-up")
	}
	table := [][]string{head}
	var total float64
	for _, r := range rows {
		total += r.NS
		line := []string{short(r.Step), r.Op, r.Shape, r.Algorithm,
			fmt.Sprintf("%.2f", float64(r.FLOPs)/1e6), fmt.Sprintf("%.1f", r.NS/1e3), fmt.Sprintf("%.1f", r.GFLOPs())}
		if peak > 0 {
			pct := ""
			if r.FLOPs > 0 && r.NS > 0 {
				pct = fmt.Sprintf("%.0f%%", 100*r.GFLOPs()/peak)
			}
			line = append(line, pct)
		}
		if copies {
			gbs, pct := "", ""
			if r.CopyNS > 0 && r.NS > 0 {
				gbs, pct = fmt.Sprintf("%.1f", r.GBs()), fmt.Sprintf("%.0f%%", 100*r.OfCopy())
			}
			line = append(line, gbs, pct)
		}
		if why {
			line = append(line, r.Why)
		}
		table = append(table, line)
	}
	table = append(table, []string{"total", "", "", "", "", fmt.Sprintf("%.1f", total/1e3), ""})
	const textColumns = 4 // then numbers
	width := make([]int, len(head))
	for _, line := range table {
		for i, cell := range line {
			width[i] = max(width[i], utf8.RuneCountInString(cell))
		}
	}
	var b strings.Builder
	for _, line := range table {
		var l strings.Builder
		for i, cell := range line {
			pad := strings.Repeat(" ", width[i]-utf8.RuneCountInString(cell))
			if i > 0 {
				l.WriteString("  ")
			}
			if i < textColumns || why && i == len(line)-1 {
				l.WriteString(cell + pad)
			} else {
				l.WriteString(pad + cell)
			}
		}
		b.WriteString(strings.TrimRight(l.String(), " ") + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
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
