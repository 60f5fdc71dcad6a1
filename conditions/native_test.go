package conditions

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/followflow/followflow/event"
	"github.com/followflow/followflow/record"
)

// evalVM is Eval without the native evaluator.
func evalVM(p *Program, f *Facts) (bool, error) {
	q := *p
	q.native = nil
	var e Evaluator
	return e.Eval(&q, f)
}

// nativeFacts are facts that tell the shapes apart: records in and out of
// context, values on either side of the constants the expressions use,
// empty and missing tags.
func nativeFacts() []*Facts {
	now := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	opp := func(v float64, days int, stage string, tags ...string) *record.Opportunity {
		return &record.Opportunity{ID: "o1", AccountID: "a1", Name: "Deal", Pipeline: "sales", Stage: stage, Status: "open",
			Value: v, OwnerID: "u1", ContactID: "c1", Tags: tags, Followers: []string{"u2"},
			LastOwnerActivityAt: now.Add(-time.Duration(days)*24*time.Hour - time.Hour)}
	}
	contact := &record.Contact{ID: "c1", AccountID: "a1", Name: "Ann", Email: "ann@acme.test", OwnerID: "u1", Tags: []string{"VIP"}}
	ev := &event.Event{ID: "e1", Type: "opportunity.created", AccountID: "a1", ActorID: "u1", OpportunityID: "o1", ContactID: "c1"}
	return []*Facts{
		{Now: now},
		{Now: now, Event: ev},
		{Now: now, Event: ev, Contact: contact},
		{Now: now, Event: ev, Opportunity: opp(15000, 14, "Contract Sent", "Technical Evaluation")},
		{Now: now, Event: ev, Opportunity: opp(15000.5, 13, "Proposal"), Contact: contact},
		{Now: now, Event: ev, Opportunity: opp(-1, 0, "", "a", "b")},
		{Now: now, Opportunity: opp(0, 100, "Contract Sent")},
		{Now: now, Opportunity: opp(math.NaN(), 14, "Proposal")},
		{Now: now, Opportunity: &record.Opportunity{ID: "o2", LastOwnerActivityAt: now.Add(time.Hour)}},
	}
}

// agree checks that Eval (native when it can) and the VM give the same
// result and the same error, or lack of one, in every environment.
func agree(t *testing.T, src string) {
	t.Helper()
	p, err := Compile(src)
	if err != nil {
		return
	}
	for i, f := range nativeFacts() {
		got, gotErr := p.Eval(f)
		want, wantErr := evalVM(p, f)
		if got != want || (gotErr == nil) != (wantErr == nil) {
			t.Fatalf("%s, facts %d: Eval = %v, %v; the VM says %v, %v", src, i, got, gotErr, want, wantErr)
		}
	}
}

// Eval with a fresh evaluator, for the tests.
func (p *Program) Eval(f *Facts) (bool, error) {
	var e Evaluator
	return e.Eval(p, f)
}

func TestNativeAgreesWithTheVM(t *testing.T) {
	native := 0
	for _, src := range nativeCorpus {
		p, err := Compile(src)
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		if p.native != nil {
			native++
		}
		agree(t, src)
	}
	if native < len(nativeCorpus)*3/4 {
		t.Errorf("only %d of %d expressions have a native evaluator", native, len(nativeCorpus))
	}
}

