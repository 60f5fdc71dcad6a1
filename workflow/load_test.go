package workflow_test

import (
	"slices"
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

// TestExpressionErrorPositions: an expression's error is reported where it
// is written in the file, whatever the scalar's style. Multi-line scalars
// were reported lines or columns away (a literal block's error at 8:26
// for 8:15, a plain scalar's second line on its first), and a type error had
// no caret.
func TestExpressionErrorPositions(t *testing.T) {
	t.Parallel()
	const head = "id: x\naccount_id: a\ntrigger: {type: opportunity.created}\nsteps:\n" // steps from line 5
	const noField = "error: steps[0].condition: expression: opportunity has no field valu\n"
	tests := []struct {
		name  string
		steps string
		want  string // the diagnostic as validate prints it, after "w.yaml:"
	}{
		{"plain", `  - condition: opportunity.valu > 1
`, "5:28: " + noField + ` | opportunity.valu > 1
 | ............^`},
		{"plain with a tag", `  - condition: !!str opportunity.valu > 1
`, "5:34: " + noField + ` | opportunity.valu > 1
 | ............^`},
		{"plain in a flow mapping", `  - {condition: opportunity.value > 1 &&  opportunity.valu > 1}
`, "5:55: " + noField + ` | opportunity.value > 1 &&  opportunity.valu > 1
 | ......................................^`},
		{"plain, two lines", `  - condition: opportunity.value > 1 && opportunity.stage != "Closed" &&
      opportunity.valu > 2
`, "6:19: " + noField + ` | opportunity.value > 1 && opportunity.stage != "Closed" && opportunity.valu > 2
 | ......................................................................^`},
		{"plain, an empty line between", `  - condition: opportunity.value > 1 &&

     opportunity.valu > 2
`, "7:18: " + noField + ` | opportunity.valu > 2
 | ............^`},
		{"single-quoted", `  - condition: 'opportunity.stage == ''x'' && opportunity.valu > 1'
`, "5:59: " + noField + ` | opportunity.stage == 'x' && opportunity.valu > 1
 | ........................................^`},
		{"single-quoted, two lines", `  - condition: 'opportunity.value > 1 &&
        opportunity.valu > 2'
`, "6:21: " + noField + ` | opportunity.value > 1 && opportunity.valu > 2
 | .....................................^`},
		{"double-quoted with escapes", `  - condition: "opportunity.stage == \"x\t\" && opportunity.valu > 1"
`, "5:61: " + noField + " | opportunity.stage == \"x \" && opportunity.valu > 1\n" +
			` | .........................................^`},
		{"double-quoted, the error on an escape", `  - condition: "opportunity.value > 1 \x40"
`, "5:39: error: steps[0].condition: expression: unrecognized character: U+0040 '@'\n" + ` | opportunity.value > 1 @
 | ......................^`},
		{"double-quoted, an escaped line break", `  - condition: "opportunity.value > 1 &&\
      opportunity.valu > 2"
`, "6:19: " + noField + ` | opportunity.value > 1 &&opportunity.valu > 2
 | ....................................^`},
		{"literal", `  - condition: |
      opportunity.value > 1 &&
        opportunity.stage != "x" &&
        opportunity.valu > 2
`, "8:21: " + noField + ` |   opportunity.valu > 2
 | ..............^`},
		{"literal, strip, comment", `  - condition: |- # three lines
      opportunity.value > 1

      && opportunity.valu > 2
`, "8:22: " + noField + ` | && opportunity.valu > 2
 | ...............^`},
		{"literal, keep", `  - condition: |+
      opportunity.valu > 2

`, "6:19: " + noField + ` | opportunity.valu > 2
 | ............^`},
		{"literal, indentation indicator", `  - condition: |2-
        opportunity.value > 1 &&
          opportunity.valu > 2
`, "7:23: " + noField + ` |     opportunity.valu > 2
 | ................^`},
		{"literal, indicator after chomping", `  - condition: |-1
       opportunity.valu > 2
`, "6:20: " + noField + ` |   opportunity.valu > 2
 | ..............^`},
		{"folded", `  - condition: >
      opportunity.value > 1 &&
      opportunity.valu > 2
`, "7:19: " + noField + ` | opportunity.value > 1 && opportunity.valu > 2
 | .....................................^`},
		{"folded, strip, empty and more-indented lines", `  - condition: >-
      opportunity.value > 1 && opportunity.stage != "x" &&
        opportunity.tags != nil

      && opportunity.valu > 2
`, "9:22: " + noField + ` | && opportunity.valu > 2
 | ...............^`},
		{"end of input", `  - condition: opportunity.value >
`, "5:34: error: steps[0].condition: expression: unexpected token EOF\n" + ` | opportunity.value >
 | ..................^`},
		{"type, plain", `  - condition: opportunity.value
`, "5:16: error: steps[0].condition: expression: expected bool, but got float64\n" + ` | opportunity.value
 | ^^^^^^^^^^^^^^^^^`},
		{"type, literal", `  - condition: |
      opportunity.value
        + 1
`, "6:7: error: steps[0].condition: expression: expected bool, but got float64\n" + ` | opportunity.value
 | ^^^^^^^^^^^^^^^^^
 |   + 1
 | ..^^^`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, diags := workflow.Parse("w.yaml", []byte(head+tt.steps))
			if len(diags) != 1 {
				t.Fatalf("want one diagnostic, got:\n%v", diags)
			}
			if got := diags[0].String(); got != "w.yaml:"+tt.want {
				t.Errorf("got:\n%s\nwant:\nw.yaml:%s", got, tt.want)
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

// TestExpressionErrorPositionsCRLF: lines ended by CRLF, and a byte order
// mark, do not move the place.
func TestExpressionErrorPositionsCRLF(t *testing.T) {
	t.Parallel()
	src := "\uFEFFid: x\r\naccount_id: a\r\ntrigger: {type: opportunity.created}\r\nsteps:\r\n" +
		"  - condition: |\r\n      opportunity.value > 1 &&\r\n        opportunity.valu > 2\r\n" +
		"  - condition: opportunity.value > 1 &&\r\n\r\n     opportunity.valu > 2\r\n"
	_, diags := workflow.Parse("w.yaml", []byte(src))
	var got []string
	for _, d := range diags {
		got = append(got, d.Pos.String())
	}
	if want := []string{"w.yaml:7:21", "w.yaml:10:18"}; !slices.Equal(got, want) {
		t.Errorf("positions = %v, want %v\n%v", got, want, diags)
	}
}

// TestFileTooLargeHasAPosition: a problem with the whole file is at 1:1,
// like every other diagnostic.
func TestFileTooLargeHasAPosition(t *testing.T) {
	t.Parallel()
	_, diags := workflow.Parse("w.yaml", make([]byte, workflow.MaxFileSize+1))
	if len(diags) != 1 || diags[0].String() != "w.yaml:1:1: error: file larger than 1048576 bytes" {
		t.Errorf("diagnostics = %v", diags)
	}
}
