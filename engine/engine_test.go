package engine_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/followflow/followflow/engine"
	"github.com/followflow/followflow/event"
	"github.com/followflow/followflow/record"
	"github.com/followflow/followflow/store"
	"github.com/followflow/followflow/store/memory"
	"github.com/followflow/followflow/trace"
	"github.com/followflow/followflow/workflow"
)

var t0 = time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)

const dataYAML = `
accounts: [{id: acme, name: Acme}, {id: other, name: Other}]
users:
  - {id: u_rep, account_id: acme, name: Rep, email: rep@acme.test}
  - {id: u_mgr, account_id: acme, name: Mgr, email: Max.Manager@Acme.test}
  - {id: u_a, account_id: acme}
  - {id: u_b, account_id: acme}
  - {id: u_c, account_id: acme}
  - {id: u_gone, account_id: acme, active: false}
  - {id: u_x, account_id: other}
opportunities:
  - {id: opp_1, account_id: acme, pipeline: Sales, stage: Proposal, value: 18000, owner_id: u_rep, contact_id: c_1, created_at: 2026-11-01T09:00:00Z}
  - {id: opp_2, account_id: acme, pipeline: Sales, stage: New, value: 50000, owner_id: u_rep, contact_id: c_1, created_at: 2026-11-02T09:00:00Z}
  - {id: opp_3, account_id: acme, pipeline: Sales, stage: New, value: 90000, status: won, owner_id: u_rep, contact_id: c_1, created_at: 2026-11-03T09:00:00Z}
  - {id: opp_4, account_id: acme, pipeline: Partners, stage: New, value: 70000, owner_id: u_rep, contact_id: c_1, created_at: 2026-10-01T09:00:00Z}
contacts:
  - {id: c_1, account_id: acme, name: Gil}
`

type bundle struct {
	st    *memory.Store
	set   *workflow.Set
	eng   *engine.Engine
	clock *time.Time
}

func setup(t *testing.T, workflows string) *bundle {
	t.Helper()
	ctx := context.Background()
	ds, err := record.ParseDataFile("data.yaml", []byte(dataYAML))
	if err != nil {
		t.Fatal(err)
	}
	st := memory.New()
	if err := st.Load(ctx, ds); err != nil {
		t.Fatal(err)
	}
	wfs, diags := workflow.Parse("test.yaml", []byte(workflows))
	if diags.HasErrors() {
		t.Fatalf("workflows: %v", diags.Err())
	}
	b := &bundle{st: st, set: workflow.NewSet(wfs), clock: new(time.Time)}
	*b.clock = t0
	b.eng = b.engineOn(t, st)
	return b
}

// engineOn returns an engine running b's workflows on st.
func (b *bundle) engineOn(t *testing.T, st *memory.Store) *engine.Engine {
	t.Helper()
	eng, err := engine.New(engine.Config{Store: st, Clock: func() time.Time { return *b.clock }, Trace: true}, b.set)
	if err != nil {
		t.Fatal(err)
	}
	return eng
}

func (b *bundle) process(t *testing.T, ev *event.Event) engine.Result {
	t.Helper()
	if ev.OccurredAt.IsZero() {
		ev.OccurredAt = *b.clock
	}
	if err := ev.Validate(); err != nil {
		t.Fatalf("test event: %v", err)
	}
	res, err := b.eng.Process(context.Background(), ev)
	if err != nil {
		t.Fatalf("Process(%s): %v", ev.ID, err)
	}
	return res
}

