package engine_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/followflow/followflow/engine"
	"github.com/followflow/followflow/event"
	"github.com/followflow/followflow/store"
	"github.com/followflow/followflow/store/memory"
)

const batchWorkflows = `
id: on
account_id: acme
trigger: {type: opportunity.tag_applied, tag: go}
steps: [{add_followers: {users: [u_a, u_b]}}]
---
id: off
account_id: acme
trigger: {type: opportunity.tag_removed, tag: go}
steps: [{remove_followers: {users: [u_a]}}]
`

func batchEvents() []*event.Event {
	var evs []*event.Event
	for i := range 30 {
		typ := event.OpportunityTagApplied
		if i%3 == 1 {
			typ = event.OpportunityTagRemoved
		}
		ev := tagEvent(fmt.Sprintf("b%d", i), typ, []string{"opp_1", "opp_2"}[i%2], "go")
		ev.OccurredAt = t0
		evs = append(evs, ev)
	}
	evs = append(evs, evs[3]) // a duplicate inside the batch
	return evs
}

// failNth refuses the nth changeset of each batch with a conflict, after
// changing nothing, as a concurrent worker's commit would.
type failNth struct {
	*memory.Store
	n int
}

func (f *failNth) CommitBatch(ctx context.Context, css []*store.Changeset) ([]error, error) {
	errs := make([]error, len(css))
	for i, cs := range css {
		if i == f.n {
			errs[i] = store.ErrConflict
			continue
		}
		errs[i] = f.Store.Commit(ctx, cs)
	}
	return errs, nil
}

func TestProcessBatchEqualsOneByOne(t *testing.T) {
	t.Parallel()
	one := setup(t, batchWorkflows)
	for _, ev := range batchEvents() {
		one.process(t, ev)
	}
	for _, fail := range []int{-1, 0, 5} {
		t.Run(fmt.Sprintf("conflict at %d", fail), func(t *testing.T) {
			t.Parallel()
			b := setup(t, batchWorkflows)
			st := &failNth{Store: b.st, n: fail}
			eng, err := engine.New(engine.Config{Store: st}, b.eng.Workflows())
			if err != nil {
				t.Fatal(err)
			}
			evs := batchEvents()
			res := eng.ProcessBatch(context.Background(), evs, nil)
			for i, r := range res {
				if r.Err != nil {
					t.Fatalf("event %d: %v", i, r.Err)
				}
			}
			if !res[len(res)-1].Duplicate {
				t.Errorf("the repeated event was not a duplicate")
			}
			for _, id := range []string{"opp_1", "opp_2"} {
				if got, want := b.opp(t, id), one.opp(t, id); !slices.Equal(got.Followers, want.Followers) || !slices.Equal(got.Tags, want.Tags) || got.Version != want.Version {
					t.Errorf("%s: batch gave followers %v tags %v v%d; one by one %v %v v%d", id, got.Followers, got.Tags, got.Version, want.Followers, want.Tags, want.Version)
				}
			}
		})
	}
}

// externalWrite commits a change of its own (as another worker would)
// right before the first batch commit.
type externalWrite struct {
	*memory.Store
	before func()
}

func (x *externalWrite) CommitBatch(ctx context.Context, css []*store.Changeset) ([]error, error) {
	if x.before != nil {
		x.before()
		x.before = nil
	}
	return x.Store.CommitBatch(ctx, css)
}

// TestBatchDoesNotCommitOnTopOfARefusedChange: a duplicate event in a batch
// changes a record in the working set; the next event builds on that
// change. Another worker's commit meanwhile brings the stored version to the
// number the next event expects. The next event must not be committed over
// it (the versions match by accident: the duplicate was never applied); it
// is re-run on fresh state instead.
func TestBatchDoesNotCommitOnTopOfARefusedChange(t *testing.T) {
	t.Parallel()
	b := setup(t, batchWorkflows)
	dup := tagEvent("dup", event.OpportunityTagApplied, "opp_1", "go")
	dup.OccurredAt = t0
	b.process(t, dup) // opp_1: tag go, u_a and u_b follow
	rm := tagEvent("rm", event.OpportunityTagRemoved, "opp_1", "go")
	rm.OccurredAt = t0
	b.process(t, rm) // opp_1: no tag, u_b follows
	ctx := context.Background()
	other := &event.Event{ID: "other", Type: event.OpportunityTagApplied, AccountID: "acme", OpportunityID: "opp_1", Data: event.Data{Tag: "x"}, OccurredAt: t0}
	st := &externalWrite{Store: b.st, before: func() {
		// Another worker applies an event to opp_1: v3.
		eng, _ := engine.New(engine.Config{Store: b.st}, b.eng.Workflows())
		if _, err := eng.Process(ctx, other); err != nil {
			t.Error(err)
		}
	}}
	eng, err := engine.New(engine.Config{Store: st}, b.eng.Workflows())
	if err != nil {
		t.Fatal(err)
	}
	again := *dup // redelivered: already processed, but it would change opp_1 again
	off := tagEvent("off", event.OpportunityTagRemoved, "opp_1", "go")
	off.OccurredAt = t0
	res := eng.ProcessBatch(ctx, []*event.Event{&again, off}, nil)
	if res[0].Err != nil || !res[0].Duplicate || res[1].Err != nil {
		t.Fatalf("results = %+v", res)
	}
	o := b.opp(t, "opp_1")
	if !slices.Equal(o.Tags, []string{"x"}) || !slices.Equal(o.Followers, []string{"u_b"}) {
		t.Errorf("opp_1 tags %v followers %v; want [x] (the other worker's tag kept, go removed) and [u_b]", o.Tags, o.Followers)
	}
}
