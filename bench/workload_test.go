package bench

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	"github.com/followflow/followflow/event"
)

func smallWorkload(mix string) Workload {
	return Workload{Accounts: 3, Users: 4, Opportunities: 8, Workflows: 30, Events: 400, Mix: MustParseMix(mix), Seed: 7}
}

const everyKind = "created=1,updated=1,stage=1,status=1,tag=1,owner=1,activity=1,contact=1"

func TestGenerateIsDeterministic(t *testing.T) {
	w := smallWorkload(everyKind)
	a, err := Generate(w)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Generate(w)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a.Data, b.Data) {
		t.Error("the same workload gave different data")
	}
	if !bytes.Equal(a.WorkflowYAML, b.WorkflowYAML) {
		t.Error("the same workload gave different workflows")
	}
	if !reflect.DeepEqual(a.Bodies, b.Bodies) {
		t.Error("the same workload gave different events")
	}
	w.Seed++
	c, err := Generate(w)
	if err != nil {
		t.Fatal(err)
	}
	if reflect.DeepEqual(a.Bodies, c.Bodies) {
		t.Error("another seed gave the same events")
	}
}

func TestGenerateMakesValidInput(t *testing.T) {
	g, err := Generate(smallWorkload(everyKind))
	if err != nil {
		t.Fatal(err)
	}
	if problems := g.Data.Check(); len(problems) > 0 {
		t.Fatalf("generated data fails Check:\n%s", strings.Join(problems, "\n"))
	}
	w := g.Workload
	if got, want := len(g.Data.Opportunities), w.Accounts*w.Opportunities; got != want {
		t.Errorf("%d opportunities, want %d", got, want)
	}
	if got := g.Workflows.Len(); got != w.Workflows {
		t.Errorf("%d workflows, want %d", got, w.Workflows)
	}
	if len(g.Events) != w.Events || len(g.Bodies) != w.Events {
		t.Fatalf("%d events and %d bodies, want %d", len(g.Events), len(g.Bodies), w.Events)
	}
	types := map[string]int{}
	for i, body := range g.Bodies {
		ev, err := event.Decode(body, epoch)
		if err != nil {
			t.Fatalf("event %d does not decode: %v\n%s", i, err, body)
		}
		types[ev.Type]++
		if n, ok := bodyIndex(body); !ok || n != i {
			t.Fatalf("bodyIndex of event %d = %d, %v", i, n, ok)
		}
		if n, ok := eventIndex(ev.ID); !ok || n != i {
			t.Fatalf("eventIndex(%q) = %d, %v", ev.ID, n, ok)
		}
	}
	for _, typ := range []string{
		event.OpportunityCreated, event.OpportunityUpdated, event.OpportunityStageChanged, event.OpportunityStatusChanged,
		event.OpportunityTagApplied, event.OpportunityTagRemoved, event.OpportunityOwnerChanged, event.OpportunityActivity,
		event.ContactTagApplied, event.ContactTagRemoved,
	} {
		if types[typ] == 0 {
			t.Errorf("no %s event among %d: %v", typ, len(g.Events), types)
		}
	}
}

func TestGenerateFollowsTheMix(t *testing.T) {
	g, err := Generate(smallWorkload("created=1,stage=3"))
	if err != nil {
		t.Fatal(err)
	}
	n := map[string]int{}
	for _, ev := range g.Events {
		n[ev.Type]++
	}
	created, stage := n[event.OpportunityCreated], n[event.OpportunityStageChanged]
	if created+stage != len(g.Events) || created < 60 || created > 140 {
		t.Errorf("created %d, stage changes %d of %d events; want about a quarter created and nothing else", created, stage, len(g.Events))
	}
}

func TestGenerateRejectsABadWorkload(t *testing.T) {
	if _, err := Generate(Workload{Accounts: -1}); err == nil {
		t.Error("Generate accepted -1 accounts")
	}
}

func TestIndexParsers(t *testing.T) {
	for _, tc := range []struct {
		in string
		n  int
		ok bool
	}{
		{`{"id":"ev-0","type":"x"}`, 0, true},
		{`{"id":"ev-12345","type":"x"}`, 12345, true},
		{`{"id":"ev-","type":"x"}`, 0, false},
		{`{"id":"stale:a:b"}`, 0, false},
		{`{"type":"x","id":"ev-1"}`, 0, false},
		{``, 0, false},
	} {
		n, ok := bodyIndex(tc.in)
		if n != tc.n || ok != tc.ok {
			t.Errorf("bodyIndex(%s) = %d, %v; want %d, %v", tc.in, n, ok, tc.n, tc.ok)
		}
	}
	if n, ok := eventIndex("ev-42"); n != 42 || !ok {
		t.Errorf("eventIndex(ev-42) = %d, %v", n, ok)
	}
	for _, id := range []string{"ev-", "ev--1", "x-1", "stale:acct:o-1:14d"} {
		if _, ok := eventIndex(id); ok {
			t.Errorf("eventIndex(%q) accepted it", id)
		}
	}
}
