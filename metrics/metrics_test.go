package metrics_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/followflow/followflow/engine"
	"github.com/followflow/followflow/event"
	"github.com/followflow/followflow/metrics"
	"github.com/followflow/followflow/record"
	"github.com/followflow/followflow/store"
)

func TestServesMetricsAndHealth(t *testing.T) {
	t.Parallel()
	m := metrics.New(nil)
	m.Processed(&event.Event{Type: event.OpportunityCreated}, engine.Result{}, 3*time.Millisecond)
	m.Processed(&event.Event{Type: event.OpportunityCreated}, engine.Result{Duplicate: true}, time.Millisecond)
	m.Failed("transient")
	m.DeadLettered("bad json")
	m.OnCommit(&store.Changeset{History: []record.HistoryEntry{{Outcome: record.Added}, {Outcome: record.LimitReached}}})

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addr := make(chan net.Addr, 1)
	go m.Serve(ctx, "127.0.0.1:0", func(a net.Addr) { addr <- a })
	base := "http://" + (<-addr).String()
	get := func(path string) string {
		t.Helper()
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %s", path, resp.Status)
		}
		return string(b)
	}
	if got := get("/healthz"); got != "ok\n" {
		t.Errorf("/healthz = %q", got)
	}
	body := get("/metrics")
	for _, want := range []string{
		`followflow_events_processed_total{result="applied",type="opportunity.created"} 1`,
		`followflow_events_processed_total{result="duplicate",type="opportunity.created"} 1`,
		`followflow_events_failed_total{reason="transient"} 1`,
		`followflow_events_dead_lettered_total 1`,
		`followflow_follower_outcomes_total{outcome="added"} 1`,
		`followflow_follower_outcomes_total{outcome="limit_reached"} 1`,
		`followflow_event_processing_seconds_count 2`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}
