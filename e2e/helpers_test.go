package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/followflow/followflow/backend"
	"github.com/followflow/followflow/event"
	"github.com/followflow/followflow/internal/redistest"
	"github.com/followflow/followflow/record"
	"github.com/followflow/followflow/simulate"
	"github.com/followflow/followflow/store"
	"github.com/followflow/followflow/workflow"
)

// kind is a backend under test.
type kind struct {
	name string
	// options returns backend options for a new, empty deployment.
	options func(t *testing.T) backend.Options
}

var kinds = []kind{
	{"sqlite", func(t *testing.T) backend.Options {
		return backend.Options{DBPath: filepath.Join(t.TempDir(), "followflow.db"), LeaseTTL: time.Second}
	}},
	{"redis", func(t *testing.T) backend.Options {
		_, prefix := redistest.Shared(t)
		addr := os.Getenv(redistest.AddrEnv)
		if addr == "" {
			addr = redistest.DefaultSharedAddr
		}
		return backend.Options{RedisURL: "redis://" + addr, Prefix: prefix, LeaseTTL: time.Second}
	}},
}

// flags turns options into command-line flags.
func flags(o backend.Options) []string {
	f := []string{"--lease-ttl", o.LeaseTTL.String()}
	if o.RedisURL != "" {
		return append(f, "--redis", o.RedisURL, "--prefix", o.Prefix)
	}
	return append(f, "--db", o.DBPath)
}

func open(t *testing.T, o backend.Options) *backend.Backend {
	t.Helper()
	b, err := backend.Open(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

const tagWorkflows = `
id: tag-a-on
account_id: acme
trigger: {type: opportunity.tag_applied, tag: A}
steps: [{add_followers: {users: [u_a]}}]
---
id: tag-a-off
account_id: acme
trigger: {type: opportunity.tag_removed, tag: A}
steps: [{remove_followers: {users: [u_a]}}]
---
id: tag-b-on
account_id: acme
trigger: {type: opportunity.tag_applied, tag: B}
steps: [{add_followers: {users: [u_b]}}]
---
id: tag-b-off
account_id: acme
trigger: {type: opportunity.tag_removed, tag: B}
steps: [{remove_followers: {users: [u_b]}}]
---
id: tag-c-on
account_id: acme
trigger: {type: opportunity.tag_applied, tag: C}
steps: [{add_followers: {users: [u_c]}}]
---
id: tag-c-off
account_id: acme
trigger: {type: opportunity.tag_removed, tag: C}
steps: [{remove_followers: {users: [u_c]}}]
`

// tagData has account acme, users u_a..u_c and opportunities o0..o(n-1).
func tagData(n int) *record.Dataset {
	t0 := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	ds := &record.Dataset{Accounts: []record.Account{{ID: "acme", Name: "Acme"}}}
	for _, u := range []string{"u_a", "u_b", "u_c"} {
		ds.Users = append(ds.Users, record.User{ID: u, AccountID: "acme", Role: record.RoleUser, Active: true})
	}
	for i := range n {
		ds.Opportunities = append(ds.Opportunities, record.Opportunity{
			ID: fmt.Sprintf("o%d", i), AccountID: "acme", Status: record.StatusOpen,
			CreatedAt: t0, UpdatedAt: t0, LastOwnerActivityAt: t0,
		})
	}
	return ds
}

// tagEvents returns n random tag applied/removed events over opps
// opportunities, interleaved, with their JSON lines. The final state
// depends on their order: tags and followers keep the order they were
// added in.
func tagEvents(n, opps int, seed uint64) ([]*event.Event, [][]byte) {
	r := rand.New(rand.NewPCG(seed, 7))
	t0 := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	evs := make([]*event.Event, n)
	bodies := make([][]byte, n)
	for i := range evs {
		typ := event.OpportunityTagApplied
		if r.IntN(2) == 0 {
			typ = event.OpportunityTagRemoved
		}
		evs[i] = &event.Event{
			ID: fmt.Sprintf("ev-%d-%d", seed, i), Type: typ, AccountID: "acme",
			OccurredAt:    t0.Add(time.Duration(i) * time.Second),
			OpportunityID: fmt.Sprintf("o%d", r.IntN(opps)),
			Data:          event.Data{Tag: string(rune('A' + r.IntN(3)))},
		}
		b, err := event.Encode(evs[i])
		if err != nil {
			panic(err)
		}
		bodies[i] = b
	}
	return evs, bodies
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func loadWorkflows(t *testing.T, src string) *workflow.Set {
	t.Helper()
	wfs, diags := workflow.Parse("test.yaml", []byte(src))
	if diags.HasErrors() {
		t.Fatal(diags.Err())
	}
	return workflow.NewSet(wfs)
}

// sequential returns the final records after processing the events one by
// one in order, in memory: the reference any number of workers must reach.
func sequential(t *testing.T, set *workflow.Set, data *record.Dataset, evs []*event.Event) *record.Dataset {
	t.Helper()
	out, err := simulate.Run(context.Background(), simulate.Input{Workflows: set, Data: data, Events: simulate.Events(evs)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return out.After
}

// waitProcessed waits until every event id is in the ledger.
func waitProcessed(t *testing.T, st store.Store, account string, ids []string, timeout time.Duration, explain ...func() string) {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(timeout)
	pending := slices.Clone(ids)
	for len(pending) > 0 {
		var still []string
		for _, id := range pending {
			ok, err := st.Processed(ctx, account, id)
			if err != nil || !ok {
				still = append(still, id)
			}
		}
		pending = still
		if len(pending) == 0 {
			return
		}
		if time.Now().After(deadline) {
			var more strings.Builder
			for _, f := range explain {
				more.WriteString("\n" + f())
			}
			t.Fatalf("%d of %d events not processed after %v (first: %s)%s", len(pending), len(ids), timeout, pending[0], more.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// sameRecords compares the followers and tags (in order) of every
// opportunity.
func sameRecords(t *testing.T, got, want *record.Dataset) {
	t.Helper()
	index := func(ds *record.Dataset) map[string]record.Opportunity {
		m := map[string]record.Opportunity{}
		for _, o := range ds.Opportunities {
			m[o.AccountID+"/"+o.ID] = o
		}
		return m
	}
	g, w := index(got), index(want)
	if len(g) != len(w) {
		t.Errorf("%d opportunities, want %d", len(g), len(w))
	}
	bad := 0
	for k, wo := range w {
		goo := g[k]
		if !slices.Equal(goo.Followers, wo.Followers) || !slices.Equal(goo.Tags, wo.Tags) {
			bad++
			if bad <= 5 {
				t.Errorf("%s: followers %v tags %v, want followers %v tags %v", k, goo.Followers, goo.Tags, wo.Followers, wo.Tags)
			}
		}
	}
	if bad > 5 {
		t.Errorf("... %d opportunities differ in all", bad)
	}
}

// noDuplicateHistory checks that no (event, workflow, user, outcome) was
// recorded twice: every event applied exactly once.
func noDuplicateHistory(t *testing.T, st store.Store, ds *record.Dataset) int {
	t.Helper()
	total := 0
	for _, o := range ds.Opportunities {
		h, err := st.History(context.Background(), o.AccountID, record.KindOpportunity, o.ID)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, e := range h {
			key := strings.Join([]string{e.EventID, e.WorkflowID, e.UserID, string(e.Outcome)}, "|")
			if seen[key] {
				t.Errorf("%s: history entry recorded twice: %s", o.ID, key)
			}
			seen[key] = true
		}
		total += len(h)
	}
	return total
}
