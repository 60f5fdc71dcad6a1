package conditions

import (
	"time"

	"github.com/followflow/followflow/event"
	"github.com/followflow/followflow/record"
)

// Env is what an expression sees. Opportunity and Contact are nil when there
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

// SetOpportunity copies o into dst. The slices are shared, not copied: the
// record package never changes a follower or tag slice in place.
func SetOpportunity(dst *Opportunity, o *record.Opportunity, now time.Time) {
	*dst = Opportunity{
		ID: o.ID, AccountID: o.AccountID, Name: o.Name, Pipeline: o.Pipeline,
		Stage: o.Stage, Status: o.Status, Value: o.Value, OwnerID: o.OwnerID,
		ContactID: o.ContactID, Tags: o.Tags, Followers: o.Followers,
		CreatedAt: o.CreatedAt, UpdatedAt: o.UpdatedAt,
		LastOwnerActivityAt: o.LastOwnerActivityAt,
		DaysInactive:        DaysBetween(o.LastOwnerActivityAt, now),
	}
}

// SetContact copies c into dst (slices shared, as in SetOpportunity).
func SetContact(dst *Contact, c *record.Contact) {
	*dst = Contact{
		ID: c.ID, AccountID: c.AccountID, Name: c.Name, Email: c.Email,
		OwnerID: c.OwnerID, Tags: c.Tags, Followers: c.Followers,
		CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt,
	}
}

// SetEvent copies ev into dst.
func SetEvent(dst *Event, ev *event.Event) {
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
