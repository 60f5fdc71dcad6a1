package triggers

import (
	"strings"

	"github.com/followflow/followflow/event"
)

// Index finds the workflows (any W) whose triggers can match an event,
// keyed by account, event type and the value of the kind's IndexBy filter.
// Build it with Add, then read it from any number of goroutines.
type Index[W any] struct {
	entries map[indexKey][]entry[W]
	all     map[indexKey][]entry[W]
}

type indexKey struct {
	account, typ, value string
}

type entry[W any] struct {
	order   string
	trigger *Trigger
	item    W
}

// NewIndex returns an empty index.
func NewIndex[W any]() *Index[W] {
	return &Index[W]{entries: map[indexKey][]entry[W]{}, all: map[indexKey][]entry[W]{}}
}

// Add indexes item under its account and trigger. order sorts the items
// that match one event (the workflow id).
func (ix *Index[W]) Add(account string, t *Trigger, order string, item W) {
	e := entry[W]{order: order, trigger: t, item: item}
	key := indexKey{account: account, typ: t.Kind.Type}
	if t.Kind.IndexBy != "" {
		key.value = t.Value(t.Kind.IndexBy)
	}
	ix.entries[key] = insertSorted(ix.entries[key], e)
	all := indexKey{account: account, typ: t.Kind.Type}
	ix.all[all] = insertSorted(ix.all[all], e)
}

func insertSorted[W any](list []entry[W], e entry[W]) []entry[W] {
	i := len(list)
	for i > 0 && strings.Compare(list[i-1].order, e.order) > 0 {
		i--
	}
	list = append(list, e)
	copy(list[i+1:], list[i:])
	list[i] = e
	return list
}

// Match appends to dst, in order, the items whose triggers match the event,
// and returns it. It touches only the items indexed under the event's
// account, type and filter value.
func (ix *Index[W]) Match(dst []W, ev *event.Event, before *Before) []W {
	key := indexKey{account: ev.AccountID, typ: ev.Type}
	any := ix.entries[key]
	var keyed []entry[W]
	if k, ok := Default.Lookup(ev.Type); ok && k.IndexBy != "" {
		f, _ := k.Filter(k.IndexBy)
		key.value = f.Value(ev, before)
		if key.value != "" {
			keyed = ix.entries[key]
		}
	}
	// Merge the two sorted lists.
	i, j := 0, 0
	for i < len(any) || j < len(keyed) {
		var e *entry[W]
		if j >= len(keyed) || (i < len(any) && any[i].order <= keyed[j].order) {
			e = &any[i]
			i++
		} else {
			e = &keyed[j]
			j++
		}
		if e.trigger.Matches(ev, before) {
			dst = append(dst, e.item)
		}
	}
	return dst
}

// Candidate is an item of the account and event type with whether it
// matches and, when not, why.
type Candidate[W any] struct {
	Item    W
	Matched bool
	Reason  string
}

// Explain returns, in order, every item of the event's account and type
// with whether it matches and why not. It is for traces, not the hot path.
func (ix *Index[W]) Explain(ev *event.Event, before *Before) []Candidate[W] {
	list := ix.all[indexKey{account: ev.AccountID, typ: ev.Type}]
	out := make([]Candidate[W], 0, len(list))
	for _, e := range list {
		ok, why := e.trigger.Match(ev, before)
		out = append(out, Candidate[W]{Item: e.item, Matched: ok, Reason: why})
	}
	return out
}
