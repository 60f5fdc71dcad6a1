package workflow_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/followflow/followflow/workflow"
)

// FuzzParse: any input gives workflows or diagnostics, never a panic, and
// every diagnostic has a position in the file (line and column from 1).
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("../examples/workflows/*.yaml")
	bad, _ := filepath.Glob("../cli/testdata/bad/*.yaml")
	for _, name := range append(files, bad...) {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("a: &a [*a]\n"))
	f.Add([]byte("id: w\naccount_id: a\nname: &n x\ntrigger: *n\nsteps: [{add_followers: {users: [u]}}]\n"))
	f.Add([]byte("id: x\naccount_id: a\ntrigger: {type: opportunity.created}\nsteps:\n  - condition: |2-\n      opportunity.value >\n        1 &&\n  - if: \"opportunity.valu\\t\\\n    > 1\"\n    then: []\n  - condition: >\n     a\n\n     b\n"))
	f.Add([]byte("id: x\naccount_id: a\ntrigger: {type: opportunity.stale, days: -1}\nsteps: [{if: 'true', then: [{if: 'false', then: []}]}]\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		wfs, diags := workflow.Parse("fuzz.yaml", src)
		for _, d := range diags {
			if d.Pos.File != "fuzz.yaml" || d.Pos.Line < 1 || d.Pos.Column < 1 || d.Message == "" {
				t.Fatalf("diagnostic without file, line, column or message: %+v", d)
			}
		}
		// Partial sets are allowed (other documents compiled), but each
		// workflow returned must be complete.
		for _, w := range wfs {
			if w.ID == "" || w.AccountID == "" || w.Trigger == nil || len(w.Steps) == 0 {
				t.Fatalf("incomplete workflow returned: %+v", w)
			}
		}
		_ = workflow.NewSet(wfs)
	})
}
