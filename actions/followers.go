package actions

import (
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/followflow/followflow/diag"
	"github.com/followflow/followflow/internal/yamlx"
	"github.com/followflow/followflow/record"
	"github.com/followflow/followflow/trace"
)

// FollowerAction adds or removes followers of the opportunity in context.
type FollowerAction struct {
	pos diag.Pos
	// Remove: remove_followers; else add_followers.
	Remove bool
	// Name is the optional label written to history.
	Name string
	// Users are the users as listed, in order.
	Users []UserRef
	// All: remove_followers with all: true.
	All bool
}

var addFollowersKind = &Kind{
	Name: "add_followers",
	Decode: func(d *Decoder, node *yaml.Node, fields []yamlx.Field, path string) Step {
		return d.followerAction(node, fields, path, false)
	},
}

var removeFollowersKind = &Kind{
	Name: "remove_followers",
	Decode: func(d *Decoder, node *yaml.Node, fields []yamlx.Field, path string) Step {
		return d.followerAction(node, fields, path, true)
	},
}

func (d *Decoder) followerAction(node *yaml.Node, fields []yamlx.Field, path string, remove bool) Step {
	kind := "add_followers"
	allowed := []string{"name", "users"}
	if remove {
		kind = "remove_followers"
		allowed = append(allowed, "all")
	}
	f, _ := field(fields, kind)
	path = yamlx.Join(path, kind)
	a := &FollowerAction{pos: d.Pos(node), Remove: remove}
	ok := true
	var usersNode, allNode *yaml.Node
	for _, c := range d.Fields(f.Value, path, allowed...) {
		switch c.Key {
		case "name":
			a.Name, _ = d.String(c.Value, yamlx.Join(path, "name"))
		case "users":
			usersNode = c.Value
			a.Users, ok = d.userList(c.Value, yamlx.Join(path, "users"))
		case "all":
			allNode = c.Value
			all, good := d.Bool(c.Value, yamlx.Join(path, "all"))
			if good && !all {
				d.Errorf(c.Value, yamlx.Join(path, "all"), "all: false removes nobody; list users instead")
				good = false
			}
			a.All, ok = all, ok && good
		}
	}
	switch {
	case f.Value.Kind != yaml.MappingNode:
		return nil
	case usersNode != nil && allNode != nil:
		d.Errorf(allNode, yamlx.Join(path, "all"), "give users or all: true, not both")
		return nil
	case usersNode == nil && allNode == nil && remove:
		d.Errorf(f.Value, path, "remove_followers needs users: [...] or all: true")
		return nil
	case usersNode == nil && allNode == nil:
		d.Errorf(f.Value, path, "add_followers needs users: [...]")
		return nil
	}
	if !ok {
		return nil
	}
	return a
}

func (d *Decoder) userList(n *yaml.Node, path string) ([]UserRef, bool) {
	items, ok := d.Seq(n, path)
	if !ok {
		return nil, false
	}
	switch {
	case len(items) == 0:
		d.Errorf(n, path, "list at least one user")
		return nil, false
	case len(items) > record.MaxFollowers:
		d.Errorf(n, path, "%d users listed; at most %d per action (a record has at most %d followers)", len(items), record.MaxFollowers, record.MaxFollowers)
		ok = false
	}
	refs := make([]UserRef, 0, len(items))
	for i, item := range items {
		p := yamlx.Index(path, i)
		s, good := d.NonEmptyString(item, p)
		if !good {
			ok = false
			continue
		}
		if slices.ContainsFunc(refs, func(r UserRef) bool { return sameRef(r.Ref, s) }) {
			d.Warnf(item, p, "%q is listed twice", s)
		}
		refs = append(refs, UserRef{Ref: s, Pos: d.Pos(item), Path: p, memo: &userMemo{}})
	}
	return refs, ok
}

// sameRef reports whether two references name the same user for certain:
// the same id, or the same email in any case. Ids are exact: U_MGR and
// u_mgr are two ids.
func sameRef(a, b string) bool {
	if strings.Contains(a, "@") && strings.Contains(b, "@") {
		return strings.EqualFold(a, b)
	}
	return a == b
}

// Kind implements Step.
func (a *FollowerAction) Kind() string {
	if a.Remove {
		return "remove_followers"
	}
	return "add_followers"
}

// Pos implements Step.
func (a *FollowerAction) Pos() diag.Pos { return a.pos }

// NeedsOpportunity implements OpportunityUser.
func (a *FollowerAction) NeedsOpportunity() bool { return true }

// UserRefs implements UserLister.
func (a *FollowerAction) UserRefs() []UserRef { return a.Users }

// label is what history calls the step.
func (a *FollowerAction) label() string {
	if a.Name != "" {
		return a.Name
	}
	return a.Kind()
}

// Run implements Step. Without an opportunity in context it does nothing.
func (a *FollowerAction) Run(r *Run, out *[]trace.Step) (bool, error) {
	var t *trace.Step
	if r.Trace {
		*out = append(*out, trace.Step{Kind: a.Kind(), Name: a.Name})
		t = &(*out)[len(*out)-1]
	}
	o := r.Opportunity
	if o == nil {
		if t != nil {
			t.Outcome = record.SkippedNoOpportunity
		}
		return true, nil
	}
	c := followerChange{a: a, r: r, o: o, t: t}
	if a.All {
		// Each removal leaves the list the loop reads as it was.
		for _, id := range o.Followers {
			c.apply(id, nil)
		}
	} else {
		for i := range a.Users {
			ref := &a.Users[i]
			u, err := r.State.ResolveUser(r.Ctx, o.AccountID, ref)
			if err != nil {
				return false, err
			}
			c.apply(ref.Ref, u)
		}
	}
	if c.owned {
		r.State.SetFollowers(o, o.Followers)
	}
	return true, nil
}

// followerChange is one run of a follower action on the opportunity o.
type followerChange struct {
	a *FollowerAction
	r *Run
	o *record.Opportunity
	t *trace.Step
	// owned: o.Followers is a list this run made, which it may change in
	// place; the list it replaced may be shared (with the store, say).
	owned bool
}

// apply adds or removes one user; u is nil when ref names no user (for
// remove all, ref is a follower's id).
func (c *followerChange) apply(ref string, u *record.User) {
	a, o := c.a, c.o
	id := ref
	if u != nil {
		id = u.ID
	}
	var outcome record.Outcome
	switch {
	case !a.Remove:
		if outcome = record.CheckAdd(o.Followers, o.AccountID, u); outcome == record.Added {
			c.own(len(a.Users)) // room for every user listed
			o.Followers = append(o.Followers, id)
		}
	default:
		// Without a user, id is ref: a follower that is no user (any more)
		// can still be removed.
		switch i := slices.Index(o.Followers, id); {
		case i >= 0:
			c.own(0)
			o.Followers = slices.Delete(o.Followers, i, i+1)
			outcome = record.Removed
		case u != nil || a.All:
			outcome = record.NotFollowing
		default:
			outcome = record.UnknownUser
		}
	}
	if outcome != record.AlreadyFollowing && outcome != record.NotFollowing {
		c.r.addHistory(record.KindOpportunity, o.ID, a.label(), id, outcome, "")
	}
	if c.t != nil {
		c.t.Outcomes = append(c.t.Outcomes, trace.UserOutcome{User: id, Outcome: outcome})
	}
}

// own makes o.Followers a list of this run's, with room for room more
// followers, before its first change.
func (c *followerChange) own(room int) {
	if c.owned {
		return
	}
	f := c.o.Followers
	next := make([]string, len(f), len(f)+room)
	copy(next, f)
	c.o.Followers, c.owned = next, true
}
