package simulate

import (
	"context"
	"fmt"
	"iter"
	"time"

	"github.com/followflow/followflow/engine"
	"github.com/followflow/followflow/event"
	"github.com/followflow/followflow/record"
	"github.com/followflow/followflow/store/memory"
	"github.com/followflow/followflow/trace"
	"github.com/followflow/followflow/workflow"
)

// Input is what a simulation runs.
type Input struct {
	Workflows *workflow.Set
	Data      *record.Dataset
	// Events in the order they were pushed, read one at a time (Events
	// of a slice), so that a stream of any length takes the memory of the
	// records it leaves, not of its events; an error ends the run. An
	// event without occurred_at takes the time of the event before it (or
	// Now for the first).
	Events iter.Seq2[*event.Event, error]
	// Now is when the final stale scan runs; zero means the last event's
	// time.
	Now time.Time
}

// Output is the result of a simulation.
type Output struct {
	// Traces has one entry per processed event, stale events included,
	// when Run was given no emit (which otherwise receives them, and they
	// are not kept).
	Traces []*trace.Event
	// Before and After are the records before and after, sorted.
	Before, After *record.Dataset
}

// Run simulates. emit, when set, receives each trace as it is produced.
func Run(ctx context.Context, in Input, emit func(*trace.Event) error) (*Output, error) {
	st := memory.New()
	defer st.Close()
	if in.Data != nil {
		if err := st.Load(ctx, in.Data); err != nil {
			return nil, fmt.Errorf("loading data: %w", err)
		}
	}
	before, err := st.Export(ctx)
	if err != nil {
		return nil, err
	}
	var clock time.Time
	eng, err := engine.New(engine.Config{Store: st, Clock: func() time.Time { return clock }, Trace: true}, in.Workflows)
	if err != nil {
		return nil, err
	}
	out := &Output{Before: before}
	process := func(ev *event.Event) error {
		res, err := eng.Process(ctx, ev)
		if err != nil {
			return err
		}
		if emit != nil {
			return emit(res.Trace)
		}
		out.Traces = append(out.Traces, res.Trace)
		return nil
	}
	scan := func(at time.Time) error {
		clock = at
		stale, err := eng.StaleEvents(ctx, at)
		if err != nil {
			return err
		}
		for _, ev := range stale {
			if err := process(ev); err != nil {
				return err
			}
		}
		return nil
	}
	last := in.Now
	first := true
	var prev time.Time // the occurred_at of the event before
	for ev, err := range in.Events {
		if err != nil {
			return nil, err
		}
		if ev.OccurredAt.IsZero() {
			if first && in.Now.IsZero() {
				return nil, fmt.Errorf("event %q: occurred_at is missing and there is no earlier event or --now to take it from", ev.ID)
			}
			if first {
				ev.OccurredAt = in.Now
			} else {
				ev.OccurredAt = prev
			}
		}
		first, prev = false, ev.OccurredAt
		if err := scan(ev.OccurredAt); err != nil {
			return nil, err
		}
		clock = ev.OccurredAt
		if err := process(ev); err != nil {
			return nil, err
		}
		last = ev.OccurredAt
	}
	if !in.Now.IsZero() {
		last = in.Now
	}
	if !last.IsZero() {
		if err := scan(last); err != nil {
			return nil, err
		}
	}
	if out.After, err = st.Export(ctx); err != nil {
		return nil, err
	}
	return out, nil
}

// Events returns the events of a slice, for Input.Events.
func Events(evs []*event.Event) iter.Seq2[*event.Event, error] {
	return func(yield func(*event.Event, error) bool) {
		for _, ev := range evs {
			if !yield(ev, nil) {
				return
			}
		}
	}
}
