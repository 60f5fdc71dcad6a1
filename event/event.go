package event

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/followflow/followflow/internal/jsonfast"
	"github.com/followflow/followflow/record"
)

// MaxIDLength bounds an event id, the idempotency key, in characters
// (Unicode code points, not bytes).
const MaxIDLength = 200

// MaxSize bounds one encoded event.
const MaxSize = 64 << 10

// Event is one fact the CRM reports.
type Event struct {
	ID            string    `json:"id"`
	Type          string    `json:"type"`
	AccountID     string    `json:"account_id"`
	OccurredAt    time.Time `json:"occurred_at,omitzero"`
	OpportunityID string    `json:"opportunity_id,omitempty"`
	ContactID     string    `json:"contact_id,omitempty"`
	ActorID       string    `json:"actor_id,omitempty"`
	Data          Data      `json:"data,omitzero"`
	// Opportunity and Contact are optional snapshots, upserted before
	// workflows run. Only the fields present are applied.
	Opportunity *OpportunitySnapshot `json:"opportunity,omitempty"`
	Contact     *ContactSnapshot     `json:"contact,omitempty"`
}

// Data holds the type-specific fields of an event.
type Data struct {
	ToStage      string    `json:"to_stage,omitempty" expr:"to_stage"`
	FromStage    string    `json:"from_stage,omitempty" expr:"from_stage"`
	Pipeline     string    `json:"pipeline,omitempty" expr:"pipeline"`
	ToStatus     string    `json:"to_status,omitempty" expr:"to_status"`
	FromStatus   string    `json:"from_status,omitempty" expr:"from_status"`
	Tag          string    `json:"tag,omitempty" expr:"tag"`
	ToOwnerID    string    `json:"to_owner_id,omitempty" expr:"to_owner_id"`
	FromOwnerID  string    `json:"from_owner_id,omitempty" expr:"from_owner_id"`
	Days         int       `json:"days,omitempty" expr:"days"`
	DaysInactive int       `json:"days_inactive,omitempty" expr:"days_inactive"`
	Since        time.Time `json:"since,omitzero" expr:"since"`
}

// OpportunitySnapshot is the state of an opportunity as the CRM sends it
// with an event. A nil field was not sent and is left as it is.
type OpportunitySnapshot struct {
	Name                *string    `json:"name,omitempty"`
	Pipeline            *string    `json:"pipeline,omitempty"`
	Stage               *string    `json:"stage,omitempty"`
	Status              *string    `json:"status,omitempty"`
	Value               *float64   `json:"value,omitempty"`
	OwnerID             *string    `json:"owner_id,omitempty"`
	ContactID           *string    `json:"contact_id,omitempty"`
	Tags                []string   `json:"tags,omitempty"`
	CreatedAt           *time.Time `json:"created_at,omitempty"`
	UpdatedAt           *time.Time `json:"updated_at,omitempty"`
	LastOwnerActivityAt *time.Time `json:"last_owner_activity_at,omitempty"`
}

// ContactSnapshot is the state of a contact as the CRM sends it with an
// event. A nil field was not sent and is left as it is.
type ContactSnapshot struct {
	Name      *string    `json:"name,omitempty"`
	Email     *string    `json:"email,omitempty"`
	OwnerID   *string    `json:"owner_id,omitempty"`
	Tags      []string   `json:"tags,omitempty"`
	CreatedAt *time.Time `json:"created_at,omitempty"`
	UpdatedAt *time.Time `json:"updated_at,omitempty"`
}

// ErrInvalid is matched (errors.Is) by every *InvalidError.
var ErrInvalid = errors.New("invalid event")

// InvalidError says why an event cannot be processed: each problem names the
// field. A queue moves such an event to the dead-letter queue.
type InvalidError struct {
	// ID is the event's id when it could be read.
	ID string
	// Problems lists every problem, e.g. `data.to_stage: required for opportunity.stage_changed`.
	Problems []string
}

func (e *InvalidError) Error() string {
	return "invalid event: " + strings.Join(e.Problems, "; ")
}

// Is makes errors.Is(err, ErrInvalid) true.
func (e *InvalidError) Is(target error) bool { return target == ErrInvalid }

// Decode parses one event from JSON, strictly: unknown fields (a key must
// be a field's name exactly, case included), repeated fields, wrong types,
// bad timestamps, unknown event types and missing required fields are
// reported, each with its field. When occurred_at is absent, pushedAt is
// used (pass the zero time to keep it zero). The usual JSON is read without
// encoding/json's reflection (decodeFast), with the result decodeSlow
// would give.
func Decode(b []byte, pushedAt time.Time) (*Event, error) {
	return decode(b, "", pushedAt)
}

