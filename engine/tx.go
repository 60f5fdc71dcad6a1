package engine

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/followflow/followflow/record"
	"github.com/followflow/followflow/store"
)

// tx is the working set of one event: the records it read, as it changed
// them, and the history to commit. It implements actions.State.
type tx struct {
	ctx     context.Context
	st      store.Store
	account string

	opps     []*oppEntry
	contacts []*contactEntry
	users    []userEntry

	// spareOpps and spareUsers keep entries of earlier events for reuse.
	spareOpps  []*oppEntry
	spareUsers []record.User

	cs store.Changeset
}

type oppEntry struct {
	rec   record.Opportunity
	dirty bool
}

type contactEntry struct {
	rec   record.Contact
	dirty bool
}

type userEntry struct {
	ref  string
	user *record.User
}

func (t *tx) reset(ctx context.Context, st store.Store, account string) {
	t.ctx, t.st, t.account = ctx, st, account
	for _, e := range t.opps {
		*e = oppEntry{}
		t.spareOpps = append(t.spareOpps, e)
	}
	clear(t.opps)
	t.opps = t.opps[:0]
	clear(t.spareUsers)
	t.spareUsers = t.spareUsers[:0]
	clear(t.contacts)
	t.contacts = t.contacts[:0]
	clear(t.users)
	t.users = t.users[:0]
	t.cs.Reset()
}

// opportunity returns the working copy of an opportunity, loading it, or nil
// when it does not exist.
func (t *tx) opportunity(id string) (*oppEntry, error) {
	for _, e := range t.opps {
		if e.rec.ID == id {
			return e, nil
		}
	}
	o, err := t.st.Opportunity(t.ctx, t.account, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	e := t.oppEntry()
	e.rec = o
	t.opps = append(t.opps, e)
	return e, nil
}

// eventOpportunity is opportunity for the record of the event eventID, read
// first. When the store reads both in one call (store.EventReader), an
// event already in the ledger stops here with store.ErrAlreadyProcessed.
func (t *tx) eventOpportunity(id, eventID string) (*oppEntry, error) {
	er, ok := t.st.(store.EventReader)
	if !ok || eventID == "" || len(t.opps) > 0 {
		return t.opportunity(id)
	}
	o, processed, err := er.OpportunityForEvent(t.ctx, t.account, id, eventID)
	switch {
	case processed:
		return nil, store.ErrAlreadyProcessed
	case errors.Is(err, store.ErrNotFound):
		return nil, nil
	case err != nil:
		return nil, err
	}
	e := t.oppEntry()
	e.rec = o
	t.opps = append(t.opps, e)
	return e, nil
}

// oppEntry returns an empty entry, reused when possible.
func (t *tx) oppEntry() *oppEntry {
	if n := len(t.spareOpps); n > 0 {
		e := t.spareOpps[n-1]
		t.spareOpps = t.spareOpps[:n-1]
		return e
	}
	return new(oppEntry)
}

// newOpportunity adds a record that does not exist yet (version 0).
func (t *tx) newOpportunity(o record.Opportunity) *oppEntry {
	e := t.oppEntry()
	e.rec, e.dirty = o, true
	t.opps = append(t.opps, e)
	return e
}

func (t *tx) contact(id string) (*contactEntry, error) {
	for _, e := range t.contacts {
		if e.rec.ID == id {
			return e, nil
		}
	}
	c, err := t.st.Contact(t.ctx, t.account, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	e := &contactEntry{rec: c}
	t.contacts = append(t.contacts, e)
	return e, nil
}

func (t *tx) newContact(c record.Contact) *contactEntry {
	e := &contactEntry{rec: c, dirty: true}
	t.contacts = append(t.contacts, e)
	return e
}

// OpportunitiesByContact implements actions.State.
func (t *tx) OpportunitiesByContact(ctx context.Context, accountID, contactID string) ([]*record.Opportunity, error) {
	stored, err := t.st.OpportunitiesByContact(ctx, accountID, contactID)
	if err != nil {
		return nil, err
	}
	out := make([]*record.Opportunity, 0, len(stored))
	for _, o := range stored {
		e, err := t.opportunity(o.ID)
		if err != nil {
			return nil, err
		}
		if e != nil && e.rec.ContactID == contactID {
			out = append(out, &e.rec)
		}
	}
	// Records created or relinked by this event are not in the store yet.
	for _, e := range t.opps {
		if e.rec.ContactID == contactID && !slices.ContainsFunc(out, func(o *record.Opportunity) bool { return o.ID == e.rec.ID }) {
			out = append(out, &e.rec)
		}
	}
	slices.SortFunc(out, func(a, b *record.Opportunity) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// SetFollowers implements actions.State.
func (t *tx) SetFollowers(o *record.Opportunity, followers []string) {
	o.Followers = followers
	for _, e := range t.opps {
		if &e.rec == o {
			e.dirty = true
		}
	}
}

// AddHistory implements actions.State.
// The entries go straight into the changeset, which reset emptied.
func (t *tx) AddHistory() *record.HistoryEntry {
	t.cs.History = append(t.cs.History, record.HistoryEntry{})
	return &t.cs.History[len(t.cs.History)-1]
}

// changeset builds the commit: written records at the versions they were
// read, the other records read as Reads, the history and the ledger entry.
func (t *tx) changeset(eventID string, fence *store.Fence) *store.Changeset {
	cs := &t.cs // History: gathered by AddHistory since reset
	cs.Reads = cs.Reads[:0]
	clear(cs.Opportunities)
	cs.Opportunities = cs.Opportunities[:0]
	clear(cs.Contacts)
	cs.Contacts = cs.Contacts[:0]
	cs.AccountID, cs.EventID, cs.Fence = t.account, eventID, fence
	for _, e := range t.opps {
		if e.dirty {
			cs.Opportunities = append(cs.Opportunities, e.rec)
		} else {
			cs.Reads = append(cs.Reads, store.Ref{Kind: record.KindOpportunity, AccountID: t.account, ID: e.rec.ID, Version: e.rec.Version})
		}
	}
	for _, e := range t.contacts {
		if e.dirty {
			cs.Contacts = append(cs.Contacts, e.rec)
		} else {
			cs.Reads = append(cs.Reads, store.Ref{Kind: record.KindContact, AccountID: t.account, ID: e.rec.ID, Version: e.rec.Version})
		}
	}
	return cs
}
