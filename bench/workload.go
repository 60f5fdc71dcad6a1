package bench

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/followflow/followflow/event"
	"github.com/followflow/followflow/record"
	"github.com/followflow/followflow/workflow"
)

// Workload describes what Generate makes. DefaultWorkload gives the
// defaults of `followflow bench`.
type Workload struct {
	// Accounts is the number of accounts.
	Accounts int
	// Users is the number of users per account.
	Users int
	// Opportunities is the number of opportunities per account, loaded
	// before the run; each account also has Opportunities/4 contacts (at
	// least one) the opportunities link to.
	Opportunities int
	// Workflows is the number of workflows, spread over the accounts; 0 is
	// allowed (events then only change records).
	Workflows int
	// Events is the number of events pushed.
	Events int
	// Mix is the share of each kind of event.
	Mix Mix
	// Seed makes the random choices; the same workload and seed give the
	// same data, workflows and events, byte for byte.
	Seed uint64
}

// Default workload sizes.
const (
	DefaultAccounts      = 100
	DefaultUsers         = 20
	DefaultOpportunities = 100
	DefaultWorkflows     = 1000
	DefaultEvents        = 50000
)

// DefaultWorkload returns the default workload: 100 accounts of 20 users
// and 100 opportunities, 1,000 workflows, 50,000 events of DefaultMix,
// seed 1.
func DefaultWorkload() Workload {
	return Workload{
		Accounts: DefaultAccounts, Users: DefaultUsers, Opportunities: DefaultOpportunities,
		Workflows: DefaultWorkflows, Events: DefaultEvents, Mix: MustParseMix(DefaultMix), Seed: 1,
	}
}

// Validate names the first bad field.
func (w Workload) Validate() error {
	switch {
	case w.Accounts < 1:
		return errors.New("workload: Accounts must be at least 1")
	case w.Users < 1:
		return errors.New("workload: Users must be at least 1")
	case w.Opportunities < 1:
		return errors.New("workload: Opportunities must be at least 1")
	case w.Workflows < 0:
		return errors.New("workload: Workflows must not be negative")
	case w.Events < 1:
		return errors.New("workload: Events must be at least 1")
	case w.Mix.IsZero():
		return errors.New("workload: Mix is empty")
	}
	return nil
}

// Generated is a workload made by Generate.
type Generated struct {
	Workload Workload
	// Data is loaded before the run; it passes record.Dataset.Check.
	Data *record.Dataset
	// WorkflowYAML is the source of the workflows, one YAML document each.
	WorkflowYAML []byte
	// Workflows is WorkflowYAML compiled.
	Workflows *workflow.Set
	// Events are pushed in order; Bodies are their JSON (event.Encode).
	Events []*event.Event
	Bodies [][]byte
}

// epoch is the time of the generated data: records are created then and
// event i occurs i milliseconds later.
var epoch = time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)

// stageValues is the number of distinct stages, tags and VIP tags events
// use; workflows trigger on the first few of them, so that some events
// match a workflow and most do not.
const stageValues = 10

// eventIDPrefix starts the id of every generated event; the number after
// it is the event's index (see eventIndex).
const eventIDPrefix = "ev-"

func accountID(a int) string      { return "acct-" + strconv.Itoa(a) }
func userID(a, u int) string      { return "u-" + strconv.Itoa(a) + "-" + strconv.Itoa(u) }
func oppID(i int) string          { return "o-" + strconv.Itoa(i) }
func contactID(i int) string      { return "c-" + strconv.Itoa(i) }
func contactsPer(opps int) int    { return max(1, opps/4) }
func eventID(i int) string        { return eventIDPrefix + strconv.Itoa(i) }
func stage(i int) string          { return "Stage-" + strconv.Itoa(i) }
func tag(i int) string            { return "Tag-" + strconv.Itoa(i) }
func vipTag(i int) string         { return "VIP-" + strconv.Itoa(i) }
func ptr[T any](v T) *T           { return &v }
func userName(a, u int) string    { return fmt.Sprintf("User %d of account %d", u, a) }
func userEmail(a, u int) string   { return fmt.Sprintf("u%d@acct-%d.test", u, a) }
func oppName(a, i int) string     { return fmt.Sprintf("Deal %d of account %d", i, a) }
func contactName(a, i int) string { return fmt.Sprintf("Contact %d of account %d", i, a) }

