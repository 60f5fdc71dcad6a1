package bench_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/followflow/followflow/bench"
	"github.com/followflow/followflow/cli"
	"github.com/followflow/followflow/internal/redistest"
)

// tiny is a workload that runs in a fraction of a second.
func tiny(t *testing.T) *bench.Generated {
	t.Helper()
	g, err := bench.Generate(bench.Workload{
		Accounts: 3, Users: 5, Opportunities: 12, Workflows: 24, Events: 300,
		Mix: bench.MustParseMix("created=2,updated=1,stage=2,status=1,tag=2,owner=1,activity=2,contact=1"),
	})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// checkPhase asserts that a phase's figures are sane.
func checkPhase(t *testing.T, name string, p *bench.Phase, events int) {
	t.Helper()
	if p.Events != events || p.Applied != events || p.DeadLettered != 0 {
		t.Errorf("%s: %d events, %d applied, %d dead-lettered; want all %d applied", name, p.Events, p.Applied, p.DeadLettered, events)
	}
	if p.Seconds <= 0 || p.EventsPerSec <= 0 || p.PushSeconds <= 0 {
		t.Errorf("%s: %.3fs, %.0f events/s, push %.3fs; want positive figures", name, p.Seconds, p.EventsPerSec, p.PushSeconds)
	}
	if got := float64(p.Applied) / p.Seconds; got < p.EventsPerSec*0.99 || got > p.EventsPerSec*1.01 {
		t.Errorf("%s: events/s %.1f is not applied/seconds %.1f", name, p.EventsPerSec, got)
	}
	l := p.Latency
	// Max equals the wall time when the first event pushed is the last
	// applied; the two are converted to ms differently (a Duration divided,
	// Seconds times 1000), which may differ in the last bit.
	wallMS := p.Seconds * 1000 * (1 + 1e-12)
	if !(0 < l.P50 && l.P50 <= l.P95 && l.P95 <= l.P99 && l.P99 <= l.Max && l.Max <= wallMS) {
		t.Errorf("%s: latency %+v ms is not 0 < p50 <= p95 <= p99 <= max <= wall (%.1f ms)", name, l, p.Seconds*1000)
	}
	if p.CPUSeconds <= 0 || p.CPUSecondsPerEvent <= 0 || p.CPUSecondsPerEvent > p.CPUSeconds {
		t.Errorf("%s: CPU %.4fs, %.6fs per event", name, p.CPUSeconds, p.CPUSecondsPerEvent)
	}
	if p.PeakRSSBytes < 1<<20 {
		t.Errorf("%s: peak RSS %d bytes", name, p.PeakRSSBytes)
	}
}

func checkReport(t *testing.T, rep *bench.Report, backend string, events int) {
	t.Helper()
	if rep.Backend != backend || rep.Workers != 2 || rep.Batch != 10 {
		t.Errorf("report of %s, %d workers, batch %d; want %s, 2, 10", rep.Backend, rep.Workers, rep.Batch, backend)
	}
	checkPhase(t, "engine", &rep.Engine, events)
	if rep.Baseline == nil || rep.Ratio == nil {
		t.Fatal("no baseline in the report")
	}
	checkPhase(t, "baseline", rep.Baseline, events)
	if want := rep.Engine.EventsPerSec / rep.Baseline.EventsPerSec; rep.Ratio.Throughput != want {
		t.Errorf("throughput ratio %v, want %v", rep.Ratio.Throughput, want)
	}
	var text bytes.Buffer
	if err := rep.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"events/s", "latency p99 ms", "CPU µs/event", "peak RSS MiB", "engine/baseline", "300 of 300 events applied"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text report lacks %q:\n%s", want, text.String())
		}
	}
	var js bytes.Buffer
	if err := rep.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var back bench.Report
	if err := json.Unmarshal(js.Bytes(), &back); err != nil || back.Engine.Applied != events {
		t.Errorf("JSON report does not read back (%v):\n%s", err, js.String())
	}
}

func TestRunSQLite(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := filepath.Join(dir, "bench.db")
	g := tiny(t)
	rep, err := bench.Run(context.Background(), bench.Config{
		Target: bench.Target{DBPath: db, Partitions: 4}, Workers: 2, Batch: 10, PushChunk: 50,
	}, g)
	if err != nil {
		t.Fatal(err)
	}
	checkReport(t, rep, "sqlite", len(g.Events))
	left, _ := os.ReadDir(dir)
	if len(left) > 0 {
		t.Errorf("the run left files behind: %v", left)
	}
}

