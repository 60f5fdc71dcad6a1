package actions

import (
	"context"
	"time"

	"github.com/followflow/followflow/conditions"
	"github.com/followflow/followflow/event"
	"github.com/followflow/followflow/record"
)

// State is the working set of one event, implemented by the engine: reads
// see the changes made so far, and changes are committed together.
type State interface {
	// ResolveUser finds a user of the account by id or, failing that, by
	// email (case-insensitive). It returns nil, nil when there is none.
	ResolveUser(ctx context.Context, accountID, ref string) (*record.User, error)
	// OpportunitiesByContact returns the working copies of the account's
	// opportunities linked to the contact, in order of id.
	OpportunitiesByContact(ctx context.Context, accountID, contactID string) ([]*record.Opportunity, error)
	// SetFollowers replaces the followers of a working copy.
	SetFollowers(o *record.Opportunity, followers []string)
	// AddHistory adds an empty history entry to the commit and returns it,
	// to be filled in before the next call.
	AddHistory() *record.HistoryEntry
}

// Run is the context steps run in: one workflow, one event.
type Run struct {
	Ctx        context.Context
	State      State
	Event      *event.Event
	WorkflowID string
	// Now is the clock's time for the event.
	Now time.Time
	// Eval evaluates conditions with a reused VM.
	Eval *conditions.Evaluator
	// Trace asks steps to describe what they did.
	Trace bool

	// Opportunity is the opportunity in context (a working copy), or nil.
	Opportunity *record.Opportunity
	// Contact is the event's contact (a working copy), or nil.
	Contact *record.Contact

	env      conditions.Env
	envOpp   conditions.Opportunity
	envCon   conditions.Contact
	envEvent conditions.Event
	envFresh bool
}

// Reset prepares the run for a workflow, keeping its buffers.
func (r *Run) Reset(workflowID string, opp *record.Opportunity, contact *record.Contact) {
	r.WorkflowID = workflowID
	if r.Opportunity != opp || r.Contact != contact {
		r.Opportunity = opp
		r.Contact = contact
		r.envFresh = false
	}
}

// NewEvent prepares the run for an event: the environment is rebuilt.
func (r *Run) NewEvent() { r.envFresh = false }

// Env returns the environment for expressions, built from the current state
// the first time it is needed after a change.
func (r *Run) Env() *conditions.Env {
	if r.envFresh {
		return &r.env
	}
	r.env = conditions.Env{Now: r.Now}
	if r.Opportunity != nil {
		conditions.SetOpportunity(&r.envOpp, r.Opportunity, r.Now)
		r.env.Opportunity = &r.envOpp
	}
	if r.Contact != nil {
		conditions.SetContact(&r.envCon, r.Contact)
		r.env.Contact = &r.envCon
	}
	if r.Event != nil {
		conditions.SetEvent(&r.envEvent, r.Event)
		r.env.Event = &r.envEvent
	}
	r.envFresh = true
	return &r.env
}

// Changed marks the environment stale after a change of state or context.
func (r *Run) Changed() { r.envFresh = false }

// FollowersChanged updates the environment after a change of the
// followers of the opportunity in context, and nothing else.
func (r *Run) FollowersChanged() {
	if r.envFresh && r.env.Opportunity != nil {
		r.envOpp.Followers = r.Opportunity.Followers
	}
}

// addHistory records a history entry about the event's record, filled with
// what the run knows.
func (r *Run) addHistory(kind record.Kind, id, step, userID string, outcome record.Outcome, detail string) {
	*r.State.AddHistory() = record.HistoryEntry{
		AccountID:  r.Event.AccountID,
		Kind:       kind,
		RecordID:   id,
		At:         r.Event.OccurredAt,
		EventID:    r.Event.ID,
		WorkflowID: r.WorkflowID,
		Step:       step,
		UserID:     userID,
		Outcome:    outcome,
		Detail:     detail,
	}
}
