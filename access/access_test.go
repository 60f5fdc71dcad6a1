package access_test

import (
	"fmt"
	"testing"

	"github.com/followflow/followflow/access"
	"github.com/followflow/followflow/record"
)

// users of account acme, plus one admin of account globex.
var (
	admin        = &record.User{ID: "u_mgr", AccountID: "acme", Role: record.RoleAdmin, Active: true}
	unrestricted = &record.User{ID: "u_open", AccountID: "acme", Role: record.RoleUser, Active: true}
	owner        = &record.User{ID: "u_rep", AccountID: "acme", Role: record.RoleUser, Active: true, OnlyAssignedData: true}
	follower     = &record.User{ID: "u_fol", AccountID: "acme", Role: record.RoleUser, Active: true, OnlyAssignedData: true}
	stranger     = &record.User{ID: "u_str", AccountID: "acme", Role: record.RoleUser, Active: true, OnlyAssignedData: true}
	cfollower    = &record.User{ID: "u_cfol", AccountID: "acme", Role: record.RoleUser, Active: true, OnlyAssignedData: true}
	inactive     = &record.User{ID: "u_gone", AccountID: "acme", Role: record.RoleAdmin, Active: false}
	otherAdmin   = &record.User{ID: "u_glx", AccountID: "globex", Role: record.RoleAdmin, Active: true}
)

// setup returns opportunity opp_1 (owned by u_rep, followed by u_fol and
// u_open) linked to contact c_1 (followed by u_cfol).
func setup(t *testing.T) (*record.Opportunity, *record.Contact) {
	t.Helper()
	c := &record.Contact{ID: "c_1", AccountID: "acme", OwnerID: "u_rep", Followers: []string{"u_cfol"}}
	o := &record.Opportunity{ID: "opp_1", AccountID: "acme", OwnerID: "u_rep", ContactID: "c_1",
		Followers: []string{"u_fol", "u_open"}}
	return o, c
}