func (b *bundle) opp(t *testing.T, id string) record.Opportunity {
	t.Helper()
	o, err := b.st.Opportunity(context.Background(), "acme", id)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func outcomes(tr *trace.Event) []string {
	var out []string
	var walk func(steps []trace.Step)
	walk = func(steps []trace.Step) {
		for _, s := range steps {
			for _, o := range s.Outcomes {
				out = append(out, o.User+":"+string(o.Outcome))
			}
			if s.Outcome != "" {
				out = append(out, string(s.Outcome))
			}
			walk(s.Steps)
		}
	}
	for _, w := range tr.Workflows {
		walk(w.Steps)
	}
	return out
}

func tagEvent(id, typ, opp, tag string) *event.Event {
	return &event.Event{ID: id, Type: typ, AccountID: "acme", OpportunityID: opp, Data: event.Data{Tag: tag}}
}

func TestFollowerOutcomes(t *testing.T) {
	t.Parallel()
	b := setup(t, `
id: add
account_id: acme
trigger: {type: opportunity.tag_applied, tag: go}
steps:
  - add_followers: {users: [u_a, max.manager@acme.test, u_gone, u_x, nobody, u_a]}
---
id: remove
account_id: acme
trigger: {type: opportunity.tag_applied, tag: stop}
steps:
  - remove_followers: {users: [u_a, u_b, nobody]}
---
id: remove-all
account_id: acme
trigger: {type: opportunity.tag_applied, tag: clear}
steps:
  - remove_followers: {all: true}
`)
	res := b.process(t, tagEvent("e1", event.OpportunityTagApplied, "opp_1", "go"))
	want := []string{"u_a:added", "u_mgr:added", "u_gone:inactive_user", "u_x:unknown_user", "nobody:unknown_user", "u_a:already_following"}
	if got := outcomes(res.Trace); !slices.Equal(got, want) {
		t.Errorf("add outcomes = %v, want %v", got, want)
	}
	if got := b.opp(t, "opp_1").Followers; !slices.Equal(got, []string{"u_a", "u_mgr"}) {
		t.Errorf("followers = %v", got)
	}
	res = b.process(t, tagEvent("e2", event.OpportunityTagApplied, "opp_1", "stop"))
	want = []string{"u_a:removed", "u_b:not_following", "nobody:unknown_user"}
	if got := outcomes(res.Trace); !slices.Equal(got, want) {
		t.Errorf("remove outcomes = %v, want %v", got, want)
	}
	res = b.process(t, tagEvent("e3", event.OpportunityTagApplied, "opp_1", "clear"))
	if got := outcomes(res.Trace); !slices.Equal(got, []string{"u_mgr:removed"}) {
		t.Errorf("remove all outcomes = %v", got)
	}
	if got := b.opp(t, "opp_1").Followers; len(got) != 0 {
		t.Errorf("followers after remove all = %v", got)
	}
	h, err := b.st.History(context.Background(), "acme", record.KindOpportunity, "opp_1")
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, e := range h {
		kinds = append(kinds, e.UserID+":"+string(e.Outcome)+"@"+e.EventID+"/"+e.WorkflowID)
	}
	wantH := []string{"u_a:added@e1/add", "u_mgr:added@e1/add", "u_gone:inactive_user@e1/add", "u_x:unknown_user@e1/add", "nobody:unknown_user@e1/add",
		"u_a:removed@e2/remove", "nobody:unknown_user@e2/remove", "u_mgr:removed@e3/remove-all"}
	if !slices.Equal(kinds, wantH) {
		t.Errorf("history = %v\nwant %v", kinds, wantH)
	}
}

func TestFollowerChangesNeverTouchAListAlreadyRead(t *testing.T) {
	t.Parallel()
	b := setup(t, `
id: add
account_id: acme
trigger: {type: opportunity.tag_applied, tag: go}
steps:
  - add_followers: {users: [u_a, u_b, u_c]}
---
id: remove-all
account_id: acme
trigger: {type: opportunity.tag_applied, tag: clear}
steps:
  - remove_followers: {all: true}
`)
	b.process(t, tagEvent("e1", event.OpportunityTagApplied, "opp_1", "go"))
	before := b.opp(t, "opp_1").Followers
	if !slices.Equal(before, []string{"u_a", "u_b", "u_c"}) {
		t.Fatalf("followers = %v", before)
	}
	kept := slices.Clone(before)
	res := b.process(t, tagEvent("e2", event.OpportunityTagApplied, "opp_1", "clear"))
	if got, want := outcomes(res.Trace), []string{"u_a:removed", "u_b:removed", "u_c:removed"}; !slices.Equal(got, want) {
		t.Errorf("remove all outcomes = %v, want %v", got, want)
	}
	if got := b.opp(t, "opp_1").Followers; len(got) != 0 {
		t.Errorf("followers after remove all = %v", got)
	}
	if !slices.Equal(before, kept) {
		t.Errorf("the list read before the event changed to %v", before)
	}
}

func TestLimitReachedAddsTheFirstListed(t *testing.T) {
	t.Parallel()
	b := setup(t, `
id: fill
account_id: acme
trigger: {type: opportunity.tag_applied, tag: go}
steps:
  - add_followers: {users: [u_a, u_b, u_c]}
`)
	// Give opp_1 eight followers by loading them directly.
	ctx := context.Background()
	ds, _ := b.st.Export(ctx)
	for i := range ds.Opportunities {
		if ds.Opportunities[i].ID == "opp_1" {
			for _, id := range []string{"f1", "f2", "f3", "f4", "f5", "f6", "f7", "f8"} {
				ds.Users = append(ds.Users, record.User{ID: id, AccountID: "acme", Role: "user", Active: true})
				ds.Opportunities[i].Followers = append(ds.Opportunities[i].Followers, id)
			}
		}
	}
	if err := b.st.Load(ctx, ds); err != nil {
		t.Fatal(err)
	}
	res := b.process(t, tagEvent("e1", event.OpportunityTagApplied, "opp_1", "go"))
	want := []string{"u_a:added", "u_b:added", "u_c:limit_reached"}
	if got := outcomes(res.Trace); !slices.Equal(got, want) {
		t.Errorf("outcomes = %v, want %v", got, want)
	}
	if n := len(b.opp(t, "opp_1").Followers); n != record.MaxFollowers {
		t.Errorf("%d followers, want %d", n, record.MaxFollowers)
	}
}

func TestEffectsAndFilters(t *testing.T) {
	t.Parallel()
	b := setup(t, `
id: from-proposal
account_id: acme
trigger: {type: opportunity.stage_changed, to_stage: Contract Sent, from_stage: Proposal, pipeline: Sales}
steps:
  - add_followers: {users: [u_a]}
---
id: won
account_id: acme
trigger: {type: opportunity.status_changed, to_status: won}
steps:
  - add_followers: {users: [u_b]}
`)
	// from_stage and pipeline are not in the event: taken from the record before it.
	res := b.process(t, &event.Event{ID: "e1", Type: event.OpportunityStageChanged, AccountID: "acme", OpportunityID: "opp_1", Data: event.Data{ToStage: "Contract Sent"}})
	if got := outcomes(res.Trace); !slices.Equal(got, []string{"u_a:added"}) {
		t.Errorf("stage change outcomes = %v (trace %+v)", got, res.Trace.Workflows)
	}
	if o := b.opp(t, "opp_1"); o.Stage != "Contract Sent" {
		t.Errorf("stage = %q", o.Stage)
	}
	// From New, not Proposal: no match, with the reason.
	res = b.process(t, &event.Event{ID: "e2", Type: event.OpportunityStageChanged, AccountID: "acme", OpportunityID: "opp_2", Data: event.Data{ToStage: "Contract Sent"}})
	if w := res.Trace.Workflows; len(w) != 1 || w[0].Matched || w[0].Reason != "from_stage is New, not Proposal" {
		t.Errorf("trace = %+v", w)
	}
	b.process(t, &event.Event{ID: "e3", Type: event.OpportunityStatusChanged, AccountID: "acme", OpportunityID: "opp_2", Data: event.Data{ToStatus: "won"}})
	if o := b.opp(t, "opp_2"); o.Status != "won" || !slices.Equal(o.Followers, []string{"u_b"}) {
		t.Errorf("after won: status %q followers %v", o.Status, o.Followers)
	}
	// Tag applied twice: the workflow runs both times; the tag is there once.
	b.process(t, tagEvent("e4", event.OpportunityTagApplied, "opp_1", "x"))
	b.process(t, tagEvent("e5", event.OpportunityTagApplied, "opp_1", "x"))
	if o := b.opp(t, "opp_1"); !slices.Equal(o.Tags, []string{"x"}) {
		t.Errorf("tags = %v", o.Tags)
	}
	// Owner change restarts the owner-activity clock.
	*b.clock = t0.Add(48 * time.Hour)
	b.process(t, &event.Event{ID: "e6", Type: event.OpportunityOwnerChanged, AccountID: "acme", OpportunityID: "opp_1", Data: event.Data{ToOwnerID: "u_mgr"}})
	if o := b.opp(t, "opp_1"); o.OwnerID != "u_mgr" || !o.LastOwnerActivityAt.Equal(t0.Add(48*time.Hour)) {
		t.Errorf("after owner change: owner %q activity %v", o.OwnerID, o.LastOwnerActivityAt)
	}
	// Activity counts only from the owner.
	*b.clock = t0.Add(72 * time.Hour)
	b.process(t, &event.Event{ID: "e7", Type: event.OpportunityActivity, AccountID: "acme", OpportunityID: "opp_1", ActorID: "u_rep"})
	if o := b.opp(t, "opp_1"); !o.LastOwnerActivityAt.Equal(t0.Add(48 * time.Hour)) {
		t.Errorf("activity by a non-owner moved the clock to %v", o.LastOwnerActivityAt)
	}
	b.process(t, &event.Event{ID: "e8", Type: event.OpportunityActivity, AccountID: "acme", OpportunityID: "opp_1", ActorID: "u_mgr"})
	if o := b.opp(t, "opp_1"); !o.LastOwnerActivityAt.Equal(t0.Add(72 * time.Hour)) {
		t.Errorf("activity by the owner left the clock at %v", o.LastOwnerActivityAt)
	}
}

func TestCreatedFromSnapshot(t *testing.T) {
	t.Parallel()
	b := setup(t, `
id: big
account_id: acme
trigger: {type: opportunity.created}
steps:
  - condition: opportunity.value > 15000 && opportunity.stage == "New"
  - add_followers: {users: [u_mgr]}
`)
	name, stage, owner := "Deal", "New", "u_rep"
	value := 20000.0
	res := b.process(t, &event.Event{ID: "e1", Type: event.OpportunityCreated, AccountID: "acme", OpportunityID: "opp_9",
		Opportunity: &event.OpportunitySnapshot{Name: &name, Stage: &stage, Value: &value, OwnerID: &owner}})
	if got := outcomes(res.Trace); !slices.Equal(got, []string{"u_mgr:added"}) {
		t.Errorf("outcomes = %v", got)
	}
	o := b.opp(t, "opp_9")
	if o.Name != "Deal" || o.Status != "open" || !o.CreatedAt.Equal(t0) || !o.LastOwnerActivityAt.Equal(t0) {
		t.Errorf("created opportunity = %+v", o)
	}
}

func TestDuplicateEventRunsNothing(t *testing.T) {
	t.Parallel()
	b := setup(t, `
id: w
account_id: acme
trigger: {type: opportunity.tag_applied, tag: go}
steps:
  - remove_followers: {all: true}
  - add_followers: {users: [u_a]}
`)
	b.process(t, tagEvent("e1", event.OpportunityTagApplied, "opp_1", "go"))
	v := b.opp(t, "opp_1").Version
	res := b.process(t, tagEvent("e1", event.OpportunityTagApplied, "opp_1", "go"))
	if !res.Duplicate || !res.Trace.Duplicate {
		t.Errorf("second delivery not reported as duplicate: %+v", res)
	}
	if got := b.opp(t, "opp_1").Version; got != v {
		t.Errorf("duplicate changed the record: version %d -> %d", v, got)
	}
}

func TestWorkflowsRunInIDOrderSeeingEachOther(t *testing.T) {
	t.Parallel()
	b := setup(t, `
id: b-second
account_id: acme
trigger: {type: opportunity.tag_applied, tag: go}
steps:
  - condition: '"u_a" in opportunity.followers'
  - add_followers: {users: [u_b]}
---
id: a-first
account_id: acme
trigger: {type: opportunity.tag_applied, tag: go}
steps:
  - add_followers: {users: [u_a]}
  - condition: len(opportunity.followers) == 1
  - add_followers: {users: [u_c]}
`)
	res := b.process(t, tagEvent("e1", event.OpportunityTagApplied, "opp_1", "go"))
	if got := b.opp(t, "opp_1").Followers; !slices.Equal(got, []string{"u_a", "u_c", "u_b"}) {
		t.Errorf("followers = %v, want [u_a u_c u_b]", got)
	}
	if res.Trace.Workflows[0].ID != "a-first" {
		t.Errorf("first workflow = %s", res.Trace.Workflows[0].ID)
	}
}

func TestConditionErrorIsFalseAndRecorded(t *testing.T) {
	t.Parallel()
	b := setup(t, `
id: contact-wf
account_id: acme
trigger: {type: contact.tag_applied, tag: VIP}
steps:
  - condition: opportunity.value > 15000
  - add_followers: {users: [u_a]}
`)
	res := b.process(t, &event.Event{ID: "e1", Type: event.ContactTagApplied, AccountID: "acme", ContactID: "c_1", Data: event.Data{Tag: "VIP"}})
	s := res.Trace.Workflows[0].Steps
	if len(s) != 1 || *s[0].Result || s[0].Error != "no opportunity in context" {
		t.Fatalf("steps = %+v", s)
	}
	h, _ := b.st.History(context.Background(), "acme", record.KindContact, "c_1")
	if len(h) != 1 || h[0].Outcome != record.ConditionError || !strings.Contains(h[0].Detail, "no opportunity in context") {
		t.Errorf("history = %+v", h)
	}
}

func TestFindOpportunity(t *testing.T) {
	t.Parallel()
	tests := []struct {
		find string
		want string
	}{
		{"{}", "opp_2"},                                // newest open
		{"{select: oldest}", "opp_4"},                  // oldest open, any pipeline
		{"{select: oldest, pipeline: Sales}", "opp_1"}, // pipeline filter
		{"{select: highest_value}", "opp_4"},           // open only: opp_3 is won
		{"{status: won}", "opp_3"},
		{"{stage: Nowhere}", ""},
	}
	for _, tt := range tests {
		t.Run(tt.find, func(t *testing.T) {
			t.Parallel()
			b := setup(t, `
id: vip
account_id: acme
trigger: {type: contact.tag_applied, tag: VIP}
steps:
  - find_opportunity: `+tt.find+`
  - add_followers: {users: [u_a]}
`)
			res := b.process(t, &event.Event{ID: "e1", Type: event.ContactTagApplied, AccountID: "acme", ContactID: "c_1", Data: event.Data{Tag: "VIP"}})
			steps := res.Trace.Workflows[0].Steps
			if steps[0].OpportunityID != tt.want {
				t.Errorf("found %q, want %q", steps[0].OpportunityID, tt.want)
			}
			if tt.want == "" {
				if steps[1].Outcome != record.SkippedNoOpportunity {
					t.Errorf("action without opportunity = %+v", steps[1])
				}
				return
			}
			if got := b.opp(t, tt.want).Followers; !slices.Equal(got, []string{"u_a"}) {
				t.Errorf("followers of %s = %v", tt.want, got)
			}
		})
	}
}

func TestStaleScannerOncePerEpisode(t *testing.T) {
	t.Parallel()
	b := setup(t, `
id: stale14
account_id: acme
trigger: {type: opportunity.stale, days: 14}
steps:
  - add_followers: {users: [u_mgr]}
---
id: stale30
account_id: acme
trigger: {type: opportunity.stale, days: 30}
steps:
  - add_followers: {users: [u_a]}
`)
	ctx := context.Background()
	scan := func(at time.Time) []string {
		t.Helper()
		*b.clock = at
		evs, err := b.eng.StaleEvents(ctx, at)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, ev := range evs {
			ids = append(ids, fmt.Sprintf("%s/%d", ev.OpportunityID, ev.Data.Days))
			b.process(t, ev)
		}
		return ids
	}
	// Nov 15 09:00: opp_1 (Nov 1) is 14 days inactive, opp_4 (Oct 1) 45 days.
	got := scan(time.Date(2026, 11, 15, 9, 0, 0, 0, time.UTC))
	// opp_2 (Nov 2) is 13 days inactive: not yet; opp_3 is won.
	if want := []string{"opp_1/14", "opp_4/14", "opp_4/30"}; !slices.Equal(got, want) {
		t.Errorf("first scan = %v, want %v", got, want)
	}
	if got := scan(time.Date(2026, 11, 15, 10, 0, 0, 0, time.UTC)); len(got) != 0 {
		t.Errorf("second scan re-emitted %v", got)
	}
	// The owner acts: the episode ends; 14 days later it is stale again.
	b.process(t, &event.Event{ID: "act", Type: event.OpportunityActivity, AccountID: "acme", OpportunityID: "opp_1", ActorID: "u_rep"})
	if got := scan(time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)); !slices.Equal(got, []string{"opp_2/14"}) {
		t.Errorf("scan after activity = %v, want [opp_2/14]", got)
	}
	if got := scan(time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)); !slices.Equal(got, []string{"opp_1/14"}) {
		t.Errorf("scan 14 days after activity = %v, want [opp_1/14]", got)
	}
}