// DecodeString is Decode of a string: the event's strings share s instead
// of a copy of it.
func DecodeString(s string, pushedAt time.Time) (*Event, error) {
	return decode(nil, s, pushedAt)
}

// decode decodes b, or s when b is nil.
func decode(b []byte, s string, pushedAt time.Time) (*Event, error) {
	if len(b) > MaxSize || len(s) > MaxSize {
		return nil, &InvalidError{Problems: []string{fmt.Sprintf("larger than %d bytes", MaxSize)}}
	}
	ev := new(Event)
	var d *jsonfast.Decoder
	if b != nil {
		d = jsonfast.New(b)
	} else {
		d = jsonfast.NewString(s)
	}
	if !decodeFast(d, ev) {
		if b == nil {
			b = []byte(s)
		}
		*ev = Event{}
		if err := decodeSlow(b, ev); err != nil {
			return nil, err
		}
	}
	if ev.OccurredAt.IsZero() {
		ev.OccurredAt = pushedAt
	}
	if err := ev.Validate(); err != nil {
		return nil, err
	}
	return ev, nil
}

// Validate checks the fields of a decoded event and returns an
// *InvalidError listing every problem, or nil.
func (ev *Event) Validate() error {
	var p []string
	add := func(format string, args ...any) { p = append(p, fmt.Sprintf(format, args...)) }
	switch {
	case ev.ID == "":
		add("id: required")
	case len(ev.ID) > MaxIDLength && utf8.RuneCountInString(ev.ID) > MaxIDLength:
		// A character takes at least one byte: most ids are not counted.
		add("id: %d characters, at most %d allowed", utf8.RuneCountInString(ev.ID), MaxIDLength)
	}
	if ev.AccountID == "" {
		add("account_id: required")
	}
	spec, known := Lookup(ev.Type)
	switch {
	case ev.Type == "":
		add("type: required")
	case !known:
		add("type: unknown event type %q", ev.Type)
	}
	if known {
		switch spec.Subject {
		case record.KindOpportunity:
			if ev.OpportunityID == "" {
				add("opportunity_id: required for %s", ev.Type)
			}
		case record.KindContact:
			if ev.ContactID == "" {
				add("contact_id: required for %s", ev.Type)
			}
		}
		for _, f := range spec.Required {
			if ev.Data.isZero(f) {
				add("data.%s: required for %s", f, ev.Type)
			}
		}
		for _, f := range dataFields {
			if !ev.Data.isZero(f) && !contains(spec.Data, f) {
				add("data.%s: not a field of %s", f, ev.Type)
			}
		}
		if ev.Type == OpportunityStatusChanged {
			if s := ev.Data.ToStatus; s != "" && !record.ValidStatus(s) {
				add("data.to_status: %q is not open, won, lost or abandoned", s)
			}
		}
		if ev.Type == OpportunityStale && ev.Data.Days < 0 {
			add("data.days: must be at least 1")
		}
		if ev.Opportunity != nil && spec.Subject != record.KindOpportunity && ev.OpportunityID == "" {
			add("opportunity: a snapshot needs opportunity_id")
		}
		if ev.Contact != nil && ev.ContactID == "" {
			add("contact: a snapshot needs contact_id")
		}
	}
	if s := ev.Opportunity; s != nil && s.Status != nil && !record.ValidStatus(*s.Status) {
		add("opportunity.status: %q is not open, won, lost or abandoned", *s.Status)
	}
	if len(p) > 0 {
		return &InvalidError{ID: ev.ID, Problems: p}
	}
	return nil
}

var dataFields = []string{"to_stage", "from_stage", "pipeline", "to_status", "from_status", "tag", "to_owner_id", "from_owner_id", "days", "days_inactive", "since"}

func (d *Data) isZero(field string) bool {
	switch field {
	case "to_stage":
		return d.ToStage == ""
	case "from_stage":
		return d.FromStage == ""
	case "pipeline":
		return d.Pipeline == ""
	case "to_status":
		return d.ToStatus == ""
	case "from_status":
		return d.FromStatus == ""
	case "tag":
		return d.Tag == ""
	case "to_owner_id":
		return d.ToOwnerID == ""
	case "from_owner_id":
		return d.FromOwnerID == ""
	case "days":
		return d.Days == 0
	case "days_inactive":
		return d.DaysInactive == 0
	case "since":
		return d.Since.IsZero()
	}
	return true
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Encode returns the event as one line of JSON (no trailing newline).
func Encode(ev *Event) ([]byte, error) { return json.Marshal(ev) }

// RecordKey returns the kind and id of the record the event concerns (the
// unit of ordering).
func (ev *Event) RecordKey() (record.Kind, string) {
	if spec, ok := Lookup(ev.Type); ok && spec.Subject == record.KindContact {
		return record.KindContact, ev.ContactID
	}
	return record.KindOpportunity, ev.OpportunityID
}