func TestDecide(t *testing.T) {
	t.Parallel()
	o, c := setup(t)
	opp := access.SubjectOfOpportunity(o, c)
	oppAlone := access.SubjectOfOpportunity(o, nil)
	con := access.SubjectOfContact(c)

	tests := []struct {
		name   string
		user   *record.User
		s      access.Subject
		action access.Action
		want   bool
		reason string
	}{
		{"admin views", admin, opp, access.View, true, "u_mgr is an admin"},
		{"admin edits", admin, opp, access.Edit, true, "u_mgr is an admin"},
		{"admin manages followers", admin, opp, access.ManageFollowers, true, "u_mgr is an admin"},
		{"admin changes owner", admin, opp, access.ChangeOwner, true, "u_mgr is an admin"},

		{"unrestricted user edits", unrestricted, opp, access.Edit, true, "u_open is not restricted to assigned data"},
		{"unrestricted user edits contact", unrestricted, con, access.Edit, true, "u_open is not restricted to assigned data"},
		{"unrestricted follower cannot change owner", unrestricted, opp, access.ChangeOwner, false,
			"u_open may not change the owner of opportunity opp_1: only the owner or an admin may change the owner"},

		{"restricted owner edits", owner, opp, access.Edit, true, "u_rep owns opportunity opp_1"},
		{"restricted owner manages followers", owner, opp, access.ManageFollowers, true, "u_rep owns opportunity opp_1"},
		{"owner changes owner", owner, opp, access.ChangeOwner, true, "u_rep owns opportunity opp_1"},
		{"owner of contact edits it", owner, con, access.Edit, true, "u_rep owns contact c_1"},

		{"restricted follower views", follower, opp, access.View, true, "u_fol follows opportunity opp_1"},
		{"restricted follower edits", follower, opp, access.Edit, true, "u_fol follows opportunity opp_1"},
		{"restricted follower manages followers", follower, opp, access.ManageFollowers, true, "u_fol follows opportunity opp_1"},
		{"follower cannot change owner", follower, opp, access.ChangeOwner, false,
			"u_fol may not change the owner of opportunity opp_1: only the owner or an admin may change the owner"},
		{"contact follower edits contact", cfollower, con, access.Edit, true, "u_cfol follows contact c_1"},

		{"restricted stranger cannot view", stranger, opp, access.View, false,
			"u_str may not view opportunity opp_1: restricted to assigned data and neither owns nor follows it"},
		{"restricted stranger cannot manage followers", stranger, opp, access.ManageFollowers, false,
			"u_str may not manage followers of opportunity opp_1: restricted to assigned data and neither owns nor follows it"},
		{"restricted stranger cannot view contact", stranger, con, access.View, false,
			"u_str may not view contact c_1: restricted to assigned data and neither owns nor follows it"},

		{"contact follower views linked opportunity", cfollower, opp, access.View, true,
			"u_cfol follows contact c_1, linked to opportunity opp_1"},
		{"contact follower cannot edit linked opportunity", cfollower, opp, access.Edit, false,
			"u_cfol may not edit opportunity opp_1: restricted to assigned data and neither owns nor follows it (following its contact c_1 grants view only)"},
		{"contact follower cannot manage followers of linked opportunity", cfollower, opp, access.ManageFollowers, false,
			"u_cfol may not manage followers of opportunity opp_1: restricted to assigned data and neither owns nor follows it (following its contact c_1 grants view only)"},
		{"contact follower cannot change owner of linked opportunity", cfollower, opp, access.ChangeOwner, false,
			"u_cfol may not change the owner of opportunity opp_1: only the owner or an admin may change the owner"},
		{"contact unknown grants nothing", cfollower, oppAlone, access.View, false,
			"u_cfol may not view opportunity opp_1: restricted to assigned data and neither owns nor follows it"},

		{"admin of another account cannot view", otherAdmin, opp, access.View, false,
			"u_glx may not view opportunity opp_1: u_glx belongs to account globex, not acme"},
		{"admin of another account cannot change owner", otherAdmin, con, access.ChangeOwner, false,
			"u_glx may not change the owner of contact c_1: u_glx belongs to account globex, not acme"},

		{"inactive admin cannot view", inactive, opp, access.View, false,
			"u_gone may not view opportunity opp_1: u_gone is inactive"},
		{"inactive admin cannot change owner", inactive, opp, access.ChangeOwner, false,
			"u_gone may not change the owner of opportunity opp_1: u_gone is inactive"},

		{"unknown user", nil, opp, access.View, false,
			"an unknown user may not view opportunity opp_1: no such user"},
		{"unknown action", admin, opp, access.Action("delete"), false,
			`u_mgr may not delete opportunity opp_1: unknown action "delete"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := access.Decide(tt.user, tt.s, tt.action)
			want := access.Decision{Allowed: tt.want, Reason: tt.reason}
			if got != want {
				t.Errorf("Decide() = %+v, want %+v", got, want)
			}
		})
	}
}

func TestSubjectOfOpportunityIgnoresForeignContact(t *testing.T) {
	t.Parallel()
	o, c := setup(t)
	tests := []struct {
		name string
		c    *record.Contact
	}{
		{"nil contact", nil},
		{"another contact", &record.Contact{ID: "c_2", AccountID: "acme", Followers: []string{"u_cfol"}}},
		{"same id, another account", &record.Contact{ID: "c_1", AccountID: "globex", Followers: []string{"u_cfol"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := access.SubjectOfOpportunity(o, tt.c)
			if s.LinkedContact != nil {
				t.Fatalf("LinkedContact = %+v, want nil", s.LinkedContact)
			}
			if d := access.Decide(cfollower, s, access.View); d.Allowed {
				t.Errorf("Decide() = %+v, want refused", d)
			}
		})
	}
	if s := access.SubjectOfOpportunity(o, c); s.LinkedContact == nil || s.LinkedContact.ID != "c_1" {
		t.Errorf("LinkedContact = %+v, want contact c_1", s.LinkedContact)
	}
}

// TestRemovingFollowerRevokesOnlyWhatFollowingGave decides before and after
// removing the user from the followers: only access that rested on following
// goes away.
func TestRemovingFollowerRevokesOnlyWhatFollowingGave(t *testing.T) {
	t.Parallel()
	actions := []access.Action{access.View, access.Edit, access.ManageFollowers, access.ChangeOwner}
	tests := []struct {
		name   string
		user   *record.User
		before map[access.Action]bool
		after  map[access.Action]bool
	}{
		{"restricted follower", follower,
			map[access.Action]bool{access.View: true, access.Edit: true, access.ManageFollowers: true},
			map[access.Action]bool{}},
		{"unrestricted user", unrestricted,
			map[access.Action]bool{access.View: true, access.Edit: true, access.ManageFollowers: true},
			map[access.Action]bool{access.View: true, access.Edit: true, access.ManageFollowers: true}},
		{"owner", owner,
			map[access.Action]bool{access.View: true, access.Edit: true, access.ManageFollowers: true, access.ChangeOwner: true},
			map[access.Action]bool{access.View: true, access.Edit: true, access.ManageFollowers: true, access.ChangeOwner: true}},
		{"admin", admin,
			map[access.Action]bool{access.View: true, access.Edit: true, access.ManageFollowers: true, access.ChangeOwner: true},
			map[access.Action]bool{access.View: true, access.Edit: true, access.ManageFollowers: true, access.ChangeOwner: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			o, _ := setup(t)
			o.Followers = []string{"u_other", tt.user.ID}
			before := access.SubjectOfOpportunity(o, nil)

			removed, outcome := record.RemoveFollower(o.Followers, tt.user.ID)
			if outcome != record.Removed {
				t.Fatalf("RemoveFollower() = %v, want %v", outcome, record.Removed)
			}
			o.Followers = removed
			after := access.SubjectOfOpportunity(o, nil)

			for _, a := range actions {
				if got := access.Decide(tt.user, before, a).Allowed; got != tt.before[a] {
					t.Errorf("before removal, %s: allowed = %v, want %v", a, got, tt.before[a])
				}
				if got := access.Decide(tt.user, after, a).Allowed; got != tt.after[a] {
					t.Errorf("after removal, %s: allowed = %v, want %v", a, got, tt.after[a])
				}
			}
		})
	}
}

// TestRemovingContactFollowerRevokesViewOfLinkedOpportunity: the view that
// following a contact gave on its opportunities goes with it.
func TestRemovingContactFollowerRevokesViewOfLinkedOpportunity(t *testing.T) {
	t.Parallel()
	o, c := setup(t)
	if d := access.Decide(cfollower, access.SubjectOfOpportunity(o, c), access.View); !d.Allowed {
		t.Fatalf("before removal: %+v, want allowed", d)
	}
	c.Followers, _ = record.RemoveFollower(c.Followers, cfollower.ID)
	if d := access.Decide(cfollower, access.SubjectOfOpportunity(o, c), access.View); d.Allowed {
		t.Errorf("after removal: %+v, want refused", d)
	}
}

func ExampleDecide() {
	rep := &record.User{ID: "u_rep", AccountID: "acme", Active: true, OnlyAssignedData: true}
	opp := &record.Opportunity{ID: "opp_1", AccountID: "acme", OwnerID: "u_mgr", ContactID: "c_1"}
	contact := &record.Contact{ID: "c_1", AccountID: "acme", Followers: []string{"u_rep"}}
	s := access.SubjectOfOpportunity(opp, contact)

	for _, a := range []access.Action{access.View, access.ManageFollowers, access.ChangeOwner} {
		d := access.Decide(rep, s, a)
		fmt.Println(d.Allowed, d.Reason)
	}
	// Output:
	// true u_rep follows contact c_1, linked to opportunity opp_1
	// false u_rep may not manage followers of opportunity opp_1: restricted to assigned data and neither owns nor follows it (following its contact c_1 grants view only)
	// false u_rep may not change the owner of opportunity opp_1: only the owner or an admin may change the owner
}
