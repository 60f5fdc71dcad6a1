package workflow_test

import (
	"strings"
	"testing"

	"github.com/followflow/followflow/workflow"
)

// TestEmptyStepMappingIsAnError: `steps: [{}]` crashed the loader (found by
// FuzzParse); it must be a diagnostic.
func TestEmptyStepMappingIsAnError(t *testing.T) {
	t.Parallel()
	_, diags := workflow.Parse("w.yaml", []byte("id: x\naccount_id: a\ntrigger: {type: opportunity.created}\nsteps: [{}]\n"))
	if !diags.HasErrors() || !strings.Contains(diags.Err().Error(), "w.yaml:4:9: error: steps[0]: empty step") {
		t.Fatalf("diagnostics = %v", diags)
	}
}

func TestParseReportsEveryDocument(t *testing.T) {
	t.Parallel()
	src := `id: a
account_id: acme
trigger: {type: opportunity.created}
steps: [{condition: "opportunity.value > 1"}]
---
---
id: b
account_id: acme
trigger: {type: contact.tag_applied, tag: VIP}
steps:
  - find_opportunity: {select: biggest}
`
	wfs, diags := workflow.Parse("w.yaml", []byte(src))
	if len(wfs) != 1 || wfs[0].ID != "a" {
		t.Errorf("workflows = %v", wfs)
	}
	if got := diags.Err().Error(); !strings.Contains(got, `w.yaml:11:32: error: steps[0].find_opportunity.select: "biggest" is not newest, oldest or highest_value`) {
		t.Errorf("diagnostics = %s", got)
	}
}

func TestSyntaxErrorHasALine(t *testing.T) {
	t.Parallel()
	_, diags := workflow.Parse("w.yaml", []byte("id: a\naccount_id: [\n"))
	if !diags.HasErrors() || diags[0].Pos.Line == 0 || !strings.Contains(diags[0].Message, "invalid YAML") {
		t.Errorf("diagnostics = %v", diags)
	}
}

// TestAliasesNeverYieldAWorkflow: an alias where a field's value belongs
// decodes to nothing; the workflow must still be refused with the alias
// reported (it was kept without a trigger, and NewSet crashed).
func TestAliasesNeverYieldAWorkflow(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct{ src, want string }{
		"trigger": {
			"id: w\naccount_id: a\nname: &n x\ntrigger: *n\nsteps: [{add_followers: {users: [u]}}]\n",
			"w.yaml:4:10: error: YAML aliases (*n) are not allowed in workflows",
		},
		"steps": {
			"id: w\naccount_id: a\nname: &s x\ntrigger: {type: opportunity.created}\nsteps: *s\n",
			"w.yaml:5:8: error: YAML aliases (*s) are not allowed in workflows",
		},
		"anchor in an earlier document": {
			"id: v\naccount_id: a\ntrigger: &t {type: opportunity.created}\nsteps: [{add_followers: {users: [u]}}]\n---\nid: w\naccount_id: a\ntrigger: *t\nsteps: [{add_followers: {users: [u]}}]\n",
			"w.yaml:8:10: error: YAML aliases (*t) are not allowed in workflows",
		},
	} {
		t.Run(name, func(t *testing.T) {
			wfs, diags := workflow.Parse("w.yaml", []byte(tc.src))
			for _, w := range wfs {
				if w.ID == "w" {
					t.Errorf("workflow w returned: %+v", w)
				}
			}
			if err := diags.Err(); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("diagnostics = %v, want %q", err, tc.want)
			}
			_ = workflow.NewSet(wfs)
		})
	}
}
