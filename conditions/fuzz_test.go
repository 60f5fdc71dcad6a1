package conditions_test

import (
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/followflow/followflow/conditions"
	"github.com/followflow/followflow/event"
	"github.com/followflow/followflow/record"
)

// FuzzCompile: any source compiles to a program that evaluates without
// panicking (with and without an opportunity), or to a *CompileError that
// places the problem on a rune of the source, with a caret.
func FuzzCompile(f *testing.F) {
	for _, s := range []string{
		"opportunity.value > 15000",
		`"Technical Evaluation" in opportunity.tags`,
		"opportunity.days_inactive >= 14 && contact.email endsWith '@acme.test'",
		"now - opportunity.created_at > duration('24h')",
		"event.data.to_stage == 'Contract Sent' || event.type == 'opportunity.created'",
		"len(opportunity.followers) < 10 ? true : false",
		"1/0 == 1",
		"[1,2,3] | all(# > 0)",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		p, err := conditions.Compile(src)
		if err != nil {
			var ce *conditions.CompileError
			if !errors.As(err, &ce) {
				t.Fatalf("error is not a CompileError: %v", err)
			}
			// The place is a rune of the source, with a caret under it.
			if n := utf8.RuneCountInString(src); ce.Offset < 0 || ce.Offset >= max(n, 1) || ce.Line < 1 || ce.Column < 1 {
				t.Fatalf("Compile(%q): offset %d, %d:%d for %d runes", src, ce.Offset, ce.Line, ce.Column, n)
			}
			if strings.TrimSpace(src) != "" && !strings.Contains(ce.Snippet, "^") {
				t.Fatalf("Compile(%q): no caret in %q", src, ce.Snippet)
			}
			return
		}
		var ev conditions.Evaluator
		now := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
		_, _ = ev.Eval(p, &conditions.Facts{Now: now})
		_, _ = ev.Eval(p, &conditions.Facts{Now: now, Opportunity: &record.Opportunity{Value: 1, Tags: []string{"a"}}, Contact: &record.Contact{}, Event: &event.Event{}})
	})
}
