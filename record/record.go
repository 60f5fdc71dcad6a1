package record

import (
	"slices"
	"time"
)

// MaxFollowers is the most followers a record may have (follower rule 1).
const MaxFollowers = 10

// Roles of a user.
const (
	RoleAdmin = "admin"
	RoleUser  = "user"
)

// Statuses of an opportunity.
const (
	StatusOpen      = "open"
	StatusWon       = "won"
	StatusLost      = "lost"
	StatusAbandoned = "abandoned"
)

// ValidStatus reports whether s is one of the opportunity statuses.
func ValidStatus(s string) bool {
	switch s {
	case StatusOpen, StatusWon, StatusLost, StatusAbandoned:
		return true
	}
	return false
}

// Kind names a kind of record that can have followers and history.
type Kind string

// Record kinds with followers.
const (
	KindOpportunity Kind = "opportunity"
	KindContact     Kind = "contact"
)

// Account is a tenant. Nothing ever crosses accounts.
type Account struct {
	ID   string `json:"id" yaml:"id"`
	Name string `json:"name" yaml:"name"`
}

// User is a person of an account who may own or follow records.
type User struct {
	ID               string `json:"id" yaml:"id"`
	AccountID        string `json:"account_id" yaml:"account_id"`
	Name             string `json:"name" yaml:"name"`
	Email            string `json:"email" yaml:"email"`
	Role             string `json:"role" yaml:"role"`
	Active           bool   `json:"active" yaml:"active"`
	OnlyAssignedData bool   `json:"only_assigned_data" yaml:"only_assigned_data"`
}

// IsAdmin reports whether the user has the admin role.
func (u *User) IsAdmin() bool { return u.Role == RoleAdmin }

// Opportunity is a deal.
type Opportunity struct {
	ID                  string    `json:"id" yaml:"id"`
	AccountID           string    `json:"account_id" yaml:"account_id"`
	Name                string    `json:"name" yaml:"name"`
	Pipeline            string    `json:"pipeline" yaml:"pipeline"`
	Stage               string    `json:"stage" yaml:"stage"`
	Status              string    `json:"status" yaml:"status"`
	Value               float64   `json:"value" yaml:"value"`
	OwnerID             string    `json:"owner_id" yaml:"owner_id"`
	ContactID           string    `json:"contact_id" yaml:"contact_id"`
	Tags                []string  `json:"tags" yaml:"tags"`
	Followers           []string  `json:"followers" yaml:"followers"`
	CreatedAt           time.Time `json:"created_at" yaml:"created_at"`
	UpdatedAt           time.Time `json:"updated_at" yaml:"updated_at"`
	LastOwnerActivityAt time.Time `json:"last_owner_activity_at" yaml:"last_owner_activity_at"`

	// Version is the store's optimistic-concurrency counter: 0 for a record
	// that is not stored yet, bumped by every commit that writes the record.
	// It is not part of the data file.
	Version int64 `json:"-" yaml:"-"`
}

// Contact is a person at a customer; opportunities link to it.
type Contact struct {
	ID        string    `json:"id" yaml:"id"`
	AccountID string    `json:"account_id" yaml:"account_id"`
	Name      string    `json:"name" yaml:"name"`
	Email     string    `json:"email" yaml:"email"`
	OwnerID   string    `json:"owner_id" yaml:"owner_id"`
	Tags      []string  `json:"tags" yaml:"tags"`
	Followers []string  `json:"followers" yaml:"followers"`
	CreatedAt time.Time `json:"created_at" yaml:"created_at"`
	UpdatedAt time.Time `json:"updated_at" yaml:"updated_at"`

	// Version: see Opportunity.Version.
	Version int64 `json:"-" yaml:"-"`
}

// Clone returns a deep copy whose slices can be changed freely.
func (o *Opportunity) Clone() Opportunity {
	c := *o
	c.Tags = slices.Clone(o.Tags)
	c.Followers = slices.Clone(o.Followers)
	return c
}

// Clone returns a deep copy whose slices can be changed freely.
func (c *Contact) Clone() Contact {
	d := *c
	d.Tags = slices.Clone(c.Tags)
	d.Followers = slices.Clone(c.Followers)
	return d
}

// IsStaleCandidate reports whether the opportunity belongs in the stale
// index: open and owned. Whether it is stale depends on the threshold.
func (o *Opportunity) IsStaleCandidate() bool {
	return o.Status == StatusOpen && o.OwnerID != ""
}

// HasTag reports whether the tag is on the list.
func HasTag(tags []string, tag string) bool { return slices.Contains(tags, tag) }

// AddTag returns tags with tag appended when missing. It never changes the
// backing array of tags in place.
func AddTag(tags []string, tag string) []string {
	if slices.Contains(tags, tag) {
		return tags
	}
	out := make([]string, len(tags), len(tags)+1)
	copy(out, tags)
	return append(out, tag)
}

// RemoveTag returns tags without tag. It never changes the backing array of
// tags in place.
func RemoveTag(tags []string, tag string) []string {
	i := slices.Index(tags, tag)
	if i < 0 {
		return tags
	}
	out := make([]string, 0, len(tags)-1)
	out = append(out, tags[:i]...)
	return append(out, tags[i+1:]...)
}
