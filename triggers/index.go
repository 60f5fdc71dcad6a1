package triggers

import (
	"strings"

	"github.com/followflow/followflow/event"
)

// Index finds the workflows (any W) whose triggers can match an event,
// keyed by account and event type (one look-up), then by the value of the
// kind's IndexBy filter. Build it with Add, then read it from any number of
// goroutines.
type Index[W any] struct {
	types map[typeKey]*typeIndex[W]
}

type typeKey struct{ account, typ string }

// typeIndex holds the items of one account and event type.
type typeIndex[W any] struct {
	// indexBy is the kind's IndexBy filter, nil when it has none.
	indexBy *FilterSpec
	// any holds the items without a value of indexBy, keyed the items with
	// one by that value, all every item; each sorted by order.
	any   []entry[W]
	keyed map[string][]entry[W]
	all   []entry[W]
}

type entry[W any] struct {
	order   string
	trigger *Trigger
	item    W
}

// NewIndex returns an empty index.
func NewIndex[W any]() *Index[W] {
	return &Index[W]{types: map[typeKey]*typeIndex[W]{}}
}

// Add indexes item under its account and trigger. order sorts the items
// that match one event (the workflow id).
func (ix *Index[W]) Add(account string, t *Trigger, order string, item W) {
	k := typeKey{account, t.Kind.Type}
	ti := ix.types[k]
	if ti == nil {
		ti = &typeIndex[W]{keyed: map[string][]entry[W]{}}
		if t.Kind.IndexBy != "" {
			ti.indexBy, _ = t.Kind.Filter(t.Kind.IndexBy)
		}
		ix.types[k] = ti
	}
	e := entry[W]{order: order, trigger: t, item: item}
	if v := t.Value(t.Kind.IndexBy); ti.indexBy != nil && v != "" {
		ti.keyed[v] = insertSorted(ti.keyed[v], e)
	} else {
		ti.any = insertSorted(ti.any, e)
	}
	ti.all = insertSorted(ti.all, e)
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
	ti := ix.types[typeKey{ev.AccountID, ev.Type}]
	if ti == nil {
		return dst
	}
	any := ti.any
	var keyed []entry[W]
	if ti.indexBy != nil {
		if v := ti.indexBy.Value(ev, before); v != "" {
			keyed = ti.keyed[v]
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
	var list []entry[W]
	if ti := ix.types[typeKey{ev.AccountID, ev.Type}]; ti != nil {
		list = ti.all
	}
	out := make([]Candidate[W], 0, len(list))
	for _, e := range list {
		ok, why := e.trigger.Match(ev, before)
		out = append(out, Candidate[W]{Item: e.item, Matched: ok, Reason: why})
	}
	return out
}
