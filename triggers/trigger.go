package triggers

import (
	"fmt"

	"github.com/followflow/followflow/event"
)

// Trigger is a compiled trigger: a kind and the filter values a workflow set.
type Trigger struct {
	Kind    *Kind
	Filters []Filter
}

// Filter is one filter with the value it requires.
type Filter struct {
	Spec  *FilterSpec
	Value string
}

// Value returns the trigger's value for the named filter, or "".
func (t *Trigger) Value(name string) string {
	for _, f := range t.Filters {
		if f.Spec.Name == name {
			return f.Value
		}
	}
	return ""
}

// Days returns the stale threshold of an opportunity.stale trigger (0 for
// other kinds).
func (t *Trigger) Days() int {
	var d int
	fmt.Sscanf(t.Value("days"), "%d", &d)
	return d
}

// Match reports whether the event matches the trigger, and when not, why.
func (t *Trigger) Match(ev *event.Event, before *Before) (bool, string) {
	if ev.Type != t.Kind.Type {
		return false, fmt.Sprintf("event is %s, not %s", ev.Type, t.Kind.Type)
	}
	for _, f := range t.Filters {
		if got := f.Spec.Value(ev, before); got != f.Value {
			if got == "" {
				return false, fmt.Sprintf("%s is empty, not %s", f.Spec.Name, f.Value)
			}
			return false, fmt.Sprintf("%s is %s, not %s", f.Spec.Name, got, f.Value)
		}
	}
	return true, ""
}

// Matches is Match without the reason, for the hot path.
func (t *Trigger) Matches(ev *event.Event, before *Before) bool {
	if ev.Type != t.Kind.Type {
		return false
	}
	for _, f := range t.Filters {
		if f.Spec.Value(ev, before) != f.Value {
			return false
		}
	}
	return true
}
