package engine_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/followflow/followflow/engine"
	"github.com/followflow/followflow/event"
	"github.com/followflow/followflow/record"
	"github.com/followflow/followflow/store/memory"
	"github.com/followflow/followflow/workflow"
)

const (
	benchAccounts = 100
	benchUsers    = 20  // per account
	benchOpps     = 100 // per account
	benchValues   = 3   // distinct stages and tags events use
)

// benchWorkflows writes n workflows spread over the accounts: per account two
// on creation (a value condition), then stage, tag-applied and tag-removed
// workflows each on its own stage or tag, as real teams write them.
func benchWorkflows(n int) string {
	var b strings.Builder
	for i := range n {
		a := i % benchAccounts
		k := i / benchAccounts
		fmt.Fprintf(&b, "---\nid: wf-%d\naccount_id: acct-%d\n", i, a)
		user := func(j int) string { return fmt.Sprintf("u-%d-%d", a, j%benchUsers) }
		switch {
		case k < 2:
			fmt.Fprintf(&b, "trigger: {type: opportunity.created}\nsteps:\n  - condition: opportunity.value > %d\n  - add_followers: {users: [%s, %s]}\n", 10000*(k+1), user(k), user(k+1))
		case k%3 == 0:
			fmt.Fprintf(&b, "trigger: {type: opportunity.stage_changed, to_stage: Stage-%d}\nsteps:\n  - condition: opportunity.value > 1000 && opportunity.status == \"open\"\n  - add_followers: {users: [%s]}\n", k/3, user(k))
		case k%3 == 1:
			fmt.Fprintf(&b, "trigger: {type: opportunity.tag_applied, tag: Tag-%d}\nsteps:\n  - add_followers: {users: [%s]}\n", k/3, user(k))
		default:
			fmt.Fprintf(&b, "trigger: {type: opportunity.tag_removed, tag: Tag-%d}\nsteps:\n  - remove_followers: {users: [%s]}\n", k/3, user(k-1))
		}
	}
	return b.String()
}

func benchData() *record.Dataset {
	ds := &record.Dataset{}
	for a := range benchAccounts {
		acct := fmt.Sprintf("acct-%d", a)
		ds.Accounts = append(ds.Accounts, record.Account{ID: acct})
		for u := range benchUsers {
			ds.Users = append(ds.Users, record.User{ID: fmt.Sprintf("u-%d-%d", a, u), AccountID: acct, Role: record.RoleUser, Active: true})
		}
		for o := range benchOpps {
			ds.Opportunities = append(ds.Opportunities, record.Opportunity{
				ID: fmt.Sprintf("o-%d", o), AccountID: acct, Stage: "Stage-0", Status: record.StatusOpen,
				Value: float64(500 * o), OwnerID: fmt.Sprintf("u-%d-0", a), CreatedAt: t0, UpdatedAt: t0, LastOwnerActivityAt: t0,
			})
		}
	}
	return ds
}

// benchEvents returns n decoded events: a quarter creations, a quarter
// stage changes, a quarter tag changes (applied or removed), a quarter
// owner activity. Stages and tags are among the few that every account has
// a workflow for from 1,000 workflows up, so that more workflows means more
// workflows to skip, not more to run: what the index must make cheap.
func benchEvents(n int) []*event.Event {
	r := rand.New(rand.NewPCG(1, 2))
	evs := make([]*event.Event, n)
	created := 0
	for i := range evs {
		a := r.IntN(benchAccounts)
		ev := &event.Event{
			ID: fmt.Sprintf("ev-%d", i), AccountID: fmt.Sprintf("acct-%d", a),
			OccurredAt:    t0.Add(time.Duration(i) * time.Millisecond),
			OpportunityID: fmt.Sprintf("o-%d", r.IntN(benchOpps)),
		}
		switch i % 4 {
		case 0:
			created++
			value := float64(r.IntN(40000))
			ev.Type, ev.OpportunityID = event.OpportunityCreated, fmt.Sprintf("new-%d", created)
			ev.Opportunity = &event.OpportunitySnapshot{Value: &value}
		case 1:
			ev.Type, ev.Data.ToStage = event.OpportunityStageChanged, fmt.Sprintf("Stage-%d", 1+r.IntN(benchValues))
		case 2:
			ev.Type, ev.Data.Tag = event.OpportunityTagApplied, fmt.Sprintf("Tag-%d", r.IntN(benchValues))
			if r.IntN(2) == 0 {
				ev.Type = event.OpportunityTagRemoved
			}
		default:
			ev.Type, ev.ActorID = event.OpportunityActivity, fmt.Sprintf("u-%d-0", a)
		}
		evs[i] = ev
	}
	return evs
}

// BenchmarkEngine feeds decoded events through the engine and the in-memory
// store on one goroutine: effects, trigger matching, conditions, follower
// actions, ledger and history all included.
func BenchmarkEngine(b *testing.B) {
	for _, n := range []int{10, 1000, 10000} {
		b.Run(fmt.Sprintf("workflows=%d", n), func(b *testing.B) {
			ctx := context.Background()
			var wfs []*workflow.Workflow
			for doc := range strings.SplitSeq(benchWorkflows(n), "---\n") {
				got, diags := workflow.Parse("bench.yaml", []byte(doc))
				if diags.HasErrors() {
					b.Fatal(diags.Err())
				}
				wfs = append(wfs, got...)
			}
			st := memory.New()
			if err := st.Load(ctx, benchData()); err != nil {
				b.Fatal(err)
			}
			eng, err := engine.New(engine.Config{Store: st, Clock: func() time.Time { return t0 }}, workflow.NewSet(wfs))
			if err != nil {
				b.Fatal(err)
			}
			evs := benchEvents(b.N)
			// Collect the setup's garbage (and an earlier sub-benchmark's
			// store) now, not during the timed loop.
			runtime.GC()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := eng.Process(ctx, evs[i]); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
