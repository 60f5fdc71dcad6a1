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
	ResolveUser(ctx context.Context, accountID string, ref *UserRef) (*record.User, error)
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

	factsBuf conditions.Facts
}

// Reset prepares the run for a workflow.
func (r *Run) Reset(workflowID string, opp *record.Opportunity, contact *record.Contact) {
	r.WorkflowID, r.Opportunity, r.Contact = workflowID, opp, contact
}

// facts returns what conditions see: the records in context now.
func (r *Run) facts() *conditions.Facts {
	r.factsBuf = conditions.Facts{Opportunity: r.Opportunity, Contact: r.Contact, Event: r.Event, Now: r.Now}
	return &r.factsBuf
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