// Generate makes the workload: its data, workflows and events. It is
// deterministic: the same Workload gives the same result.
func Generate(w Workload) (*Generated, error) {
	if err := w.Validate(); err != nil {
		return nil, err
	}
	g := &Generated{Workload: w, Data: generateData(w)}
	g.WorkflowYAML = generateWorkflows(w)
	set, err := parseWorkflows(g.WorkflowYAML)
	if err != nil {
		return nil, err
	}
	g.Workflows = set
	g.Events = generateEvents(w)
	g.Bodies = make([][]byte, len(g.Events))
	for i, ev := range g.Events {
		if g.Bodies[i], err = event.Encode(ev); err != nil {
			return nil, fmt.Errorf("encoding generated event %s: %w", ev.ID, err)
		}
	}
	return g, nil
}

func generateData(w Workload) *record.Dataset {
	ds := &record.Dataset{}
	nc := contactsPer(w.Opportunities)
	for a := range w.Accounts {
		acct := accountID(a)
		ds.Accounts = append(ds.Accounts, record.Account{ID: acct, Name: "Account " + strconv.Itoa(a)})
		for u := range w.Users {
			role := record.RoleUser
			if u == 0 {
				role = record.RoleAdmin
			}
			ds.Users = append(ds.Users, record.User{
				ID: userID(a, u), AccountID: acct, Name: userName(a, u), Email: userEmail(a, u),
				Role: role, Active: true,
			})
		}
		for c := range nc {
			ds.Contacts = append(ds.Contacts, record.Contact{
				ID: contactID(c), AccountID: acct, Name: contactName(a, c), OwnerID: userID(a, c%w.Users),
				Tags: []string{}, Followers: []string{}, CreatedAt: epoch, UpdatedAt: epoch,
			})
		}
		for o := range w.Opportunities {
			ds.Opportunities = append(ds.Opportunities, record.Opportunity{
				ID: oppID(o), AccountID: acct, Name: oppName(a, o), Pipeline: "Sales", Stage: stage(0),
				Status: record.StatusOpen, Value: float64(500 * (o % 80)), OwnerID: userID(a, o%w.Users),
				ContactID: contactID(o % nc), Tags: []string{}, Followers: []string{},
				CreatedAt: epoch, UpdatedAt: epoch, LastOwnerActivityAt: epoch,
			})
		}
	}
	return ds
}

// generateWorkflows writes the workflows, spread over the accounts as
// real teams write them: per account, the first two act on creation (a
// value condition), the next ones cycle through stage changes, tags
// applied and removed, contact tags (find_opportunity), owner changes (an
// if/else) and status changes (remove every follower), each on its own
// stage or tag.
func generateWorkflows(w Workload) []byte {
	var b strings.Builder
	for i := range w.Workflows {
		a := i % w.Accounts
		k := i / w.Accounts
		user := func(j int) string { return userID(a, j%w.Users) }
		fmt.Fprintf(&b, "---\nid: wf-%d\naccount_id: %s\n", i, accountID(a))
		if k < 2 {
			users := user(k + 1)
			if w.Users > 1 && (k+1)%w.Users != (k+2)%w.Users {
				users += ", " + user(k+2)
			}
			fmt.Fprintf(&b, "trigger: {type: opportunity.created}\nsteps:\n  - condition: opportunity.value > %d\n  - add_followers: {name: Leadership, users: [%s]}\n", 10000*(k+1), users)
			continue
		}
		j := (k - 2) / 6 % stageValues
		switch (k - 2) % 6 {
		case 0:
			fmt.Fprintf(&b, "trigger: {type: opportunity.stage_changed, to_stage: %s}\nsteps:\n  - condition: opportunity.value > 1000 && opportunity.status == \"open\"\n  - add_followers: {users: [%s]}\n", stage(j), user(k))
		case 1:
			fmt.Fprintf(&b, "trigger: {type: opportunity.tag_applied, tag: %s}\nsteps:\n  - add_followers: {users: [%s]}\n", tag(j), user(k))
		case 2:
			fmt.Fprintf(&b, "trigger: {type: opportunity.tag_removed, tag: %s}\nsteps:\n  - remove_followers: {users: [%s]}\n", tag(j), user(k-1))
		case 3:
			fmt.Fprintf(&b, "trigger: {type: contact.tag_applied, tag: %s}\nsteps:\n  - find_opportunity: {pipeline: Sales, select: highest_value}\n  - condition: opportunity.stage != \"Closed\"\n  - add_followers: {users: [%s]}\n", vipTag(j), user(k))
		case 4:
			fmt.Fprintf(&b, "trigger: {type: opportunity.owner_changed}\nsteps:\n  - if: opportunity.value >= %d\n    then:\n      - add_followers: {users: [%s]}\n    else:\n      - remove_followers: {users: [%s]}\n", 5000*(j+1), user(k), user(k))
		default:
			fmt.Fprintf(&b, "trigger: {type: opportunity.status_changed, to_status: %s}\nsteps:\n  - remove_followers: {all: true}\n", []string{record.StatusWon, record.StatusLost}[j%2])
		}
	}
	return []byte(b.String())
}

