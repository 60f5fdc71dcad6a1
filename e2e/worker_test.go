package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/followflow/followflow/cli"
	"github.com/followflow/followflow/engine"
	"github.com/followflow/followflow/event"
	"github.com/followflow/followflow/queue"
	"github.com/followflow/followflow/record"
	"github.com/followflow/followflow/worker"
	"github.com/followflow/followflow/workflow"
)

// ff runs a followflow command in process.
func ff(t *testing.T, ctx context.Context, args ...string) (string, string, int) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := cli.Main(ctx, args, &stdout, &stderr, func(string) string { return "" })
	return stdout.String(), stderr.String(), code
}

// startWorkers runs n workers (each with its own backend handle, as
// separate processes would) until the returned stop is called.
func startWorkers(t *testing.T, n int, opts func() *engineAndQueue) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for i := range n {
		eq := opts()
		w, err := worker.New(worker.Config{
			Engine: eq.eng, Queue: eq.q, ID: fmt.Sprintf("w%d", i), Consumers: 1,
			Block: 100 * time.Millisecond, StaleInterval: -1, RetryBackoff: 10 * time.Millisecond,
		})
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			if err := w.Run(ctx); err != nil {
				t.Errorf("worker %d: %v", i, err)
			}
		})
	}
	return func() { cancel(); wg.Wait() }
}

type engineAndQueue struct {
	eng *engine.Engine
	q   queue.Queue
}

// TestExamplesEndToEnd pushes the examples' events with `followflow push`,
// runs `followflow run`, and checks that the followers equal the
// simulator's --state-out for the same input. The stale workflow is left
// out: the worker's scanner runs on the wall clock, the simulator's at the
// events' times.
func TestExamplesEndToEnd(t *testing.T) {
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			t.Parallel()
			o := k.options(t)
			bf := flags(o)
			wfDir := t.TempDir()
			for _, f := range []string{"high-value.yaml", "contract-sent.yaml", "technical-evaluation.yaml", "contact-vip.yaml"} {
				b, err := os.ReadFile(filepath.Join("..", "examples", "workflows", f))
				if err != nil {
					t.Fatal(err)
				}
				os.WriteFile(filepath.Join(wfDir, f), b, 0o644)
			}
			ctx := context.Background()
			state := filepath.Join(t.TempDir(), "state.yaml")
			if _, e, code := ff(t, ctx, "simulate", "--workflows", wfDir, "--data", "../examples/data.yaml", "--events", "../examples/events.jsonl", "--state-out", state); code != 0 {
				t.Fatalf("simulate: %s", e)
			}
			if out, e, code := ff(t, ctx, append([]string{"load", "../examples/data.yaml"}, bf...)...); code != 0 {
				t.Fatalf("load: %s %s", out, e)
			}
			// Events of different records may be applied in another order
			// than pushed (only each record's own order is kept). The VIP
			// contact event looks for the contact's newest deal, created by
			// an earlier event: push it once that one is in.
			lines, err := os.ReadFile("../examples/events.jsonl")
			if err != nil {
				t.Fatal(err)
			}
			all := strings.SplitAfter(string(lines), "\n")
			first := writeFile(t, "first.jsonl", strings.Join(all[:7], ""))
			rest := writeFile(t, "rest.jsonl", strings.Join(all[7:], ""))
			if out, e, code := ff(t, ctx, append([]string{"push", first}, bf...)...); code != 0 || !strings.Contains(out, "pushed 7 event(s)") {
				t.Fatalf("push: %s %s", out, e)
			}
			rctx, cancel := context.WithCancel(ctx)
			done := make(chan string)
			go func() {
				_, e, _ := ff(t, rctx, append([]string{"run", "--workflows", wfDir, "--stale-interval", "-1s", "--log-level", "warn"}, bf...)...)
				done <- e
			}()
			b := open(t, o)
			waitProcessed(t, b.Store, "acme", []string{"e1", "e2", "e3", "e4", "e5", "e6", "e7"}, 30*time.Second)
			if out, e, code := ff(t, ctx, append([]string{"push", rest}, bf...)...); code != 0 || !strings.Contains(out, "pushed 4 event(s)") {
				t.Fatalf("push: %s %s", out, e)
			}
			waitProcessed(t, b.Store, "acme", []string{"e8", "e9", "e10"}, 30*time.Second)
			cancel()
			select {
			case e := <-done:
				if e != "" {
					t.Logf("worker log:\n%s", e)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("the worker did not stop within 5 s of cancellation")
			}
			f, err := os.Open(state)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			want, err := record.ReadDataFile(state, f)
			if err != nil {
				t.Fatal(err)
			}
			got, err := b.Store.Export(ctx)
			if err != nil {
				t.Fatal(err)
			}
			sameRecords(t, got, want)
			out, e, code := ff(t, ctx, append([]string{"followers", "list", "--account", "acme", "--opportunity", "opp_9"}, bf...)...)
			if code != 0 || !strings.Contains(out, "opportunity opp_9: 5 follower(s)") {
				t.Errorf("followers list: %s %s", out, e)
			}
		})
	}
}

