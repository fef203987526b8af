package report

import (
	"fmt"
	"html/template"
	"math"
	"strconv"
	"strings"
)

// Charts are drawn on the server as inline SVG: no script, no CDN, readable on a phone.
// Each chart is an image with a title and a description for screen readers; its numbers
// are on the page as a table beside it (the page's template), so nothing is only in the
// picture.

// Line is one line of a line chart.
type Line struct {
	Name   string
	Values []float64
	Dashed bool
	Colour int // index into the palette: lines of one age band share it
}

// palette: dark enough against white for WCAG's 3:1 for graphics.
var palette = []string{"#1f5fa8", "#b3261e", "#2e7d32", "#7b3fa0", "#8a5a00", "#00695c"}

const (
	chartW, chartH           = 720.0, 280.0
	padL, padR, padT, padB   = 52.0, 16.0, 44.0, 36.0
	plotW, plotH             = chartW - padL - padR, chartH - padT - padB
	labelEvery               = 6
	legendStep, legendHeight = 170.0, 16.0
)

// LineChart draws lines over the same x labels (months). id makes the chart's title and
// description addressable; title and desc are what a screen reader announces.
func LineChart(id, title, desc string, labels []string, lines []Line) template.HTML {
	var b strings.Builder
	top := 0.0
	for _, l := range lines {
		for _, v := range l.Values {
			top = max(top, v)
		}
	}
	top = niceCeil(top)
	open(&b, id, title, desc)
	axes(&b, top, func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) })
	n := len(labels)
	x := func(i int) float64 {
		if n <= 1 {
			return padL + plotW/2
		}
		return padL + plotW*float64(i)/float64(n-1)
	}
	y := func(v float64) float64 { return padT + plotH - plotH*v/top }
	for i, l := range labels {
		if i%labelEvery == 0 || i == n-1 {
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle" font-size="11" fill="#333">%s</text>`,
				x(i), chartH-padB+16, esc(l))
		}
	}
	for li, l := range lines {
		colour := palette[l.Colour%len(palette)]
		var pts []string
		for i, v := range l.Values {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(i), y(v)))
		}
		dash := ""
		if l.Dashed {
			dash = ` stroke-dasharray="6 4"`
		}
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="2.5"%s points="%s"/>`, colour, dash, strings.Join(pts, " "))
		lx, ly := padL+float64(li%4)*legendStep, 14+float64(li/4)*legendHeight
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="2.5"%s/>`, lx, ly, lx+22, ly, colour, dash)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="12" fill="#222">%s</text>`, lx+28, ly+4, esc(l.Name))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) //nolint:gosec // every text is escaped above
}

// Bar is one bar of a bar chart.
type Bar struct {
	Label string
	Value float64
	Text  string // the value as the chart prints it
}

// BarChart draws horizontal bars with a reference line at ref (0: none), e.g. coverage per
// district against 100 %.
func BarChart(id, title, desc string, bars []Bar, ref float64, refLabel string) template.HTML {
	const rowH, labelW = 26.0, 200.0
	height := padT + rowH*float64(len(bars)) + 12
	top := ref
	for _, br := range bars {
		top = max(top, br.Value)
	}
	top = niceCeil(top)
	width := chartW - labelW - padR - 60
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 %.0f %.0f" role="img" aria-labelledby="%s-title %s-desc">`,
		chartW, height, esc(id), esc(id))
	fmt.Fprintf(&b, `<title id="%s-title">%s</title><desc id="%s-desc">%s</desc>`, esc(id), esc(title), esc(id), esc(desc))
	fmt.Fprintf(&b, `<rect x="0" y="0" width="%.0f" height="%.0f" fill="#fff"/>`, chartW, height)
	for i, br := range bars {
		yy := padT + rowH*float64(i)
		w := 0.0
		if top > 0 {
			w = width * br.Value / top
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="end" font-size="12" fill="#222">%s</text>`, labelW-8, yy+rowH/2+4, esc(br.Label))
		colour := palette[0]
		if ref > 0 && br.Value < ref {
			colour = palette[1]
		}
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"/>`, labelW, yy+4, w, rowH-8, colour)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="12" fill="#222">%s</text>`, labelW+w+6, yy+rowH/2+4, esc(br.Text))
	}
	if ref > 0 && top > 0 {
		rx := labelW + width*ref/top
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#222" stroke-width="1.5" stroke-dasharray="4 3"/>`, rx, padT-6, rx, height-8)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle" font-size="12" fill="#222">%s</text>`, rx, padT-12, esc(refLabel))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) //nolint:gosec // every text is escaped above
}

func open(b *strings.Builder, id, title, desc string) {
	fmt.Fprintf(b, `<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 %.0f %.0f" role="img" aria-labelledby="%s-title %s-desc">`,
		chartW, chartH, esc(id), esc(id))
	fmt.Fprintf(b, `<title id="%s-title">%s</title><desc id="%s-desc">%s</desc>`, esc(id), esc(title), esc(id), esc(desc))
	fmt.Fprintf(b, `<rect x="0" y="0" width="%.0f" height="%.0f" fill="#fff"/>`, chartW, chartH)
}

// axes draws the frame with four horizontal grid lines labelled by format.
func axes(b *strings.Builder, top float64, format func(float64) string) {
	for i := 0; i <= 4; i++ {
		v := top * float64(i) / 4
		yy := padT + plotH - plotH*float64(i)/4
		fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#ccc" stroke-width="1"/>`, padL, yy, chartW-padR, yy)
		fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="end" font-size="11" fill="#333">%s</text>`, padL-6, yy+4, esc(format(v)))
	}
	fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#333" stroke-width="1"/>`, padL, padT, padL, padT+plotH)
}

// niceCeil rounds v up to 1, 2 or 5 times a power of ten (at least 1), so the grid lines
// fall on round numbers.
func niceCeil(v float64) float64 {
	if v <= 1 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= v {
			if m*p/4 != math.Trunc(m*p/4) && m*p >= 4 {
				continue // grid lines at quarters: keep them whole
			}
			return m * p
		}
	}
	return 10 * p
}

func esc(s string) string { return template.HTMLEscapeString(s) }
