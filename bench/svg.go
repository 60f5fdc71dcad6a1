package bench

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// Chart geometry, in SVG user units.
const (
	svgWidth, svgHeight                = 780, 510
	svgLeft, svgRight, svgTop, svgBott = 90, 40, 124, 110
)

// WriteSVG draws the sweep: engine and baseline throughput (events/s)
// against the swept setting, as two lines with their values, on a plain
// chart with axes, labels and a legend.
func (sr *SweepReport) WriteSVG(w io.Writer) error {
	if len(sr.Points) == 0 {
		return fmt.Errorf("bench: an empty sweep has nothing to draw")
	}
	type series struct {
		name, color, dash string
		values            []float64
		ratios            []float64 // engine / baseline at each point, or nil
	}
	eng := series{name: "engine: decode, process, commit, ack (× baseline)", color: "#1f5fa8"}
	base := series{name: "baseline: the queue alone, no engine", color: "#d9730d", dash: "7 5"}
	hasBase := false
	ymax := 0.0
	for _, p := range sr.Points {
		eng.values = append(eng.values, p.Engine.EventsPerSec)
		if p.Ratio != nil {
			eng.ratios = append(eng.ratios, p.Ratio.Throughput)
		} else {
			eng.ratios = append(eng.ratios, math.NaN())
		}
		ymax = math.Max(ymax, p.Engine.EventsPerSec)
		if p.Baseline != nil {
			hasBase = true
			base.values = append(base.values, p.Baseline.EventsPerSec)
			ymax = math.Max(ymax, p.Baseline.EventsPerSec)
		} else {
			base.values = append(base.values, math.NaN())
		}
	}
	step, top := niceScale(ymax, 5)
	plotW := float64(svgWidth - svgLeft - svgRight)
	plotH := float64(svgHeight - svgTop - svgBott)
	n := len(sr.Points)
	x := func(i int) float64 {
		if n == 1 {
			return svgLeft + plotW/2
		}
		pad := plotW * 0.08
		return svgLeft + pad + float64(i)*(plotW-2*pad)/float64(n-1)
	}
	y := func(v float64) float64 { return svgTop + plotH - v/top*plotH }

	var b strings.Builder
	r := sr.Points[0]
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="Helvetica, Arial, sans-serif" font-size="13">`+"\n", svgWidth, svgHeight, svgWidth, svgHeight)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="#ffffff"/>`+"\n")
	title := fmt.Sprintf("followflow bench on %s: throughput by %s", r.Backend, sweepLabel(sr.Param))
	fmt.Fprintf(&b, `<text x="%d" y="28" font-size="17" font-weight="bold">%s</text>`+"\n", svgLeft, esc(title))
	wl := r.Workload
	other := fmt.Sprintf("batch %d", r.Batch)
	if sr.Param == SweepBatch {
		other = fmt.Sprintf("%d workers", r.Workers)
	}
	for i, line := range []string{
		fmt.Sprintf("%s events, %s workflows, %d accounts × %d opportunities; %s, %d partitions, %s",
			group(float64(wl.Events), 0), group(float64(wl.Workflows), 0), wl.Accounts, wl.OpportunitiesPerAccount,
			other, r.Partitions, paceText(r.Rate)),
		"event mix " + wl.Mix,
		fmt.Sprintf("%s/%s, %d CPUs, %s", r.Machine.OS, r.Machine.Arch, r.Machine.CPUs, r.Machine.GoVersion),
	} {
		fmt.Fprintf(&b, `<text x="%d" y="%d" fill="#555">%s</text>`+"\n", svgLeft, 52+18*i, esc(line))
	}

	// Grid and y axis.
	for v := 0.0; v <= top+step/2; v += step {
		fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#e4e4e4"/>`+"\n", svgLeft, y(v), svgWidth-svgRight, y(v))
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end" fill="#333">%s</text>`+"\n", svgLeft-8, y(v)+4, esc(group(v, 0)))
	}
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#333"/>`+"\n", svgLeft, svgTop, svgLeft, svgHeight-svgBott)
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#333"/>`+"\n", svgLeft, svgHeight-svgBott, svgWidth-svgRight, svgHeight-svgBott)
	fmt.Fprintf(&b, `<text transform="translate(24 %.1f) rotate(-90)" text-anchor="middle" fill="#333">events/s (first push to last applied)</text>`+"\n", svgTop+plotH/2)
	// x axis.
	for i, v := range sr.Values {
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#333"/>`+"\n", x(i), svgHeight-svgBott, x(i), svgHeight-svgBott+5)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle" fill="#333">%d</text>`+"\n", x(i), svgHeight-svgBott+20, v)
	}
	fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle" fill="#333">%s</text>`+"\n", svgLeft+plotW/2, svgHeight-svgBott+44, esc(sweepLabel(sr.Param)))

	line := func(s series) {
		var pts []string
		for i, v := range s.values {
			if !math.IsNaN(v) {
				pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(i), y(v)))
			}
		}
		dash := ""
		if s.dash != "" {
			dash = fmt.Sprintf(` stroke-dasharray="%s"`, s.dash)
		}
		fmt.Fprintf(&b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="2.5"%s/>`+"\n", strings.Join(pts, " "), s.color, dash)
		for i, v := range s.values {
			if math.IsNaN(v) {
				continue
			}
			fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="4" fill="%s"/>`+"\n", x(i), y(v), s.color)
			label := group(v, 0)
			if s.ratios != nil && !math.IsNaN(s.ratios[i]) {
				label += fmt.Sprintf(" (%.2f×)", s.ratios[i])
			}
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle" font-size="12" fill="%s">%s</text>`+"\n", x(i), y(v)-9, s.color, esc(label))
		}
	}
	if hasBase {
		line(base)
	}
	line(eng)

	// Legend, under the x axis.
	items := []series{eng}
	if hasBase {
		items = append(items, base)
	}
	lx, ly := float64(svgLeft), float64(svgHeight-svgBott+66)
	for _, s := range items {
		dash := ""
		if s.dash != "" {
			dash = fmt.Sprintf(` stroke-dasharray="%s"`, s.dash)
		}
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="2.5"%s/>`+"\n", lx, ly, lx+28, ly, s.color, dash)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" fill="#222">%s</text>`+"\n", lx+36, ly+4, esc(s.name))
		ly += 20
	}
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func sweepLabel(param string) string {
	if param == SweepBatch {
		return "batch size (messages per fetch)"
	}
	return "workers (consumers)"
}

func paceText(rate float64) string {
	if rate > 0 {
		return "paced at " + strconv.FormatFloat(rate, 'f', -1, 64) + " events/s"
	}
	return "unpaced"
}

// niceScale returns a tick step of 1, 2 or 5 times a power of ten giving
// about ticks ticks, and the top of the axis (a multiple of the step at or
// above max).
func niceScale(maxV float64, ticks int) (step, top float64) {
	if maxV <= 0 || math.IsNaN(maxV) {
		return 1, float64(ticks)
	}
	raw := maxV / float64(ticks)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if step = m * mag; step >= raw {
			break
		}
	}
	top = math.Ceil(maxV*1.08/step) * step
	return step, top
}

var svgEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;")

func esc(s string) string { return svgEscaper.Replace(s) }
