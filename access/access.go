package access

import (
	"fmt"
	"slices"

	"github.com/followflow/followflow/record"
)

// Action is something a user may want to do to a record.
type Action string

// Actions on a record.
const (
	View            Action = "view"
	Edit            Action = "edit"
	ChangeOwner     Action = "change_owner"
	ManageFollowers Action = "manage_followers"
)

// phrase is the action as the verb of "u_x may not ... opportunity opp_1".
func (a Action) phrase() string {
	switch a {
	case ChangeOwner:
		return "change the owner of"
	case ManageFollowers:
		return "manage followers of"
	}
	return string(a)
}

// Subject is what access to a record depends on.
type Subject struct {
	Kind      record.Kind
	AccountID string
	ID        string
	OwnerID   string
	Followers []string

	// LinkedContact is, for an opportunity, its contact when known; its
	// followers may view the opportunity. Nil otherwise.
	LinkedContact *Subject
}

// String names the record: "opportunity opp_1".
func (s Subject) String() string { return string(s.Kind) + " " + s.ID }

// SubjectOfContact returns the subject of contact c.
func SubjectOfContact(c *record.Contact) Subject {
	return Subject{
		Kind:      record.KindContact,
		AccountID: c.AccountID,
		ID:        c.ID,
		OwnerID:   c.OwnerID,
		Followers: c.Followers,
	}
}

// SubjectOfOpportunity returns the subject of opportunity o. c is its
// contact, or nil when unknown; a contact that is not o's (another id or
// another account) is ignored, so it can never grant access.
func SubjectOfOpportunity(o *record.Opportunity, c *record.Contact) Subject {
	s := Subject{
		Kind:      record.KindOpportunity,
		AccountID: o.AccountID,
		ID:        o.ID,
		OwnerID:   o.OwnerID,
		Followers: o.Followers,
	}
	if c != nil && o.ContactID != "" && c.ID == o.ContactID && c.AccountID == o.AccountID {
		cs := SubjectOfContact(c)
		s.LinkedContact = &cs
	}
	return s
}

// Decision is the outcome of Decide. Reason is a sentence saying why: the
// ground that allows it ("u_mgr is an admin") or, when refused, what was
// refused and why ("u_rep may not edit opportunity opp_1: ...").
type Decision struct {
	Allowed bool
	Reason  string
}

// Decide reports whether user u may do a to the record s, and why. u may be
// nil (an unknown user), which is refused. Decide does no I/O and changes
// nothing.
func Decide(u *record.User, s Subject, a Action) Decision {
	deny := func(why string) Decision {
		who := "an unknown user"
		if u != nil {
			who = u.ID
		}
		return Decision{Reason: fmt.Sprintf("%s may not %s %s: %s", who, a.phrase(), s, why)}
	}
	allow := func(format string, args ...any) Decision {
		return Decision{Allowed: true, Reason: fmt.Sprintf(format, args...)}
	}

	switch {
	case u == nil:
		return deny("no such user")
	case u.AccountID != s.AccountID:
		return deny(fmt.Sprintf("%s belongs to account %s, not %s", u.ID, u.AccountID, s.AccountID))
	case !u.Active:
		return deny(u.ID + " is inactive")
	}

	switch a {
	case ChangeOwner:
		switch {
		case u.IsAdmin():
			return allow("%s is an admin", u.ID)
		case s.OwnerID != "" && s.OwnerID == u.ID:
			return allow("%s owns %s", u.ID, s)
		}
		return deny("only the owner or an admin may change the owner")

	case View, Edit, ManageFollowers:
		switch {
		case u.IsAdmin():
			return allow("%s is an admin", u.ID)
		case !u.OnlyAssignedData:
			return allow("%s is not restricted to assigned data", u.ID)
		case s.OwnerID != "" && s.OwnerID == u.ID:
			return allow("%s owns %s", u.ID, s)
		case slices.Contains(s.Followers, u.ID):
			return allow("%s follows %s", u.ID, s)
		}
		why := "restricted to assigned data and neither owns nor follows it"
		if c := s.LinkedContact; c != nil && c.AccountID == s.AccountID && slices.Contains(c.Followers, u.ID) {
			if a == View {
				return allow("%s follows %s, linked to %s", u.ID, c, s)
			}
			why += fmt.Sprintf(" (following its %s grants view only)", c)
		}
		return deny(why)
	}
	return deny(fmt.Sprintf("unknown action %q", string(a)))
}
