package engine_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/followflow/followflow/engine"
	"github.com/followflow/followflow/event"
	"github.com/followflow/followflow/record"
	"github.com/followflow/followflow/store/memory"
	"github.com/followflow/followflow/workflow"
)

// Goroutines processing the events of different records at once share the
// compiled workflows (and what their user references remember) and reach
// the state one goroutine reaches. Run with -race.
func TestConcurrentProcessingMatchesSequential(t *testing.T) {
	t.Parallel()
	const workflows = `
id: add
account_id: acme
trigger: {type: opportunity.tag_applied, tag: go}
steps:
  - condition: opportunity.value > 100
  - add_followers: {users: [u_a, max.manager@acme.test, u_gone]}
---
id: remove
account_id: acme
trigger: {type: opportunity.tag_removed, tag: go}
steps:
  - remove_followers: {users: [u_a]}
`
	const goroutines, perRecord = 4, 50
	ctx := context.Background()
	run := func(parallel bool) []record.Opportunity {
		t.Helper()
		ds, err := record.ParseDataFile("data.yaml", []byte(dataYAML))
		if err != nil {
			t.Fatal(err)
		}
		for g := range goroutines {
			ds.Opportunities = append(ds.Opportunities, record.Opportunity{
				ID: fmt.Sprintf("c-%d", g), AccountID: "acme", Status: record.StatusOpen, Value: 1000,
				OwnerID: "u_rep", CreatedAt: t0, UpdatedAt: t0, LastOwnerActivityAt: t0,
			})
		}
		st := memory.New()
		if err := st.Load(ctx, ds); err != nil {
			t.Fatal(err)
		}
		wfs, diags := workflow.Parse("c.yaml", []byte(workflows))
		if diags.HasErrors() {
			t.Fatal(diags.Err())
		}
		eng, err := engine.New(engine.Config{Store: st, Clock: func() time.Time { return t0 }}, workflow.NewSet(wfs))
		if err != nil {
			t.Fatal(err)
		}
		feed := func(g int) {
			for i := range perRecord {
				typ := event.OpportunityTagApplied
				if i%3 == 2 {
					typ = event.OpportunityTagRemoved
				}
				ev := tagEvent(fmt.Sprintf("e-%d-%d", g, i), typ, fmt.Sprintf("c-%d", g), "go")
				ev.OccurredAt = t0.Add(time.Duration(i) * time.Second)
				if _, err := eng.Process(ctx, ev); err != nil {
					t.Error(err)
					return
				}
			}
		}
		if parallel {
			var wg sync.WaitGroup
			for g := range goroutines {
				wg.Go(func() { feed(g) })
			}
			wg.Wait()
		} else {
			for g := range goroutines {
				feed(g)
			}
		}
		var out []record.Opportunity
		for g := range goroutines {
			o, err := st.Opportunity(ctx, "acme", fmt.Sprintf("c-%d", g))
			if err != nil {
				t.Fatal(err)
			}
			h, err := st.History(ctx, "acme", record.KindOpportunity, o.ID)
			if err != nil {
				t.Fatal(err)
			}
			o.Tags = append(o.Tags, fmt.Sprintf("history:%d", len(h)))
			out = append(out, o)
		}
		return out
	}
	want, got := run(false), run(true)
	for i := range want {
		if !slices.Contains(want[i].Followers, "u_mgr") {
			t.Fatalf("%s: sequential followers %v, want u_mgr among them", want[i].ID, want[i].Followers)
		}
		if !slices.Equal(got[i].Followers, want[i].Followers) || !slices.Equal(got[i].Tags, want[i].Tags) || got[i].Version != want[i].Version {
			t.Errorf("%s: concurrent %v %v v%d, sequential %v %v v%d", want[i].ID,
				got[i].Followers, got[i].Tags, got[i].Version, want[i].Followers, want[i].Tags, want[i].Version)
		}
	}
}
