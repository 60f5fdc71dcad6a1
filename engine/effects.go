package engine

import (
	"slices"
	"time"

	"github.com/followflow/followflow/event"
	"github.com/followflow/followflow/record"
	"github.com/followflow/followflow/triggers"
)

// applied is what applying an event's effects left: the records in context
// and the state of the event's record before the event.
type applied struct {
	opp     *oppEntry
	contact *contactEntry
	before  triggers.Before
}

// applyEffects upserts the event's snapshots and applies its type's effect
// (SPEC §3) to the working set. A record the event concerns that does not
// exist is created from what the event carries.
func applyEffects(t *tx, ev *event.Event) (applied, error) {
	var a applied
	at := ev.OccurredAt
	if ev.OpportunityID != "" {
		e, err := t.eventOpportunity(ev.OpportunityID, ev.ID)
		if err != nil {
			return a, err
		}
		if e == nil {
			e = t.newOpportunity(record.Opportunity{
				ID: ev.OpportunityID, AccountID: ev.AccountID, Status: record.StatusOpen,
				CreatedAt: at, UpdatedAt: at, LastOwnerActivityAt: at,
			})
			a.before = triggers.Before{}
		} else {
			a.before = triggers.Before{Stage: e.rec.Stage, Pipeline: e.rec.Pipeline, Status: e.rec.Status}
		}
		a.opp = e
		if s := ev.Opportunity; s != nil {
			applyOpportunitySnapshot(e, s, at)
		}
	}
	if ev.ContactID != "" && (ev.Contact != nil || isContactEvent(ev)) {
		e, err := t.contact(ev.ContactID)
		if err != nil {
			return a, err
		}
		if e == nil {
			e = t.newContact(record.Contact{ID: ev.ContactID, AccountID: ev.AccountID, CreatedAt: at, UpdatedAt: at})
		}
		a.contact = e
		if s := ev.Contact; s != nil {
			applyContactSnapshot(e, s, at)
		}
	}
	switch ev.Type {
	case event.OpportunityStageChanged:
		setStr(a.opp, &a.opp.rec.Stage, ev.Data.ToStage, at)
		if ev.Data.Pipeline != "" {
			setStr(a.opp, &a.opp.rec.Pipeline, ev.Data.Pipeline, at)
		}
	case event.OpportunityStatusChanged:
		setStr(a.opp, &a.opp.rec.Status, ev.Data.ToStatus, at)
	case event.OpportunityTagApplied:
		setTags(a.opp, record.AddTag(a.opp.rec.Tags, ev.Data.Tag), at)
	case event.OpportunityTagRemoved:
		setTags(a.opp, record.RemoveTag(a.opp.rec.Tags, ev.Data.Tag), at)
	case event.OpportunityOwnerChanged:
		setStr(a.opp, &a.opp.rec.OwnerID, ev.Data.ToOwnerID, at)
		restartOwnerClock(a.opp, at)
	case event.OpportunityActivity:
		if ev.ActorID != "" && ev.ActorID == a.opp.rec.OwnerID && at.After(a.opp.rec.LastOwnerActivityAt) {
			a.opp.rec.LastOwnerActivityAt = at
			a.opp.dirty = true
		}
	case event.ContactTagApplied:
		setContactTags(a.contact, record.AddTag(a.contact.rec.Tags, ev.Data.Tag), at)
	case event.ContactTagRemoved:
		setContactTags(a.contact, record.RemoveTag(a.contact.rec.Tags, ev.Data.Tag), at)
	}
	return a, nil
}

func isContactEvent(ev *event.Event) bool {
	k, _ := ev.RecordKey()
	return k == record.KindContact
}

func setStr(e *oppEntry, field *string, v string, at time.Time) {
	if *field != v {
		*field = v
		touch(e, at)
	}
}

func setTags(e *oppEntry, tags []string, at time.Time) {
	if len(tags) != len(e.rec.Tags) {
		e.rec.Tags = tags
		touch(e, at)
	}
}

func touch(e *oppEntry, at time.Time) {
	e.dirty = true
	if at.After(e.rec.UpdatedAt) {
		e.rec.UpdatedAt = at
	}
}

func restartOwnerClock(e *oppEntry, at time.Time) {
	if !e.rec.LastOwnerActivityAt.Equal(at) {
		e.rec.LastOwnerActivityAt = at
		e.dirty = true
	}
}

func applyOpportunitySnapshot(e *oppEntry, s *event.OpportunitySnapshot, at time.Time) {
	o := &e.rec
	isNew := o.Version == 0
	if s.Name != nil {
		setStr(e, &o.Name, *s.Name, at)
	}
	if s.Pipeline != nil {
		setStr(e, &o.Pipeline, *s.Pipeline, at)
	}
	if s.Stage != nil {
		setStr(e, &o.Stage, *s.Stage, at)
	}
	if s.Status != nil {
		setStr(e, &o.Status, *s.Status, at)
	}
	if s.Value != nil && *s.Value != o.Value {
		o.Value = *s.Value
		touch(e, at)
	}
	if s.OwnerID != nil && *s.OwnerID != o.OwnerID {
		o.OwnerID = *s.OwnerID
		touch(e, at)
		if !isNew {
			restartOwnerClock(e, at) // a new owner starts a new episode
		}
	}
	if s.ContactID != nil {
		setStr(e, &o.ContactID, *s.ContactID, at)
	}
	if s.Tags != nil && !slices.Equal(s.Tags, o.Tags) {
		o.Tags = slices.Clone(s.Tags)
		touch(e, at)
	}
	if s.CreatedAt != nil && !s.CreatedAt.Equal(o.CreatedAt) {
		if isNew && o.LastOwnerActivityAt.Equal(o.CreatedAt) && s.LastOwnerActivityAt == nil {
			o.LastOwnerActivityAt = *s.CreatedAt
		}
		o.CreatedAt = *s.CreatedAt
		touch(e, at)
	}
	if s.UpdatedAt != nil {
		o.UpdatedAt = *s.UpdatedAt
		e.dirty = true
	}
	if s.LastOwnerActivityAt != nil && !s.LastOwnerActivityAt.Equal(o.LastOwnerActivityAt) {
		o.LastOwnerActivityAt = *s.LastOwnerActivityAt
		e.dirty = true
	}
}

func applyContactSnapshot(e *contactEntry, s *event.ContactSnapshot, at time.Time) {
	c := &e.rec
	changed := false
	set := func(field *string, v *string) {
		if v != nil && *field != *v {
			*field = *v
			changed = true
		}
	}
	set(&c.Name, s.Name)
	set(&c.Email, s.Email)
	set(&c.OwnerID, s.OwnerID)
	if s.Tags != nil && !slices.Equal(s.Tags, c.Tags) {
		c.Tags = slices.Clone(s.Tags)
		changed = true
	}
	if s.CreatedAt != nil && !s.CreatedAt.Equal(c.CreatedAt) {
		c.CreatedAt = *s.CreatedAt
		changed = true
	}
	if changed {
		markContact(e, at)
	}
	if s.UpdatedAt != nil {
		c.UpdatedAt = *s.UpdatedAt
		e.dirty = true
	}
}

func setContactTags(e *contactEntry, tags []string, at time.Time) {
	if len(tags) != len(e.rec.Tags) {
		e.rec.Tags = tags
		markContact(e, at)
	}
}

func markContact(e *contactEntry, at time.Time) {
	e.dirty = true
	if at.After(e.rec.UpdatedAt) {
		e.rec.UpdatedAt = at
	}
}
