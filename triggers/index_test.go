package triggers

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/followflow/followflow/event"
)

// TestIndexMatchesEveryTriggerThatMatches: for random triggers and events,
// Match returns exactly the items whose triggers match, in order, as a
// scan of every trigger of every account would; Explain lists every item of
// the account and type.
func TestIndexMatchesEveryTriggerThatMatches(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	values := []string{"", "A", "B"}
	type item struct {
		account string
		trigger *Trigger
		order   string
	}
	var items []item
	ix := NewIndex[int]()
	kinds := []string{event.OpportunityStageChanged, event.OpportunityTagApplied, event.OpportunityCreated, event.OpportunityStatusChanged}
	for i := range 400 {
		k, ok := Default.Lookup(kinds[r.IntN(len(kinds))])
		if !ok {
			t.Fatal("kind missing")
		}
		tr := &Trigger{Kind: k}
		for _, name := range k.FilterNames() {
			if v := values[r.IntN(len(values))]; v != "" {
				f, _ := k.Filter(name)
				tr.Filters = append(tr.Filters, Filter{Spec: f, Value: v})
			}
		}
		it := item{account: fmt.Sprintf("a%d", r.IntN(3)), trigger: tr, order: fmt.Sprintf("w%03d", r.IntN(1000))}
		items = append(items, it)
		ix.Add(it.account, tr, it.order, i)
	}
	for range 2000 {
		ev := &event.Event{AccountID: fmt.Sprintf("a%d", r.IntN(4)), Type: kinds[r.IntN(len(kinds))]}
		ev.Data.ToStage, ev.Data.FromStage, ev.Data.Tag = values[r.IntN(3)], values[r.IntN(3)], values[r.IntN(3)]
		ev.Data.Pipeline, ev.Data.ToStatus = values[r.IntN(3)], values[r.IntN(3)]
		before := &Before{Stage: values[r.IntN(3)], Status: values[r.IntN(3)]}
		var want, all []int
		for i, it := range items {
			if it.account == ev.AccountID && it.trigger.Kind.Type == ev.Type {
				all = append(all, i)
				if it.trigger.Matches(ev, before) {
					want = append(want, i)
				}
			}
		}
		byOrder := func(a, b int) int {
			if c := strings.Compare(items[a].order, items[b].order); c != 0 {
				return c
			}
			return a - b
		}
		slices.SortStableFunc(want, byOrder)
		got := ix.Match(nil, ev, before)
		if !slices.IsSortedFunc(got, func(a, b int) int { return strings.Compare(items[a].order, items[b].order) }) {
			t.Fatalf("event %+v: Match = %v, not in order", ev, got)
		}
		slices.SortStableFunc(got, byOrder) // equal orders may come in either list's order
		if !slices.Equal(got, want) {
			t.Fatalf("event %+v: Match = %v, want %v", ev, got, want)
		}
		var explained []int
		for _, c := range ix.Explain(ev, before) {
			explained = append(explained, c.Item)
		}
		slices.Sort(explained)
		if !slices.Equal(explained, all) {
			t.Fatalf("event %+v: Explain lists %v, want %v", ev, explained, all)
		}
	}
}
