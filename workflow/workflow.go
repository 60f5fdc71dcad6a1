package workflow

import (
	"slices"
	"strings"

	"github.com/followflow/followflow/actions"
	"github.com/followflow/followflow/diag"
	"github.com/followflow/followflow/event"
	"github.com/followflow/followflow/triggers"
)

// Workflow is a loaded, compiled workflow.
type Workflow struct {
	ID        string
	Name      string
	AccountID string
	Enabled   bool
	Trigger   *triggers.Trigger
	Steps     []actions.Step
	// Pos is where the workflow's document starts.
	Pos diag.Pos
	// UsesContact: some expression may read contact, so the engine loads
	// the opportunity's contact for it.
	UsesContact bool
}

func usesContact(steps []actions.Step) bool {
	for _, s := range steps {
		if e, ok := s.(actions.ExprUser); ok {
			for _, p := range e.Programs() {
				if strings.Contains(p.Source(), "contact") {
					return true
				}
			}
		}
		if b, ok := s.(actions.Branching); ok {
			for _, br := range b.Branches() {
				if usesContact(br) {
					return true
				}
			}
		}
	}
	return false
}

// Set is a loaded set of workflows, indexed for matching. It is immutable
// and safe for concurrent use; a reload builds a new Set.
type Set struct {
	workflows  []*Workflow
	enabled    *triggers.Index[*Workflow]
	all        *triggers.Index[*Workflow]
	thresholds map[string][]int
}

// NewSet indexes workflows. Workflow ids must be unique within an account
// (Load reports duplicates; NewSet keeps the first).
func NewSet(wfs []*Workflow) *Set {
	s := &Set{
		enabled:    triggers.NewIndex[*Workflow](),
		all:        triggers.NewIndex[*Workflow](),
		thresholds: map[string][]int{},
	}
	seen := map[[2]string]bool{}
	for _, w := range wfs {
		key := [2]string{w.AccountID, w.ID}
		if seen[key] {
			continue
		}
		seen[key] = true
		s.workflows = append(s.workflows, w)
		s.all.Add(w.AccountID, w.Trigger, w.ID, w)
		if !w.Enabled {
			continue
		}
		s.enabled.Add(w.AccountID, w.Trigger, w.ID, w)
		if w.Trigger.Kind.Type == event.OpportunityStale {
			days := w.Trigger.Days()
			if !slices.Contains(s.thresholds[w.AccountID], days) {
				s.thresholds[w.AccountID] = append(s.thresholds[w.AccountID], days)
				slices.Sort(s.thresholds[w.AccountID])
			}
		}
	}
	slices.SortFunc(s.workflows, func(a, b *Workflow) int {
		if c := strings.Compare(a.AccountID, b.AccountID); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return s
}

// Workflows returns the workflows in order of account and id.
func (s *Set) Workflows() []*Workflow { return s.workflows }

// Len returns the number of workflows.
func (s *Set) Len() int { return len(s.workflows) }

// Match appends to dst the enabled workflows the event triggers, in order
// of id, and returns it.
func (s *Set) Match(dst []*Workflow, ev *event.Event, before *triggers.Before) []*Workflow {
	return s.enabled.Match(dst, ev, before)
}

// Explain returns every workflow of the event's account and type, in order
// of id, with whether it matches and why not. A disabled workflow never
// matches.
func (s *Set) Explain(ev *event.Event, before *triggers.Before) []triggers.Candidate[*Workflow] {
	cands := s.all.Explain(ev, before)
	for i := range cands {
		if !cands[i].Item.Enabled {
			cands[i].Matched, cands[i].Reason = false, "disabled"
		}
	}
	return cands
}

// StaleThresholds returns, per account, the distinct days of enabled
// opportunity.stale triggers, ascending.
func (s *Set) StaleThresholds() map[string][]int { return s.thresholds }
