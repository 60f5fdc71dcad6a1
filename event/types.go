package event

import (
	"slices"

	"github.com/followflow/followflow/record"
)

// Event types (SPEC §3).
const (
	OpportunityCreated       = "opportunity.created"
	OpportunityUpdated       = "opportunity.updated"
	OpportunityStageChanged  = "opportunity.stage_changed"
	OpportunityStatusChanged = "opportunity.status_changed"
	OpportunityTagApplied    = "opportunity.tag_applied"
	OpportunityTagRemoved    = "opportunity.tag_removed"
	OpportunityOwnerChanged  = "opportunity.owner_changed"
	OpportunityActivity      = "opportunity.activity"
	OpportunityStale         = "opportunity.stale"
	ContactCreated           = "contact.created"
	ContactUpdated           = "contact.updated"
	ContactTagApplied        = "contact.tag_applied"
	ContactTagRemoved        = "contact.tag_removed"
)

// TypeSpec describes one event type: the record it concerns and the data
// fields it requires.
type TypeSpec struct {
	// Name is the type as written in events and workflow triggers.
	Name string
	// Subject is the kind of record the event concerns; its id field
	// (opportunity_id or contact_id) is required.
	Subject record.Kind
	// Required lists the data fields the event must carry.
	Required []string
	// Data lists every data field the type may carry.
	Data []string
}

var typeSpecs = []*TypeSpec{
	{Name: OpportunityCreated, Subject: record.KindOpportunity},
	{Name: OpportunityUpdated, Subject: record.KindOpportunity},
	{Name: OpportunityStageChanged, Subject: record.KindOpportunity, Required: []string{"to_stage"}, Data: []string{"to_stage", "from_stage", "pipeline"}},
	{Name: OpportunityStatusChanged, Subject: record.KindOpportunity, Required: []string{"to_status"}, Data: []string{"to_status", "from_status"}},
	{Name: OpportunityTagApplied, Subject: record.KindOpportunity, Required: []string{"tag"}, Data: []string{"tag"}},
	{Name: OpportunityTagRemoved, Subject: record.KindOpportunity, Required: []string{"tag"}, Data: []string{"tag"}},
	{Name: OpportunityOwnerChanged, Subject: record.KindOpportunity, Required: []string{"to_owner_id"}, Data: []string{"to_owner_id", "from_owner_id"}},
	{Name: OpportunityActivity, Subject: record.KindOpportunity},
	{Name: OpportunityStale, Subject: record.KindOpportunity, Data: []string{"days", "days_inactive", "since"}},
	{Name: ContactCreated, Subject: record.KindContact},
	{Name: ContactUpdated, Subject: record.KindContact},
	{Name: ContactTagApplied, Subject: record.KindContact, Required: []string{"tag"}, Data: []string{"tag"}},
	{Name: ContactTagRemoved, Subject: record.KindContact, Required: []string{"tag"}, Data: []string{"tag"}},
}

var typesByName = func() map[string]*TypeSpec {
	m := make(map[string]*TypeSpec, len(typeSpecs))
	for _, s := range typeSpecs {
		m[s.Name] = s
	}
	return m
}()

// Lookup returns the spec of an event type.
func Lookup(name string) (*TypeSpec, bool) {
	s, ok := typesByName[name]
	return s, ok
}

// Types returns every event type name, sorted.
func Types() []string {
	names := make([]string, 0, len(typeSpecs))
	for _, s := range typeSpecs {
		names = append(names, s.Name)
	}
	slices.Sort(names)
	return names
}
