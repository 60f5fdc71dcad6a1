package conditions

import (
	"time"

	"github.com/followflow/followflow/event"
	"github.com/followflow/followflow/record"
)

// Facts are what an expression is about: the records in context as the
// engine holds them, the event and the clock's time. Expressions never
// change them.
type Facts struct {
	Opportunity *record.Opportunity
	Contact     *record.Contact
	Event       *event.Event
	Now         time.Time
}

// envBuf holds an Env and what it points to, filled from Facts for each
// run of the VM: the VM sees plain copies, never the records.
type envBuf struct {
	env Env
	opp Opportunity
	con Contact
	ev  Event
}

func (b *envBuf) fill(f *Facts) *Env {
	b.env = Env{Now: f.Now}
	if f.Opportunity != nil {
		setOpportunity(&b.opp, f.Opportunity, f.Now)
		b.env.Opportunity = &b.opp
	}
	if f.Contact != nil {
		setContact(&b.con, f.Contact)
		b.env.Contact = &b.con
	}
	if f.Event != nil {
		setEvent(&b.ev, f.Event)
		b.env.Event = &b.ev
	}
	return &b.env
}

// Env is what an expression sees in the VM: Facts, copied. Opportunity and Contact are nil when there
// is none in context; using one then fails at run time, which makes the
// condition false with the error recorded.
type Env struct {
	Opportunity *Opportunity `expr:"opportunity"`
	Contact     *Contact     `expr:"contact"`
	Event       *Event       `expr:"event"`
	Now         time.Time    `expr:"now"`
}

// Opportunity is an opportunity as expressions see it: the fields of SPEC §1
// plus days_inactive.
type Opportunity struct {
	ID                  string    `expr:"id"`
	AccountID           string    `expr:"account_id"`
	Name                string    `expr:"name"`
	Pipeline            string    `expr:"pipeline"`
	Stage               string    `expr:"stage"`
	Status              string    `expr:"status"`
	Value               float64   `expr:"value"`
	OwnerID             string    `expr:"owner_id"`
	ContactID           string    `expr:"contact_id"`
	Tags                []string  `expr:"tags"`
	Followers           []string  `expr:"followers"`
	CreatedAt           time.Time `expr:"created_at"`
	UpdatedAt           time.Time `expr:"updated_at"`
	LastOwnerActivityAt time.Time `expr:"last_owner_activity_at"`
	// DaysInactive is whole days from last_owner_activity_at to now.
	DaysInactive int `expr:"days_inactive"`
}

// Contact is a contact as expressions see it.
type Contact struct {
	ID        string    `expr:"id"`
	AccountID string    `expr:"account_id"`
	Name      string    `expr:"name"`
	Email     string    `expr:"email"`
	OwnerID   string    `expr:"owner_id"`
	Tags      []string  `expr:"tags"`
	Followers []string  `expr:"followers"`
	CreatedAt time.Time `expr:"created_at"`
	UpdatedAt time.Time `expr:"updated_at"`
}

// Event is an event as expressions see it.
type Event struct {
	ID            string     `expr:"id"`
	Type          string     `expr:"type"`
	AccountID     string     `expr:"account_id"`
	OccurredAt    time.Time  `expr:"occurred_at"`
	ActorID       string     `expr:"actor_id"`
	OpportunityID string     `expr:"opportunity_id"`
	ContactID     string     `expr:"contact_id"`
	Data          event.Data `expr:"data"`
}

// setOpportunity copies o into dst. The slices are shared, not copied: the
// record package never changes a follower or tag slice in place.
func setOpportunity(dst *Opportunity, o *record.Opportunity, now time.Time) {
	*dst = Opportunity{
		ID: o.ID, AccountID: o.AccountID, Name: o.Name, Pipeline: o.Pipeline,
		Stage: o.Stage, Status: o.Status, Value: o.Value, OwnerID: o.OwnerID,
		ContactID: o.ContactID, Tags: o.Tags, Followers: o.Followers,
		CreatedAt: o.CreatedAt, UpdatedAt: o.UpdatedAt,
		LastOwnerActivityAt: o.LastOwnerActivityAt,
		DaysInactive:        DaysBetween(o.LastOwnerActivityAt, now),
	}
}

// setContact copies c into dst (slices shared, as in setOpportunity).
func setContact(dst *Contact, c *record.Contact) {
	*dst = Contact{
		ID: c.ID, AccountID: c.AccountID, Name: c.Name, Email: c.Email,
		OwnerID: c.OwnerID, Tags: c.Tags, Followers: c.Followers,
		CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt,
	}
}

// setEvent copies ev into dst.
func setEvent(dst *Event, ev *event.Event) {
	*dst = Event{
		ID: ev.ID, Type: ev.Type, AccountID: ev.AccountID, OccurredAt: ev.OccurredAt,
		ActorID: ev.ActorID, OpportunityID: ev.OpportunityID, ContactID: ev.ContactID,
		Data: ev.Data,
	}
}

// DaysBetween returns the whole days from since to now (0 when since is zero
// or later than now).
func DaysBetween(since, now time.Time) int {
	if since.IsZero() || now.Before(since) {
		return 0
	}
	return int(now.Sub(since) / (24 * time.Hour))
}
