package triggers

import (
	"fmt"
	"slices"
	"strconv"

	"github.com/followflow/followflow/event"
)

// Before is the state of the event's record as it was before the event,
// for filters the event does not carry (SPEC §4).
type Before struct {
	Stage    string
	Pipeline string
	Status   string
}

// FilterSpec is one filter a trigger kind accepts.
type FilterSpec struct {
	// Name is the filter's YAML key.
	Name string
	// Required filters must be given.
	Required bool
	// Integer filters take an integer >= 1 (stale days).
	Integer bool
	// Value reads the event's value for the filter.
	Value func(ev *event.Event, before *Before) string
}

// Kind is a trigger kind: an event type and its filters.
type Kind struct {
	// Type is the event type, also the trigger's YAML name.
	Type string
	// Filters the kind accepts.
	Filters []FilterSpec
	// IndexBy names the filter whose value indexes workflows ("" for none).
	IndexBy string
}

// Filter returns the kind's filter of that name.
func (k *Kind) Filter(name string) (*FilterSpec, bool) {
	for i := range k.Filters {
		if k.Filters[i].Name == name {
			return &k.Filters[i], true
		}
	}
	return nil, false
}

// FilterNames returns the names of the kind's filters.
func (k *Kind) FilterNames() []string {
	names := make([]string, len(k.Filters))
	for i, f := range k.Filters {
		names[i] = f.Name
	}
	return names
}

// Registry maps trigger names to kinds.
type Registry struct {
	kinds map[string]*Kind
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{kinds: map[string]*Kind{}} }

// Register adds a kind; a second kind of the same type is an error.
func (r *Registry) Register(k *Kind) error {
	if _, ok := event.Lookup(k.Type); !ok {
		return fmt.Errorf("registering trigger %q: not an event type", k.Type)
	}
	if _, dup := r.kinds[k.Type]; dup {
		return fmt.Errorf("registering trigger %q: already registered", k.Type)
	}
	r.kinds[k.Type] = k
	return nil
}

// Lookup returns the kind of that name.
func (r *Registry) Lookup(name string) (*Kind, bool) {
	k, ok := r.kinds[name]
	return k, ok
}

// Names returns the registered kinds' names, sorted.
func (r *Registry) Names() []string {
	names := make([]string, 0, len(r.kinds))
	for n := range r.kinds {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Default is the registry of the built-in trigger kinds, one per event type.
var Default = func() *Registry {
	r := NewRegistry()
	for _, k := range builtin() {
		if err := r.Register(k); err != nil {
			panic(err) // a programming error in builtin()
		}
	}
	return r
}()

func builtin() []*Kind {
	toStage := FilterSpec{Name: "to_stage", Value: func(ev *event.Event, _ *Before) string { return ev.Data.ToStage }}
	fromStage := FilterSpec{Name: "from_stage", Value: func(ev *event.Event, b *Before) string {
		if ev.Data.FromStage != "" {
			return ev.Data.FromStage
		}
		return b.Stage
	}}
	pipeline := FilterSpec{Name: "pipeline", Value: func(ev *event.Event, b *Before) string {
		if ev.Data.Pipeline != "" {
			return ev.Data.Pipeline
		}
		return b.Pipeline
	}}
	toStatus := FilterSpec{Name: "to_status", Value: func(ev *event.Event, _ *Before) string { return ev.Data.ToStatus }}
	fromStatus := FilterSpec{Name: "from_status", Value: func(ev *event.Event, b *Before) string {
		if ev.Data.FromStatus != "" {
			return ev.Data.FromStatus
		}
		return b.Status
	}}
	tag := FilterSpec{Name: "tag", Required: true, Value: func(ev *event.Event, _ *Before) string { return ev.Data.Tag }}
	days := FilterSpec{Name: "days", Required: true, Integer: true, Value: func(ev *event.Event, _ *Before) string {
		return strconv.Itoa(ev.Data.Days)
	}}
	return []*Kind{
		{Type: event.OpportunityCreated},
		{Type: event.OpportunityUpdated},
		{Type: event.OpportunityStageChanged, Filters: []FilterSpec{toStage, fromStage, pipeline}, IndexBy: "to_stage"},
		{Type: event.OpportunityStatusChanged, Filters: []FilterSpec{toStatus, fromStatus}, IndexBy: "to_status"},
		{Type: event.OpportunityTagApplied, Filters: []FilterSpec{tag}, IndexBy: "tag"},
		{Type: event.OpportunityTagRemoved, Filters: []FilterSpec{tag}, IndexBy: "tag"},
		{Type: event.OpportunityOwnerChanged},
		{Type: event.OpportunityActivity},
		{Type: event.OpportunityStale, Filters: []FilterSpec{days}, IndexBy: "days"},
		{Type: event.ContactCreated},
		{Type: event.ContactUpdated},
		{Type: event.ContactTagApplied, Filters: []FilterSpec{tag}, IndexBy: "tag"},
		{Type: event.ContactTagRemoved, Filters: []FilterSpec{tag}, IndexBy: "tag"},
	}
}
