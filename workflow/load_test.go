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

// TestContextWarningFollowsBranches: a find_opportunity inside an if gives
// the steps after the if an opportunity on that path, so they are not
// "always skipped"; with no provider on any path they are.
func TestContextWarningFollowsBranches(t *testing.T) {
	t.Parallel()
	head := "id: w\naccount_id: a\ntrigger: {type: contact.tag_applied, tag: VIP}\nsteps:\n"
	for name, tc := range map[string]struct {
		steps string
		warns int
	}{
		"both branches find":          {"  - if: contact.name != ''\n    then: [{find_opportunity: {select: newest}}]\n    else: [{find_opportunity: {select: oldest}}]\n  - add_followers: {users: [u]}\n", 0},
		"one branch finds":            {"  - if: contact.name != ''\n    then: [{find_opportunity: {select: newest}}]\n  - add_followers: {users: [u]}\n", 0},
		"no branch finds":             {"  - if: contact.name != ''\n    then: [{condition: 'true'}]\n    else: [{condition: 'true'}]\n  - add_followers: {users: [u]}\n", 1},
		"inside a branch, after none": {"  - if: contact.name != ''\n    then: [{add_followers: {users: [u]}}]\n", 1},
	} {
		t.Run(name, func(t *testing.T) {
			_, diags := workflow.Parse("w.yaml", []byte(head+tc.steps))
			if diags.HasErrors() {
				t.Fatal(diags.Err())
			}
			n := 0
			for _, d := range diags {
				if strings.Contains(d.Message, "always be skipped_no_opportunity") {
					n++
				}
			}
			if n != tc.warns {
				t.Errorf("%d context warnings, want %d: %v", n, tc.warns, diags)
			}
		})
	}
}

// TestListedTwiceFoldsEmailsOnly: ids are exact (U_MGR and u_mgr are two
// users), emails are not (README).
func TestListedTwiceFoldsEmailsOnly(t *testing.T) {
	t.Parallel()
	src := "id: w\naccount_id: a\ntrigger: {type: opportunity.created}\nsteps:\n  - add_followers: {users: [U_MGR, u_mgr, Rae@Acme.Test, rae@acme.test]}\n"
	_, diags := workflow.Parse("w.yaml", []byte(src))
	var twice []string
	for _, d := range diags {
		if strings.Contains(d.Message, "listed twice") {
			twice = append(twice, d.Message)
		}
	}
	if len(twice) != 1 || !strings.Contains(twice[0], `"rae@acme.test" is listed twice`) {
		t.Errorf("listed-twice warnings = %q, want one, for rae@acme.test", twice)
	}
}
