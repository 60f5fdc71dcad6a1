package conditions_test

import (
	"errors"
	"strings"
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
	long := "opportunity.value > 1" + strings.Repeat(" ", conditions.MaxLength)
	tests := []struct {
		src          string
		offset       int
		line, column int
		whole        bool
		msg          string
		snippet      string
	}{
		{"opportunity.valu > 1", 12, 1, 13, false, "opportunity has no field valu",
			"\n | opportunity.valu > 1\n | ............^"},
		{"opportunity.value > 1 &&\n\topportunity.valu > 2", 38, 2, 14, false, "opportunity has no field valu",
			"\n |  opportunity.valu > 2\n | .............^"},
		// At the end of the input, the caret stays on the last rune.
		{"opportunity.value > ", 19, 1, 20, false, "unexpected token EOF",
			"\n | opportunity.value > \n | ...................^"},
		{"opportunity.value > 'é", 21, 1, 22, false, "literal not terminated",
			"\n | opportunity.value > 'é\n | .....................^"},
		{"env", 0, 1, 1, false, "unknown name env", "\n | env\n | ^"},
		// No place from expr: carets under the whole expression.
		{"opportunity.value", 0, 1, 1, true, "expected bool, but got float64",
			"\n | opportunity.value\n | ^^^^^^^^^^^^^^^^^"},
		{"\n  opportunity.value\n    + 1 \n", 3, 2, 3, true, "expected bool, but got float64",
			"\n |   opportunity.value\n | ..^^^^^^^^^^^^^^^^^\n |     + 1\n | ....^^^"},
		{long, conditions.MaxLength, 1, conditions.MaxLength + 1, false, "expression longer than 4096 bytes", ""},
	}
	for _, tt := range tests {
		_, err := conditions.Compile(tt.src)
		var ce *conditions.CompileError
		if !errors.As(err, &ce) {
			t.Fatalf("Compile(%q) = %v, want a CompileError", tt.src, err)
		}
		if ce.Offset != tt.offset || ce.Line != tt.line || ce.Column != tt.column || ce.Whole != tt.whole || ce.Message != tt.msg {
			t.Errorf("Compile(%q) = offset %d, %d:%d, whole %v, %q; want offset %d, %d:%d, whole %v, %q",
				tt.src, ce.Offset, ce.Line, ce.Column, ce.Whole, ce.Message, tt.offset, tt.line, tt.column, tt.whole, tt.msg)
		}
		if tt.snippet != "" && ce.Snippet != tt.snippet {
			t.Errorf("Compile(%q) snippet:\n%s\nwant:\n%s", tt.src, ce.Snippet, tt.snippet)
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