// parseWorkflows compiles the generated YAML, in pieces that stay under
// the loader's file size limit.
func parseWorkflows(src []byte) (*workflow.Set, error) {
	var wfs []*workflow.Workflow
	docs := strings.SplitAfter(string(src), "\n---\n")
	const per = 1000
	for start := 0; start < len(docs); start += per {
		piece := strings.Join(docs[start:min(start+per, len(docs))], "")
		got, diags := workflow.Parse("bench-workflows.yaml", []byte(piece))
		if diags.HasErrors() {
			return nil, fmt.Errorf("generated workflows: %w", diags.Err())
		}
		wfs = append(wfs, got...)
	}
	return workflow.NewSet(wfs), nil
}

// generateEvents returns the events, each of a kind drawn from the mix,
// about a random account and (except creations) a random opportunity or
// contact of the loaded data. Owner activity comes from the opportunity's
// current owner, as the events before it left it.
func generateEvents(w Workload) []*event.Event {
	r := rand.New(rand.NewPCG(w.Seed, 0x666f6c6c6f77))
	total := w.Mix.total()
	nc := contactsPer(w.Opportunities)
	owners := map[[2]int]int{} // {account, opp} -> owner index, when changed
	owner := func(a, o int) int {
		if u, ok := owners[[2]int{a, o}]; ok {
			return u
		}
		return o % w.Users
	}
	evs := make([]*event.Event, w.Events)
	for i := range evs {
		a := r.IntN(w.Accounts)
		o := r.IntN(w.Opportunities)
		ev := &event.Event{
			ID: eventID(i), AccountID: accountID(a),
			OccurredAt:    epoch.Add(time.Duration(i) * time.Millisecond),
			OpportunityID: oppID(o),
		}
		switch w.Mix.pick(r.IntN(total)) {
		case KindCreated:
			ev.Type, ev.OpportunityID = event.OpportunityCreated, "n-"+strconv.Itoa(i)
			ev.Opportunity = &event.OpportunitySnapshot{
				Name: ptr(fmt.Sprintf("New deal %d", i)), Pipeline: ptr("Sales"), Stage: ptr(stage(0)),
				Value: ptr(float64(r.IntN(40000))), OwnerID: ptr(userID(a, r.IntN(w.Users))),
				ContactID: ptr(contactID(r.IntN(nc))),
			}
		case KindUpdated:
			ev.Type = event.OpportunityUpdated
			ev.Opportunity = &event.OpportunitySnapshot{Value: ptr(float64(r.IntN(40000)))}
		case KindStage:
			ev.Type, ev.Data.ToStage = event.OpportunityStageChanged, stage(r.IntN(stageValues))
		case KindStatus:
			ev.Type = event.OpportunityStatusChanged
			ev.Data.ToStatus = []string{record.StatusOpen, record.StatusWon, record.StatusLost}[r.IntN(3)]
		case KindTag:
			ev.Type, ev.Data.Tag = event.OpportunityTagApplied, tag(r.IntN(stageValues))
			if r.IntN(2) == 0 {
				ev.Type = event.OpportunityTagRemoved
			}
		case KindOwner:
			u := r.IntN(w.Users)
			owners[[2]int{a, o}] = u
			ev.Type, ev.Data.ToOwnerID = event.OpportunityOwnerChanged, userID(a, u)
		case KindActivity:
			ev.Type, ev.ActorID = event.OpportunityActivity, userID(a, owner(a, o))
		case KindContact:
			ev.OpportunityID = ""
			ev.ContactID = contactID(r.IntN(nc))
			ev.Type, ev.Data.Tag = event.ContactTagApplied, vipTag(r.IntN(stageValues))
			if r.IntN(2) == 0 {
				ev.Type = event.ContactTagRemoved
			}
		}
		evs[i] = ev
	}
	return evs
}

// eventIndex returns the index of a generated event from its id.
func eventIndex(id string) (int, bool) {
	rest, ok := strings.CutPrefix(id, eventIDPrefix)
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(rest)
	return n, err == nil && n >= 0
}

// bodyIndex returns the index of a generated event from its JSON body
// without decoding it: event.Encode writes the id first.
func bodyIndex[T string | []byte](body T) (int, bool) {
	const head = `{"id":"` + eventIDPrefix
	if len(body) < len(head) || string(body[:len(head)]) != head {
		return 0, false
	}
	n := 0
	digits := 0
	for i := len(head); i < len(body); i++ {
		c := body[i]
		if c < '0' || c > '9' {
			break
		}
		n = n*10 + int(c-'0')
		digits++
	}
	return n, digits > 0
}
