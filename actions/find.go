package actions

import (
	"fmt"

	"go.yaml.in/yaml/v3"

	"github.com/followflow/followflow/diag"
	"github.com/followflow/followflow/internal/yamlx"
	"github.com/followflow/followflow/record"
	"github.com/followflow/followflow/trace"
)

// Selections of find_opportunity.
const (
	SelectNewest       = "newest"
	SelectOldest       = "oldest"
	SelectHighestValue = "highest_value"
)

// FindOpportunity makes one of the opportunities linked to the event's
// contact the opportunity in context.
type FindOpportunity struct {
	pos      diag.Pos
	Pipeline string
	Stage    string
	// Status defaults to open.
	Status string
	// Select is newest (default), oldest or highest_value.
	Select string
}

var findOpportunityKind = &Kind{
	Name: "find_opportunity",
	Decode: func(d *Decoder, node *yaml.Node, fields []yamlx.Field, path string) Step {
		f, _ := field(fields, "find_opportunity")
		path = yamlx.Join(path, "find_opportunity")
		s := &FindOpportunity{pos: d.Pos(node), Status: record.StatusOpen, Select: SelectNewest}
		if f.Value.Tag == "!!null" {
			return s
		}
		ok := f.Value.Kind == yaml.MappingNode
		for _, c := range d.Fields(f.Value, path, "pipeline", "stage", "status", "select") {
			p := yamlx.Join(path, c.Key)
			v, good := d.NonEmptyString(c.Value, p)
			if !good {
				ok = false
				continue
			}
			switch c.Key {
			case "pipeline":
				s.Pipeline = v
			case "stage":
				s.Stage = v
			case "status":
				if !record.ValidStatus(v) {
					d.Errorf(c.Value, p, "%q is not open, won, lost or abandoned", v)
					ok = false
				}
				s.Status = v
			case "select":
				if v != SelectNewest && v != SelectOldest && v != SelectHighestValue {
					d.Errorf(c.Value, p, "%q is not newest, oldest or highest_value", v)
					ok = false
				}
				s.Select = v
			}
		}
		if !ok {
			return nil
		}
		return s
	},
}

// Kind implements Step.
func (s *FindOpportunity) Kind() string { return "find_opportunity" }

// Pos implements Step.
func (s *FindOpportunity) Pos() diag.Pos { return s.pos }

// ProvidesOpportunity implements OpportunityProvider.
func (s *FindOpportunity) ProvidesOpportunity() bool { return true }

// String describes the search.
func (s *FindOpportunity) String() string {
	return fmt.Sprintf("%s %s opportunity (pipeline %q, stage %q)", s.Select, s.Status, s.Pipeline, s.Stage)
}

// Run implements Step. When nothing is found, there is no opportunity in
// context afterwards.
func (s *FindOpportunity) Run(r *Run, out *[]trace.Step) (bool, error) {
	contactID := r.Event.ContactID
	if contactID == "" && r.Contact != nil {
		contactID = r.Contact.ID
	}
	if contactID == "" && r.Opportunity != nil {
		contactID = r.Opportunity.ContactID
	}
	var found *record.Opportunity
	if contactID != "" {
		list, err := r.State.OpportunitiesByContact(r.Ctx, r.Event.AccountID, contactID)
		if err != nil {
			return false, err
		}
		for _, o := range list {
			if !s.matches(o) {
				continue
			}
			if found == nil || s.better(o, found) {
				found = o
			}
		}
	}
	r.Opportunity = found
	if r.Trace {
		t := trace.Step{Kind: s.Kind()}
		if found != nil {
			t.OpportunityID = found.ID
		}
		*out = append(*out, t)
	}
	return true, nil
}

func (s *FindOpportunity) matches(o *record.Opportunity) bool {
	return o.Status == s.Status &&
		(s.Pipeline == "" || o.Pipeline == s.Pipeline) &&
		(s.Stage == "" || o.Stage == s.Stage)
}

// better reports whether o is a better pick than cur. Candidates come in
// order of id, so ties keep the lowest id.
func (s *FindOpportunity) better(o, cur *record.Opportunity) bool {
	switch s.Select {
	case SelectOldest:
		return o.CreatedAt.Before(cur.CreatedAt)
	case SelectHighestValue:
		return o.Value > cur.Value
	default:
		return o.CreatedAt.After(cur.CreatedAt)
	}
}
