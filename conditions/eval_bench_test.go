package conditions_test

import (
	"testing"
	"time"

	"github.com/followflow/followflow/conditions"
)

// BenchmarkEval: one condition of the engine benchmark against a typed
// environment with a reused VM.
func BenchmarkEval(b *testing.B) {
	p, err := conditions.Compile(`opportunity.value > 1000 && opportunity.status == "open"`)
	if err != nil {
		b.Fatal(err)
	}
	env := &conditions.Env{Now: time.Now(), Opportunity: &conditions.Opportunity{Value: 5000, Status: "open"}}
	var e conditions.Evaluator
	b.ReportAllocs()
	for b.Loop() {
		if ok, err := e.Eval(p, env); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}
