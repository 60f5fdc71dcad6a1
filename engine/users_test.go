package engine_test

import (
	"context"
	"slices"
	"testing"

	"github.com/followflow/followflow/event"
	"github.com/followflow/followflow/record"
)

// A user reference remembers its user across events only while the
// store's users stay as they were.
func TestRememberedUsersFollowTheStore(t *testing.T) {
	t.Parallel()
	b := setup(t, `
id: add
account_id: acme
trigger: {type: opportunity.tag_applied, tag: go}
steps:
  - add_followers: {users: [u_a, max.manager@acme.test]}
`)
	ctx := context.Background()
	res := b.process(t, tagEvent("e1", event.OpportunityTagApplied, "opp_1", "go"))
	if got, want := outcomes(res.Trace), []string{"u_a:added", "u_mgr:added"}; !slices.Equal(got, want) {
		t.Fatalf("outcomes = %v, want %v", got, want)
	}
	// u_a leaves; the manager's email moves to another user.
	ds, err := b.st.Export(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var users []record.User
	for _, u := range ds.Users {
		switch u.ID {
		case "u_a":
			u.Active = false
		case "u_mgr":
			u.Email = "old.manager@acme.test"
		}
		users = append(users, u)
	}
	users = append(users, record.User{ID: "u_new", AccountID: "acme", Email: "max.manager@acme.test", Role: record.RoleUser, Active: true})
	if err := b.st.Load(ctx, &record.Dataset{Users: users}); err != nil {
		t.Fatal(err)
	}
	res = b.process(t, tagEvent("e2", event.OpportunityTagApplied, "opp_2", "go"))
	if got, want := outcomes(res.Trace), []string{"u_a:inactive_user", "u_new:added"}; !slices.Equal(got, want) {
		t.Errorf("after the change, outcomes = %v, want %v", got, want)
	}
}

// Two stores never pass for each other, even with the same workflows.
func TestRememberedUsersBelongToTheirStore(t *testing.T) {
	t.Parallel()
	wf := `
id: add
account_id: acme
trigger: {type: opportunity.tag_applied, tag: go}
steps:
  - add_followers: {users: [u_a]}
`
	a := setup(t, wf)
	b := setup(t, wf)
	b.eng = a.engineOn(t, b.st) // a's compiled workflows over b's store
	ctx := context.Background()
	ds, err := b.st.Export(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i := range ds.Users {
		if ds.Users[i].ID == "u_a" {
			ds.Users[i].Active = false
		}
	}
	if err := b.st.Load(ctx, ds); err != nil {
		t.Fatal(err)
	}
	// As many loads on a's store: counted per store, the versions would
	// now be equal.
	same, err := a.st.Export(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.st.Load(ctx, same); err != nil {
		t.Fatal(err)
	}
	a.process(t, tagEvent("e1", event.OpportunityTagApplied, "opp_1", "go"))
	res := b.process(t, tagEvent("e1", event.OpportunityTagApplied, "opp_1", "go"))
	if got, want := outcomes(res.Trace), []string{"u_a:inactive_user"}; !slices.Equal(got, want) {
		t.Errorf("outcomes on the second store = %v, want %v", got, want)
	}
}