// conflictOnce fails the first commit with ErrConflict after changing the
// record underneath, as a concurrent worker would.
type conflictOnce struct {
	*memory.Store
	done bool
}

func (c *conflictOnce) Commit(ctx context.Context, cs *store.Changeset) error {
	if !c.done {
		c.done = true
		return store.ErrConflict
	}
	return c.Store.Commit(ctx, cs)
}

func TestConflictReRunsTheEvent(t *testing.T) {
	t.Parallel()
	b := setup(t, `
id: w
account_id: acme
trigger: {type: opportunity.tag_applied, tag: go}
steps:
  - add_followers: {users: [u_a]}
`)
	cs := &conflictOnce{Store: b.st}
	eng, err := engine.New(engine.Config{Store: cs, Trace: true}, b.eng.Workflows())
	if err != nil {
		t.Fatal(err)
	}
	ev := tagEvent("e1", event.OpportunityTagApplied, "opp_1", "go")
	ev.OccurredAt = t0
	if _, err := eng.Process(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	if got := b.opp(t, "opp_1").Followers; !slices.Equal(got, []string{"u_a"}) {
		t.Errorf("followers = %v", got)
	}
	h, _ := b.st.History(context.Background(), "acme", record.KindOpportunity, "opp_1")
	if len(h) != 1 {
		t.Errorf("history has %d entries after a re-run, want 1", len(h))
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	if _, err := engine.New(engine.Config{}, nil); err == nil || !strings.Contains(err.Error(), "Store") {
		t.Errorf("New without store = %v", err)
	}
}