// TestOrderingFourWorkers: 4 workers, 2,000 interleaved tag applied/removed
// events over 50 opportunities: the final state equals processing them
// sequentially.
func TestOrderingFourWorkers(t *testing.T) {
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			t.Parallel()
			o := k.options(t)
			ctx := context.Background()
			set := loadWorkflows(t, tagWorkflows)
			data := tagData(50)
			evs, bodies := tagEvents(2000, 50, 1)
			b := open(t, o)
			if err := b.Store.Load(ctx, data); err != nil {
				t.Fatal(err)
			}
			for i := 0; i < len(evs); i += 100 {
				if err := b.Queue.Push(ctx, evs[i:i+100], bodies[i:i+100]); err != nil {
					t.Fatal(err)
				}
			}
			stop := startWorkers(t, 4, func() *engineAndQueue {
				wb := open(t, o)
				eng, err := engine.New(engine.Config{Store: wb.Store}, set)
				if err != nil {
					t.Fatal(err)
				}
				return &engineAndQueue{eng: eng, q: wb.Queue}
			})
			ids := make([]string, len(evs))
			for i, ev := range evs {
				ids[i] = ev.ID
			}
			waitProcessed(t, b.Store, "acme", ids, 60*time.Second)
			stop()
			got, err := b.Store.Export(ctx)
			if err != nil {
				t.Fatal(err)
			}
			sameRecords(t, got, sequential(t, set, data, evs))
			noDuplicateHistory(t, b.Store, got)
		})
	}
}

// TestConcurrentAddsNeverExceedTen: 20 concurrent adds of different users to
// an opportunity with 9 followers leave exactly 10.
func TestConcurrentAddsNeverExceedTen(t *testing.T) {
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			t.Parallel()
			o := k.options(t)
			ctx := context.Background()
			ds := tagData(1)
			ds.Users = append(ds.Users, record.User{ID: "admin", AccountID: "acme", Role: record.RoleAdmin, Active: true})
			for i := range 29 {
				id := fmt.Sprintf("u%02d", i)
				ds.Users = append(ds.Users, record.User{ID: id, AccountID: "acme", Role: record.RoleUser, Active: true})
				if i < 9 {
					ds.Opportunities[0].Followers = append(ds.Opportunities[0].Followers, id)
				}
			}
			b := open(t, o)
			if err := b.Store.Load(ctx, ds); err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			results := make([]record.Outcome, 20)
			for i := range 20 {
				wb := open(t, o)
				eng, err := engine.New(engine.Config{Store: wb.Store, MaxConflictRetries: 100}, workflow.NewSet(nil))
				if err != nil {
					t.Fatal(err)
				}
				wg.Go(func() {
					out, err := eng.ChangeFollowers(ctx, engine.ManualChange{
						AccountID: "acme", Kind: record.KindOpportunity, RecordID: "o0", ActorID: "admin",
						Users: []string{fmt.Sprintf("u%02d", 9+i)},
					})
					if err != nil {
						t.Errorf("add %d: %v", i, err)
						return
					}
					results[i] = out[0].Outcome
				})
			}
			wg.Wait()
			opp, err := b.Store.Opportunity(ctx, "acme", "o0")
			if err != nil {
				t.Fatal(err)
			}
			added := 0
			for _, r := range results {
				if r == record.Added {
					added++
				}
			}
			if len(opp.Followers) != 10 || added != 1 {
				t.Errorf("%d followers (%v), %d added; want 10 and 1 (outcomes %v)", len(opp.Followers), opp.Followers, added, results)
			}
		})
	}
}

// TestPoisonMessagesAreDeadLettered: malformed and unknown-type messages go
// to the dead-letter queue with their reason; the events behind them are
// processed.
func TestPoisonMessagesAreDeadLettered(t *testing.T) {
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			t.Parallel()
			o := k.options(t)
			ctx := context.Background()
			set := loadWorkflows(t, tagWorkflows)
			b := open(t, o)
			if err := b.Store.Load(ctx, tagData(1)); err != nil {
				t.Fatal(err)
			}
			// The same record's partition for all: the poison sits in front.
			key := &event.Event{AccountID: "acme", OpportunityID: "o0", Type: event.OpportunityTagApplied}
			good := &event.Event{ID: "good", Type: event.OpportunityTagApplied, AccountID: "acme", OpportunityID: "o0", Data: event.Data{Tag: "A"}, OccurredAt: time.Now()}
			goodBody, _ := event.Encode(good)
			err := b.Queue.Push(ctx, []*event.Event{key, key, good}, [][]byte{
				[]byte(`{"id": "broken", "type": `),
				[]byte(`{"id":"odd","type":"opportunity.teleported","account_id":"acme","opportunity_id":"o0"}`),
				goodBody,
			})
			if err != nil {
				t.Fatal(err)
			}
			stop := startWorkers(t, 1, func() *engineAndQueue {
				eng, err := engine.New(engine.Config{Store: b.Store}, set)
				if err != nil {
					t.Fatal(err)
				}
				return &engineAndQueue{eng: eng, q: b.Queue}
			})
			waitProcessed(t, b.Store, "acme", []string{"good"}, 30*time.Second)
			stop()
			dls, err := b.Queue.DeadLetters(ctx, 0)
			if err != nil {
				t.Fatal(err)
			}
			var reasons []string
			for _, d := range dls {
				reasons = append(reasons, d.Reason)
			}
			all := strings.Join(reasons, "\n")
			if len(dls) != 2 || !strings.Contains(all, "not a JSON object") || !strings.Contains(all, `unknown event type "opportunity.teleported"`) {
				t.Errorf("dead letters = %q", reasons)
			}
			out, _, code := ff(t, ctx, append([]string{"dlq", "list"}, flags(o)...)...)
			if code != 0 || !strings.Contains(out, "2 dead letter(s)") {
				t.Errorf("dlq list:\n%s", out)
			}
		})
	}
}
