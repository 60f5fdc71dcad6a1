package bench

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// progress draws a one-line progress bar on a terminal, redrawn in place
// with a carriage return (and ESC [K, which clears the rest of the line); a
// nil writer draws nothing.
type progress struct {
	w     io.Writer
	name  string
	total int
	start time.Time
	drawn bool
}

func newProgress(w io.Writer, name string, total int) *progress {
	return &progress{w: w, name: name, total: total, start: time.Now()}
}

const barWidth = 30

func (p *progress) set(n int) {
	if p.w == nil || p.total <= 0 {
		return
	}
	n = min(max(n, 0), p.total)
	fill := barWidth * n / p.total
	rate := float64(n) / max(time.Since(p.start).Seconds(), 1e-9)
	fmt.Fprintf(p.w, "\r%-10s [%s%s] %3d%% %s/%s  %s/s\x1b[K", p.name,
		strings.Repeat("=", fill), strings.Repeat(" ", barWidth-fill),
		100*n/p.total, group(float64(n), 0), group(float64(p.total), 0), group(rate, 0))
	p.drawn = true
}

// finish ends the bar's line.
func (p *progress) finish() {
	if p.w != nil && p.drawn {
		fmt.Fprintln(p.w)
		p.drawn = false
	}
}