func TestRunRefusesAnExistingDatabase(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "bench.db")
	if err := os.WriteFile(db, []byte("precious"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := bench.Run(context.Background(), bench.Config{Target: bench.Target{DBPath: db}}, tiny(t))
	if err == nil || !strings.Contains(err.Error(), "exists already") {
		t.Errorf("Run on an existing file: %v", err)
	}
	if b, _ := os.ReadFile(db); string(b) != "precious" {
		t.Errorf("the existing file was changed: %q", b)
	}
}

func TestRunRedis(t *testing.T) {
	t.Parallel()
	client, prefix := redistest.Shared(t)
	url := "redis://" + client.Options().Addr
	g := tiny(t)
	rep, err := bench.Run(context.Background(), bench.Config{
		Target: bench.Target{RedisURL: url, Prefix: prefix, Partitions: 4}, Workers: 2, Batch: 10, PushChunk: 50,
	}, g)
	if err != nil {
		t.Fatal(err)
	}
	checkReport(t, rep, "redis", len(g.Events))
	if rep.Engine.ServerCPUSeconds == nil {
		t.Error("no redis-server CPU in a Redis report")
	}
	keys, err := client.Keys(context.Background(), prefix+"*").Result()
	if err != nil || len(keys) > 0 {
		t.Errorf("the run left keys behind: %v, %v", keys, err)
	}

	// A prefix with keys under it is refused, and its keys are kept.
	if err := client.Set(context.Background(), prefix+":mine", "x", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	_, err = bench.Run(context.Background(), bench.Config{Target: bench.Target{RedisURL: url, Prefix: prefix}}, g)
	if err == nil || !strings.Contains(err.Error(), "exist already") {
		t.Errorf("Run on a used prefix: %v", err)
	}
	if n, _ := client.Exists(context.Background(), prefix+":mine").Result(); n != 1 {
		t.Error("a refused run deleted a key it did not create")
	}
}

func TestSweepDrawsAChart(t *testing.T) {
	t.Parallel()
	g := tiny(t)
	spec, err := bench.ParseSweep("batch=5,50")
	if err != nil {
		t.Fatal(err)
	}
	sr, err := bench.Sweep(context.Background(), bench.Config{Target: bench.Target{Partitions: 4}, Workers: 1, PushChunk: 100}, g, spec)
	if err != nil {
		t.Fatal(err)
	}
	if len(sr.Points) != 2 || sr.Points[0].Batch != 5 || sr.Points[1].Batch != 50 {
		t.Fatalf("sweep points: %+v", sr.Points)
	}
	var svg bytes.Buffer
	if err := sr.WriteSVG(&svg); err != nil {
		t.Fatal(err)
	}
	dec := xml.NewDecoder(bytes.NewReader(svg.Bytes()))
	lines := 0
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("the SVG is not well-formed XML: %v\n%s", err, svg.String())
		}
		if el, ok := tok.(xml.StartElement); ok && el.Name.Local == "polyline" {
			lines++
		}
	}
	if lines != 2 {
		t.Errorf("%d lines in the chart, want 2 (engine and baseline)", lines)
	}
	for _, want := range []string{"engine", "baseline", "batch size", "events/s"} {
		if !strings.Contains(svg.String(), want) {
			t.Errorf("the chart lacks %q", want)
		}
	}
}

func TestParseSweep(t *testing.T) {
	sp, err := bench.ParseSweep("workers=1,2,4")
	if err != nil || sp.Param != "workers" || len(sp.Values) != 3 || sp.Values[2] != 4 {
		t.Errorf("ParseSweep(workers=1,2,4) = %+v, %v", sp, err)
	}
	for _, in := range []string{"", "workers", "workers=", "threads=1", "batch=0", "batch=1,1", "batch=x"} {
		if _, err := bench.ParseSweep(in); !errors.Is(err, bench.ErrBadSweep) {
			t.Errorf("ParseSweep(%q): %v, want ErrBadSweep", in, err)
		}
	}
}

func TestStaleScan(t *testing.T) {
	t.Parallel()
	for _, st := range []string{bench.StoreMemory, bench.StoreSQLite} {
		rep, err := bench.Stale(context.Background(), bench.StaleConfig{
			Store: st, Target: bench.Target{DBPath: filepath.Join(t.TempDir(), "stale.db")},
			Sizes: []int{1000, 6000}, Stale: 40, Accounts: 4, Repeat: 3,
		})
		if err != nil {
			t.Fatalf("%s: %v", st, err)
		}
		if len(rep.Points) != 2 || rep.Points[1].Opportunities != 6000 {
			t.Fatalf("%s: points %+v", st, rep.Points)
		}
		for _, p := range rep.Points {
			if p.Found != 40 || p.ScanMS <= 0 || p.ScanMS > p.ScanMedianMS || p.ScanMedianMS > p.ScanMaxMS {
				t.Errorf("%s: point %+v", st, p)
			}
		}
		if rep.Ratio <= 0 || rep.Met != (rep.Ratio <= bench.StaleTarget) {
			t.Errorf("%s: ratio %v, met %v", st, rep.Ratio, rep.Met)
		}
	}
}

func TestCommandLine(t *testing.T) {
	t.Parallel()
	run := func(args ...string) (string, string, int) {
		var stdout, stderr bytes.Buffer
		code := cli.Main(context.Background(), args, &stdout, &stderr, func(string) string { return "" })
		return stdout.String(), stderr.String(), code
	}
	out, errOut, code := run("bench", "--accounts", "2", "--users", "3", "--opportunities", "5", "--workflows", "6",
		"--events", "120", "--batch", "10", "--partitions", "4", "--format", "json")
	if code != 0 {
		t.Fatalf("bench exit %d: %s", code, errOut)
	}
	if errOut != "" {
		t.Errorf("a progress bar on a stderr that is not a terminal: %q", errOut)
	}
	var rep bench.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("--format json: %v\n%s", err, out)
	}
	if rep.Engine.Applied != 120 || rep.Baseline == nil || rep.Baseline.Applied != 120 || rep.Workers != 2 {
		t.Errorf("report: %+v", rep)
	}

	out, errOut, code = run("bench", "stale", "--sizes", "500,1000", "--stale", "10", "--accounts", "2", "--repeat", "2")
	if code != 0 || !strings.Contains(out, "1k / 500") {
		t.Errorf("bench stale exit %d: %s%s", code, out, errOut)
	}

	for _, args := range [][]string{
		{"bench", "--mix", "created=1,bogus=2"},
		{"bench", "--format", "yaml"},
		{"bench", "--workers", "0"},
		{"bench", "--svg", "x.svg", "--sweep", "threads=1"},
		{"bench", "--svg", "x.svg", "--cpuprofile", "cpu.pprof"},
		{"bench", "stale", "--sizes", "1000,x"},
		{"bench", "stale", "--store", "oracle"},
	} {
		if _, errOut, code := run(args...); code != 2 {
			t.Errorf("%v: exit %d, want 2 (%s)", args, code, errOut)
		}
	}
}
