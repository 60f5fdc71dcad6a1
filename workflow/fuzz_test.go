package workflow_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/followflow/followflow/workflow"
)

// FuzzParse: any input gives workflows or diagnostics, never a panic, and
// every diagnostic has a position in the file.
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
	f.Add([]byte("id: x\naccount_id: a\ntrigger: {type: opportunity.stale, days: -1}\nsteps: [{if: 'true', then: [{if: 'false', then: []}]}]\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		wfs, diags := workflow.Parse("fuzz.yaml", src)
		for _, d := range diags {
			if d.Pos.File != "fuzz.yaml" || d.Message == "" {
				t.Fatalf("diagnostic without file or message: %+v", d)
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
