package simulate_test

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"testing"
	"time"

	"github.com/followflow/followflow/event"
	"github.com/followflow/followflow/record"
	"github.com/followflow/followflow/simulate"
	"github.com/followflow/followflow/trace"
	"github.com/followflow/followflow/workflow"
)

var t0 = time.Date(2026, 11, 3, 9, 0, 0, 0, time.UTC)

const tagWorkflow = `
id: specialist
account_id: acme
trigger: {type: opportunity.tag_applied, tag: Technical Evaluation}
steps:
  - add_followers: {users: [u_spec]}
`

func input(t *testing.T, events iter.Seq2[*event.Event, error]) simulate.Input {
	t.Helper()
	wfs, diags := workflow.Parse("test.yaml", []byte(tagWorkflow))
	if diags.HasErrors() {
		t.Fatal(diags.Err())
	}
	data := &record.Dataset{
		Accounts: []record.Account{{ID: "acme"}},
		Users: []record.User{
			{ID: "u_rep", AccountID: "acme", Role: record.RoleUser, Active: true},
			{ID: "u_spec", AccountID: "acme", Role: record.RoleUser, Active: true},
		},
		Opportunities: []record.Opportunity{{ID: "opp_1", AccountID: "acme", Stage: "New", Status: record.StatusOpen,
			OwnerID: "u_rep", CreatedAt: t0, UpdatedAt: t0, LastOwnerActivityAt: t0}},
	}
	return simulate.Input{Workflows: workflow.NewSet(wfs), Data: data, Events: events}
}

func tagApplied(id string, at time.Time) *event.Event {
	ev := &event.Event{ID: id, Type: event.OpportunityTagApplied, AccountID: "acme", OccurredAt: at, OpportunityID: "opp_1"}
	ev.Data.Tag = "Technical Evaluation"
	return ev
}

// TestEventsAreReadOneAtATime: Run takes the next event only once it has
// processed the one before, and keeps no trace when it hands them to emit,
// so that a stream of any length fits in memory.
func TestEventsAreReadOneAtATime(t *testing.T) {
	const n = 5
	taken, emitted := 0, 0
	events := func(yield func(*event.Event, error) bool) {
		for i := range n {
			if emitted != taken {
				t.Errorf("event %d taken with %d of %d traces emitted", i, emitted, taken)
			}
			taken++
			if !yield(tagApplied(fmt.Sprintf("e%d", i), t0.Add(time.Duration(i)*time.Minute)), nil) {
				return
			}
		}
	}
	out, err := simulate.Run(context.Background(), input(t, events), func(*trace.Event) error {
		emitted++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if taken != n || emitted != n {
		t.Errorf("took %d events and emitted %d traces, want %d each", taken, emitted, n)
	}
	if len(out.Traces) != 0 {
		t.Errorf("kept %d traces that emit received", len(out.Traces))
	}
	if got := out.After.Opportunities[0].Followers; len(got) != 1 || got[0] != "u_spec" {
		t.Errorf("followers after %v, want [u_spec]", got)
	}

	// Without emit, the traces are the output.
	out, err = simulate.Run(context.Background(), input(t, simulate.Events([]*event.Event{tagApplied("e1", t0)})), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Traces) != 1 || out.Traces[0].EventID != "e1" {
		t.Errorf("traces %v, want one, of e1", out.Traces)
	}
}

// TestEventsErrorEndsTheRun: an error from the events (a line that could
// not be read) ends the run with that error, after the events before it.
func TestEventsErrorEndsTheRun(t *testing.T) {
	bad := errors.New("events.jsonl:2: not JSON")
	events := func(yield func(*event.Event, error) bool) {
		if yield(tagApplied("e1", t0), nil) {
			yield(nil, bad)
		}
	}
	emitted := 0
	_, err := simulate.Run(context.Background(), input(t, events), func(*trace.Event) error {
		emitted++
		return nil
	})
	if !errors.Is(err, bad) || emitted != 1 {
		t.Errorf("Run: %v after %d traces, want %v after 1", err, emitted, bad)
	}
}

// TestMissingOccurredAtTakesTheTimeBefore: an event without occurred_at
// takes the time of the event before it, or Now for the first.
func TestMissingOccurredAtTakesTheTimeBefore(t *testing.T) {
	first, second := tagApplied("e1", time.Time{}), tagApplied("e2", time.Time{})
	in := input(t, simulate.Events([]*event.Event{first, second}))
	in.Now = t0.Add(time.Hour)
	if _, err := simulate.Run(context.Background(), in, nil); err != nil {
		t.Fatal(err)
	}
	if !first.OccurredAt.Equal(in.Now) || !second.OccurredAt.Equal(in.Now) {
		t.Errorf("occurred_at %v and %v, want both %v", first.OccurredAt, second.OccurredAt, in.Now)
	}

	in = input(t, simulate.Events([]*event.Event{tagApplied("e1", time.Time{})}))
	if _, err := simulate.Run(context.Background(), in, nil); err == nil {
		t.Error("Run of a first event without occurred_at and no Now: no error")
	}
}