var nativeCorpus = []string{
	"opportunity.value > 15000",
	"opportunity.value >= 15000",
	"opportunity.value < 15000.5",
	"opportunity.value <= -1",
	"opportunity.value == 15000",
	"opportunity.value != 0",
	"opportunity.days_inactive >= 14",
	"opportunity.days_inactive > 13.5",
	"-opportunity.value > 0",
	`opportunity.status == "open"`,
	`opportunity.stage != 'Contract Sent'`,
	`opportunity.stage < "M"`,
	`opportunity.stage >= ""`,
	`"Technical Evaluation" in opportunity.tags`,
	`not ("a" in opportunity.tags)`,
	`"u2" in opportunity.followers`,
	`"VIP" in contact.tags`,
	`contact.email endsWith "@acme.test"`,
	`contact.name startsWith "A"`,
	`contact.email contains "acme"`,
	`opportunity.value > 1000 && opportunity.status == "open"`,
	`opportunity.value > 1000 and contact.name == "Ann"`,
	`opportunity.value > 1e9 || contact.name == "Ann"`,
	`contact.name == "Ann" or opportunity.value > 1`,
	`!(opportunity.value > 15000)`,
	`true && opportunity.value > 0`,
	`false || event.type == "opportunity.created"`,
	`event.actor_id == opportunity.owner_id`,
	`event.opportunity_id == opportunity.id && event.contact_id == contact.id`,
	`(opportunity.value > 15000) == (contact.name == "Ann")`,
	`opportunity.account_id == event.account_id && opportunity.pipeline == "sales" && opportunity.contact_id != ""`,
	`contact.owner_id == "u1" && contact.account_id == "a1" && contact.id == "c1" && event.id == "e1"`,
	`opportunity.name == "Deal"`,
	// Not native: the VM runs them.
	`len(opportunity.followers) < 10`,
	`opportunity.stage in ["Contract Sent", "Proposal"]`,
	`now - opportunity.created_at > duration("24h")`,
	`event.data.to_stage == "Contract Sent"`,
}

// FuzzNative builds expressions of the shapes the native evaluator knows
// (and some it does not) from the fuzzer's bytes, and checks that it
// agrees with the VM for every set of facts.
func FuzzNative(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9})
	f.Add([]byte("opportunity.value > 15000 && contact"))
	f.Fuzz(func(t *testing.T, b []byte) {
		g := &exprGen{b: b}
		agree(t, g.boolean(0))
	})
}

type exprGen struct {
	b []byte
	i int
}

func (g *exprGen) next(n int) int {
	if g.i >= len(g.b) {
		return 0
	}
	v := int(g.b[g.i]) % n
	g.i++
	return v
}

func (g *exprGen) boolean(depth int) string {
	if depth > 4 {
		return g.leaf()
	}
	switch g.next(6) {
	case 0:
		return fmt.Sprintf("(%s %s %s)", g.boolean(depth+1), []string{"&&", "||", "and", "or", "==", "!="}[g.next(6)], g.boolean(depth+1))
	case 1:
		return []string{"!", "not "}[g.next(2)] + "(" + g.boolean(depth+1) + ")"
	default:
		return g.leaf()
	}
}

var (
	genNums  = []string{"opportunity.value", "opportunity.days_inactive", "-opportunity.value", "0", "14", "15000", "15000.5", "-1", "1e9", "9007199254740993", "0.1"}
	genStrs  = []string{"opportunity.stage", "opportunity.status", "opportunity.id", "contact.name", "contact.email", "event.type", "event.actor_id", "opportunity.owner_id", `"open"`, `"Contract Sent"`, `""`, `"A"`, `"acme"`, `"u1"`}
	genLists = []string{"opportunity.tags", "opportunity.followers", "contact.tags", "contact.followers", `["a", "VIP"]`}
)

func (g *exprGen) leaf() string {
	switch g.next(5) {
	case 0:
		return []string{"true", "false"}[g.next(2)]
	case 1:
		return fmt.Sprintf("%s %s %s", genNums[g.next(len(genNums))], []string{"==", "!=", "<", "<=", ">", ">="}[g.next(6)], genNums[g.next(len(genNums))])
	case 2:
		return fmt.Sprintf("%s %s %s", genStrs[g.next(len(genStrs))], []string{"==", "!=", "<", "<=", ">", ">=", "contains", "startsWith", "endsWith"}[g.next(9)], genStrs[g.next(len(genStrs))])
	case 3:
		return fmt.Sprintf("%s in %s", genStrs[g.next(len(genStrs))], genLists[g.next(len(genLists))])
	default:
		return strings.Join([]string{genStrs[g.next(len(genStrs))], "==", genStrs[g.next(len(genStrs))]}, " ")
	}
}
