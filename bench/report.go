package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// Phase is what one phase of a run measured: the engine, or the baseline.
type Phase struct {
	// Events were pushed; Applied were committed by the engine (or
	// acknowledged by the baseline); DeadLettered went to the dead letters.
	Events       int `json:"events"`
	Applied      int `json:"applied"`
	DeadLettered int `json:"dead_lettered"`
	// TransientFailures counts processing attempts that failed and were
	// retried.
	TransientFailures int `json:"transient_failures"`
	// Seconds is the wall time from the first push to the last event
	// applied; EventsPerSec is Applied / Seconds.
	Seconds      float64 `json:"seconds"`
	EventsPerSec float64 `json:"events_per_sec"`
	// PushSeconds is the time the producer took to push every event.
	PushSeconds float64 `json:"push_seconds"`
	// LoadSeconds is the time Store.Load took (engine only).
	LoadSeconds float64 `json:"load_seconds,omitempty"`
	// Latency is from the push of an event to its commit (engine) or
	// acknowledgement (baseline), in milliseconds.
	Latency LatencyMS `json:"latency_ms"`
	// CPUSeconds is this process's user + system CPU time over the
	// measured window; CPUSecondsPerEvent divides it by Applied.
	CPUSeconds         float64 `json:"cpu_seconds"`
	CPUSecondsPerEvent float64 `json:"cpu_seconds_per_event"`
	// ServerCPUSeconds is the Redis server's CPU time over the window
	// (INFO cpu; the server may serve others too). Redis only.
	ServerCPUSeconds *float64 `json:"server_cpu_seconds,omitempty"`
	// PeakRSSBytes is the process's peak resident set size: over the phase
	// when PeakRSSScope is "phase", since the process started when it is
	// "process".
	PeakRSSBytes int64  `json:"peak_rss_bytes"`
	PeakRSSScope string `json:"peak_rss_scope,omitempty"`
	// StartRSSBytes is the resident set size when the phase started, after
	// a garbage collection: mostly the generated workload the bench holds.
	// PeakRSSBytes minus it is what the phase added.
	StartRSSBytes int64 `json:"start_rss_bytes,omitempty"`
}

// LatencyMS is a latency summary in milliseconds.
type LatencyMS struct {
	P50  float64 `json:"p50"`
	P95  float64 `json:"p95"`
	P99  float64 `json:"p99"`
	Max  float64 `json:"max"`
	Mean float64 `json:"mean"`
}

func latencyMS(l Latency) LatencyMS {
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	return LatencyMS{P50: ms(l.P50), P95: ms(l.P95), P99: ms(l.P99), Max: ms(l.Max), Mean: ms(l.Mean)}
}

// Ratios compare the engine with the baseline: engine / baseline.
type Ratios struct {
	Throughput  float64 `json:"throughput"`
	LatencyP50  float64 `json:"latency_p50"`
	LatencyP99  float64 `json:"latency_p99"`
	CPUPerEvent float64 `json:"cpu_per_event"`
}

func ratios(e, b *Phase) *Ratios {
	div := func(x, y float64) float64 {
		if y == 0 {
			return 0
		}
		return x / y
	}
	return &Ratios{
		Throughput: div(e.EventsPerSec, b.EventsPerSec),
		LatencyP50: div(e.Latency.P50, b.Latency.P50), LatencyP99: div(e.Latency.P99, b.Latency.P99),
		CPUPerEvent: div(e.CPUSecondsPerEvent, b.CPUSecondsPerEvent),
	}
}

// WorkloadInfo describes the generated workload in a report.
type WorkloadInfo struct {
	Accounts                int    `json:"accounts"`
	UsersPerAccount         int    `json:"users_per_account"`
	OpportunitiesPerAccount int    `json:"opportunities_per_account"`
	ContactsPerAccount      int    `json:"contacts_per_account"`
	Workflows               int    `json:"workflows"`
	Events                  int    `json:"events"`
	Mix                     string `json:"mix"`
	Seed                    uint64 `json:"seed"`
}

func workloadInfo(w Workload) WorkloadInfo {
	return WorkloadInfo{
		Accounts: w.Accounts, UsersPerAccount: w.Users, OpportunitiesPerAccount: w.Opportunities,
		ContactsPerAccount: contactsPer(w.Opportunities), Workflows: w.Workflows, Events: w.Events,
		Mix: w.Mix.String(), Seed: w.Seed,
	}
}

// Machine describes where the bench ran.
type Machine struct {
	OS         string `json:"os"`
	Arch       string `json:"arch"`
	CPUs       int    `json:"cpus"`
	GOMAXPROCS int    `json:"gomaxprocs"`
	GoVersion  string `json:"go_version"`
}

func thisMachine() Machine {
	return Machine{OS: runtime.GOOS, Arch: runtime.GOARCH, CPUs: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0), GoVersion: runtime.Version()}
}

// Report is the result of a run.
type Report struct {
	// Backend is "sqlite" or "redis"; Where says more (file, address and
	// prefix).
	Backend string `json:"backend"`
	Where   string `json:"where"`
	// Workers, Batch, Rate (events/s, 0: unpaced), PushChunk and
	// Partitions are the run's settings.
	Workers    int          `json:"workers"`
	Batch      int          `json:"batch"`
	Rate       float64      `json:"rate"`
	PushChunk  int          `json:"push_chunk"`
	Partitions int          `json:"partitions"`
	Workload   WorkloadInfo `json:"workload"`
	Engine     Phase        `json:"engine"`
	// Baseline and Ratio are absent when the baseline was skipped.
	Baseline *Phase  `json:"baseline,omitempty"`
	Ratio    *Ratios `json:"ratio,omitempty"`
	Machine  Machine `json:"machine"`
}

