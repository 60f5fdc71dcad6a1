package conditions_test

import (
	"errors"
	"testing"
	"time"

	"github.com/followflow/followflow/conditions"
	"github.com/followflow/followflow/event"
	"github.com/followflow/followflow/record"
)

func TestCompileAndEval(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	opp := &record.Opportunity{Value: 20000, Stage: "Proposal", Tags: []string{"VIP"},
		LastOwnerActivityAt: now.Add(-15 * 24 * time.Hour)}
	facts := &conditions.Facts{
		Opportunity: opp,
		Event:       &event.Event{Type: "opportunity.tag_applied", Data: event.Data{Tag: "VIP"}},
		Now:         now,
	}
	tests := []struct {
		src  string
		want bool
	}{
		{"opportunity.value > 15000", true},
		{"opportunity.value > 25000", false},
		{`"VIP" in opportunity.tags`, true},
		{`event.data.tag == "VIP" && opportunity.stage != "Closed"`, true},
		{"opportunity.days_inactive >= 14", true},
		{"now - opportunity.last_owner_activity_at > duration('336h')", true},
		{"len(opportunity.followers) < 10", true},
	}
	var ev conditions.Evaluator
	for _, tt := range tests {
		p, err := conditions.Compile(tt.src)
		if err != nil {
			t.Fatalf("Compile(%q): %v", tt.src, err)
		}
		got, err := ev.Eval(p, facts)
		if err != nil || got != tt.want {
			t.Errorf("Eval(%q) = %v, %v; want %v", tt.src, got, err, tt.want)
		}
	}
}

func TestCompileErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		src  string
		col  int
		want string
	}{
		{"opportunity.valu > 1", 13, "has no field valu"},
		{"opportunity.value", 1, "bool"},
		{"opportunity.value > ", 20, ""},
		{"env", 1, ""},
	}
	for _, tt := range tests {
		_, err := conditions.Compile(tt.src)
		var ce *conditions.CompileError
		if !errors.As(err, &ce) {
			t.Fatalf("Compile(%q) = %v, want a CompileError", tt.src, err)
		}
		t.Logf("%q: %v\n%s", tt.src, ce, ce.Snippet)
		if tt.col != 0 && ce.Column != tt.col && tt.want != "" {
			t.Errorf("Compile(%q) column = %d, want %d", tt.src, ce.Column, tt.col)
		}
	}
}

func TestEvalRuntimeErrorIsFalse(t *testing.T) {
	t.Parallel()
	p, err := conditions.Compile("opportunity.value > 15000")
	if err != nil {
		t.Fatal(err)
	}
	var ev conditions.Evaluator
	got, err := ev.Eval(p, &conditions.Facts{})
	if got || err == nil {
		t.Fatalf("Eval without opportunity = %v, %v; want false and an error", got, err)
	}
	t.Log(err)
}
