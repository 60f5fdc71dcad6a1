package conditions_test

import (
	"testing"
	"time"

	"github.com/followflow/followflow/conditions"
	"github.com/followflow/followflow/record"
)

// BenchmarkEval: one condition of the engine benchmark (one the native
// evaluator runs) with a reused evaluator.
func BenchmarkEval(b *testing.B) {
	p, err := conditions.Compile(`opportunity.value > 1000 && opportunity.status == "open"`)
	if err != nil {
		b.Fatal(err)
	}
	facts := &conditions.Facts{Now: time.Now(), Opportunity: &record.Opportunity{Value: 5000, Status: "open"}}
	var e conditions.Evaluator
	b.ReportAllocs()
	for b.Loop() {
		if ok, err := e.Eval(p, facts); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}
