package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
)

// ErrBadSweep is matched (errors.Is) by every error of ParseSweep.
var ErrBadSweep = errors.New("bad sweep")

// Settings a sweep may vary.
const (
	SweepWorkers = "workers"
	SweepBatch   = "batch"
)

// SweepSpec is a setting and the values a sweep runs it at.
type SweepSpec struct {
	// Param is SweepWorkers or SweepBatch.
	Param  string
	Values []int
}

// ParseSweep parses "workers=1,2,4" or "batch=10,100,500". Errors match
// ErrBadSweep.
func ParseSweep(s string) (SweepSpec, error) {
	param, list, ok := strings.Cut(strings.TrimSpace(s), "=")
	param = strings.TrimSpace(param)
	if !ok || (param != SweepWorkers && param != SweepBatch) {
		return SweepSpec{}, fmt.Errorf("%w: %q is not workers=N,N,... or batch=N,N,... (e.g. workers=1,2,4)", ErrBadSweep, s)
	}
	sp := SweepSpec{Param: param}
	for v := range strings.SplitSeq(list, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 1 {
			return SweepSpec{}, fmt.Errorf("%w: %s value %q is not an integer >= 1", ErrBadSweep, param, v)
		}
		if slices.Contains(sp.Values, n) {
			return SweepSpec{}, fmt.Errorf("%w: %s=%d given twice", ErrBadSweep, param, n)
		}
		sp.Values = append(sp.Values, n)
	}
	return sp, nil
}

// SweepReport is the result of a sweep: one report per value.
type SweepReport struct {
	Param  string    `json:"param"`
	Values []int     `json:"values"`
	Points []*Report `json:"points"`
}

// Sweep runs the engine and the baseline at each value of the spec, each
// point on fresh data, and reports them all.
func Sweep(ctx context.Context, cfg Config, g *Generated, spec SweepSpec) (*SweepReport, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.CPUProfile != nil {
		return nil, errors.New("bench: a CPU profile covers one run, not a sweep")
	}
	if len(spec.Values) == 0 {
		return nil, fmt.Errorf("%w: no values", ErrBadSweep)
	}
	s, err := openSite(ctx, cfg.Target)
	if err != nil {
		return nil, err
	}
	sr := &SweepReport{Param: spec.Param, Values: spec.Values}
	for _, v := range spec.Values {
		pc := cfg
		switch spec.Param {
		case SweepWorkers:
			pc.Workers = v
		case SweepBatch:
			pc.Batch = v
		default:
			return nil, errors.Join(fmt.Errorf("%w: unknown setting %q", ErrBadSweep, spec.Param), s.close())
		}
		rep, err := s.run(ctx, pc, g, spec.Param+strconv.Itoa(v))
		if err != nil {
			return nil, errors.Join(fmt.Errorf("%s=%d: %w", spec.Param, v, err), s.close())
		}
		sr.Points = append(sr.Points, rep)
	}
	return sr, s.close()
}

// WriteJSON writes the sweep as one JSON object and a newline.
func (sr *SweepReport) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(sr)
}

// WriteText writes the sweep as a table.
func (sr *SweepReport) WriteText(w io.Writer) error {
	if len(sr.Points) == 0 {
		return nil
	}
	var b strings.Builder
	r := sr.Points[0]
	wl := r.Workload
	fmt.Fprintf(&b, "followflow bench sweep over %s: %s\n", sr.Param, r.Where)
	fmt.Fprintf(&b, "workload  %d accounts (%d users, %d opportunities each), %d workflows, %d events (%s), seed %d\n",
		wl.Accounts, wl.UsersPerAccount, wl.OpportunitiesPerAccount, wl.Workflows, wl.Events, wl.Mix, wl.Seed)
	fmt.Fprintf(&b, "machine   %s/%s, %d CPUs, %s\n\n", r.Machine.OS, r.Machine.Arch, r.Machine.CPUs, r.Machine.GoVersion)
	var table strings.Builder
	tw := tabwriter.NewWriter(&table, 0, 0, 3, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "workers\tbatch\tengine ev/s\tbaseline ev/s\tengine/baseline\tengine CPU µs/event\tbaseline CPU µs/event\t\n")
	for _, p := range sr.Points {
		var bEPS, ratio, bCPU string
		if p.Baseline != nil {
			bEPS = group(p.Baseline.EventsPerSec, 0)
			ratio = strconv.FormatFloat(p.Ratio.Throughput, 'f', 2, 64)
			bCPU = group(p.Baseline.CPUSecondsPerEvent*1e6, 1)
		}
		fmt.Fprintf(tw, "%d\t%d\t%s\t%s\t%s\t%s\t%s\t\n", p.Workers, p.Batch,
			group(p.Engine.EventsPerSec, 0), bEPS, ratio, group(p.Engine.CPUSecondsPerEvent*1e6, 1), bCPU)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	b.WriteString(unpad(table.String()))
	_, err := io.WriteString(w, b.String())
	return err
}