func newReport(s *site, cfg Config, g *Generated) *Report {
	return &Report{
		Backend: s.backendName(), Where: s.where(),
		Workers: cfg.Workers, Batch: cfg.Batch, Rate: cfg.Rate, PushChunk: cfg.PushChunk, Partitions: s.t.Partitions,
		Workload: workloadInfo(g.Workload), Machine: thisMachine(),
	}
}

// WriteJSON writes the report as one JSON object and a newline.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteText writes the report for people.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	wl := r.Workload
	fmt.Fprintf(&b, "followflow bench: %s\n", r.Where)
	fmt.Fprintf(&b, "workload  %d accounts (%d users, %d opportunities, %d contacts each), %d workflows, %d events (%s), seed %d\n",
		wl.Accounts, wl.UsersPerAccount, wl.OpportunitiesPerAccount, wl.ContactsPerAccount, wl.Workflows, wl.Events, wl.Mix, wl.Seed)
	pace := "unpaced"
	if r.Rate > 0 {
		pace = "paced at " + group(r.Rate, 0) + " events/s"
	}
	fmt.Fprintf(&b, "run       %d workers, batch %d, %d partitions, pushes of %d, %s\n", r.Workers, r.Batch, r.Partitions, r.PushChunk, pace)
	m := r.Machine
	fmt.Fprintf(&b, "machine   %s/%s, %d CPUs, %s\n\n", m.OS, m.Arch, m.CPUs, m.GoVersion)

	var table strings.Builder
	tw := tabwriter.NewWriter(&table, 0, 0, 3, ' ', tabwriter.AlignRight)
	base := r.Baseline
	const nameWidth = 36 // names are padded: the table aligns right
	if base != nil {
		fmt.Fprintf(tw, "%-*s\tengine\tbaseline\tengine/baseline\t\n", nameWidth, "")
	} else {
		fmt.Fprintf(tw, "%-*s\tengine\t\n", nameWidth, "")
	}
	row := func(name string, e, bv float64, prec int, ratio bool) {
		name = fmt.Sprintf("%-*s", nameWidth, name)
		if base == nil {
			fmt.Fprintf(tw, "%s\t%s\t\n", name, group(e, prec))
			return
		}
		rs := ""
		if ratio && bv != 0 {
			rs = strconv.FormatFloat(e/bv, 'f', 2, 64)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t\n", name, group(e, prec), group(bv, prec), rs)
	}
	var bp Phase
	if base != nil {
		bp = *base
	}
	row("events/s", r.Engine.EventsPerSec, bp.EventsPerSec, 0, true)
	row("wall s (first push to last applied)", r.Engine.Seconds, bp.Seconds, 2, false)
	row("push s", r.Engine.PushSeconds, bp.PushSeconds, 2, false)
	row("latency p50 ms", r.Engine.Latency.P50, bp.Latency.P50, 1, true)
	row("latency p95 ms", r.Engine.Latency.P95, bp.Latency.P95, 1, true)
	row("latency p99 ms", r.Engine.Latency.P99, bp.Latency.P99, 1, true)
	row("latency max ms", r.Engine.Latency.Max, bp.Latency.Max, 1, false)
	row("CPU µs/event (this process)", r.Engine.CPUSecondsPerEvent*1e6, bp.CPUSecondsPerEvent*1e6, 1, true)
	if r.Engine.ServerCPUSeconds != nil {
		per := func(p Phase) float64 {
			if p.ServerCPUSeconds == nil || p.Applied == 0 {
				return 0
			}
			return *p.ServerCPUSeconds / float64(p.Applied) * 1e6
		}
		row("CPU µs/event (redis-server)", per(r.Engine), per(bp), 1, true)
	}
	row("peak RSS MiB", float64(r.Engine.PeakRSSBytes)/(1<<20), float64(bp.PeakRSSBytes)/(1<<20), 0, false)
	if r.Engine.StartRSSBytes > 0 {
		row("RSS at the start MiB (the workload)", float64(r.Engine.StartRSSBytes)/(1<<20), float64(bp.StartRSSBytes)/(1<<20), 0, false)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	b.WriteString(unpad(table.String()))
	fmt.Fprintf(&b, "\nloaded the data in %.2fs; %d of %d events applied", r.Engine.LoadSeconds, r.Engine.Applied, r.Engine.Events)
	if r.Engine.DeadLettered > 0 || r.Engine.TransientFailures > 0 {
		fmt.Fprintf(&b, ", %d dead-lettered, %d transient failures", r.Engine.DeadLettered, r.Engine.TransientFailures)
	}
	b.WriteString("\n")
	if r.Rate == 0 {
		b.WriteString("unpaced: latency includes the wait behind every event pushed before; use --rate for latency at a given load\n")
	}
	if r.Engine.PeakRSSScope == "process" {
		b.WriteString("peak RSS is the process's since it started (the phase peak could not be reset)\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// unpad removes the padding a right-aligned tabwriter puts before the
// first column of every line.
func unpad(table string) string {
	var b strings.Builder
	for line := range strings.Lines(table) {
		b.WriteString(strings.TrimPrefix(line, "   "))
	}
	return b.String()
}

// group formats v with prec decimals and thousands separators.
func group(v float64, prec int) string {
	s := strconv.FormatFloat(v, 'f', prec, 64)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	intPart, frac, hasFrac := strings.Cut(s, ".")
	var out strings.Builder
	for i, c := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			out.WriteByte(',')
		}
		out.WriteRune(c)
	}
	if hasFrac {
		out.WriteString("." + frac)
	}
	if neg {
		return "-" + out.String()
	}
	return out.String()
}
