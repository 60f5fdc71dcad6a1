package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/followflow/followflow/cli"
	"github.com/followflow/followflow/record"
)

var update = flag.Bool("update", false, "rewrite golden files")

// run runs the command line in process and returns stdout, stderr and the
// exit code.
func run(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := cli.Main(context.Background(), args, &stdout, &stderr, func(string) string { return "" })
	return stdout.String(), stderr.String(), code
}

func examplesArgs(extra ...string) []string {
	return append([]string{"simulate",
		"--workflows", "../examples/workflows",
		"--data", "../examples/data.yaml",
		"--events", "../examples/events.jsonl"}, extra...)
}

func TestExamplesSimulationMatchesGolden(t *testing.T) {
	t.Parallel()
	stdout, stderr, code := run(t, examplesArgs("--format", "json")...)
	if code != 0 {
		t.Fatalf("simulate exit %d: %s", code, stderr)
	}
	golden := filepath.Join("..", "examples", "simulation.golden.jsonl")
	if *update {
		if err := os.WriteFile(golden, []byte(stdout), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run `make golden` to create it)", err)
	}
	if stdout != string(want) {
		t.Errorf("simulation differs from %s (run `make golden` and review the diff):\n%s", golden, stdout)
	}
}

// TestExamplesFollowerChanges pins, per use case of the examples, the
// follower changes it must make.
func TestExamplesFollowerChanges(t *testing.T) {
	t.Parallel()
	state := filepath.Join(t.TempDir(), "state.yaml")
	_, stderr, code := run(t, examplesArgs("--state-out", state)...)
	if code != 0 {
		t.Fatalf("simulate exit %d: %s", code, stderr)
	}
	f, err := os.Open(state)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ds, err := record.ReadDataFile(state, f)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, o := range ds.Opportunities {
		got[o.ID] = strings.Join(o.Followers, ",")
	}
	want := map[string]string{
		// 1: high value on creation -> manager and senior AE (by email);
		// 2: Contract Sent -> legal (by email) and onboarding;
		// 4: specialist added on tag, removed when the tag goes;
		// 5: VIP contact -> account manager on the contact's newest deal.
		"opp_9": "u_mgr,u_sae,u_legal,u_onb,u_am",
		// 3: owner inactive 14+ days -> team lead.
		"opp_1": "u_sae,u_lead",
		// Below the value threshold, not in Contract Sent, owner active.
		"opp_10": "",
		"opp_2":  "",
	}
	for id, w := range want {
		if got[id] != w {
			t.Errorf("followers of %s = [%s], want [%s]", id, got[id], w)
		}
	}
}

func TestExamplesValidate(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("../examples/workflows/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no example workflows: %v", err)
	}
	for _, f := range files {
		stdout, _, code := run(t, "validate", f, "--data", "../examples/data.yaml")
		if code != 0 {
			t.Errorf("validate %s: exit %d\n%s", f, code, stdout)
		}
		if strings.Contains(stdout, ": error:") {
			t.Errorf("validate %s reported errors:\n%s", f, stdout)
		}
	}
	// The contact workflow without find_opportunity is the one warning.
	stdout, _, _ := run(t, "validate", "../examples/workflows", "--data", "../examples/data.yaml")
	if n := strings.Count(stdout, ": warning:"); n != 1 || !strings.Contains(stdout, "contact-vip.yaml:26:5: warning: add_followers has no opportunity in context") {
		t.Errorf("want exactly the no-opportunity warning at contact-vip.yaml:26:5, got %d warning(s):\n%s", n, stdout)
	}
}

func TestValidateReportsEveryProblemWithPosition(t *testing.T) {
	t.Parallel()
	stdout, _, code := run(t, "validate", "testdata/bad/bad.yaml", "testdata/bad/dup.yaml", "--data", "../examples/data.yaml")
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s", code, stdout)
	}
	want := []string{
		`testdata/bad/bad.yaml:4:1: error: acount_id: unknown key "acount_id" (did you mean "account_id"?)`,
		`testdata/bad/bad.yaml:6:9: error: trigger.type: unknown trigger type "opportunity.creatd" (did you mean "opportunity.created"?)`,
		"testdata/bad/bad.yaml:8:28: error: steps[0].condition: expression: opportunity has no field valu\n | opportunity.valu > 15000\n | ............^\n",
		`testdata/bad/bad.yaml:9:5: error: steps[1].add_follower: unknown step kind "add_follower" (did you mean "add_followers"?)`,
		`testdata/bad/bad.yaml:13:7: error: steps[2].add_followers.name: duplicate key "name" (first at line 12)`,
		`testdata/bad/bad.yaml:19:3: error: trigger.tag: required for opportunity.tag_applied`,
		`testdata/bad/bad.yaml:22:14: error: steps[0].add_followers.users: 11 users listed; at most 10 per action`,
		`testdata/bad/bad.yaml:27:3: error: trigger.days: required for opportunity.stale`,
		"testdata/bad/bad.yaml:29:9: error: steps[0].if: expression: expected bool, but got float64\n | opportunity.value\n | ^^^^^^^^^^^^^^^^^\n",
		`testdata/bad/bad.yaml:37:28: error: YAML aliases (*users) are not allowed in workflows`,
		`testdata/bad/dup.yaml:1:1: error: id: duplicate workflow id "same" in account "acme" (first at testdata/bad/bad.yaml:39:1)`,
		`testdata/bad/dup.yaml:13:15: warning: steps[0].add_followers.users[0]: user "nobody" not found in account "acme": it will be unknown_user`,
	}
	for _, w := range want {
		if !strings.Contains(stdout, w) {
			t.Errorf("missing diagnostic:\n  %s", w)
		}
	}
	if t.Failed() {
		t.Logf("output:\n%s", stdout)
	}
}

// TestValidateFileErrorsHavePositions: a problem with a whole file (too
// large, not there) is at 1:1 like every other diagnostic, in text and in
// JSON; it was printed as "FILE: error: ..." with line and column 0.
func TestValidateFileErrorsHavePositions(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, bytes.Repeat([]byte("#\n"), 1<<19+1), 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.yaml")
	stdout, _, code := run(t, "validate", big, missing)
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s", code, stdout)
	}
	for _, w := range []string{
		big + ":1:1: error: file larger than 1048576 bytes\n",
		missing + ":1:1: error: reading workflows: stat " + missing + ": no such file or directory\n",
	} {
		if !strings.Contains(stdout, w) {
			t.Errorf("missing %q in:\n%s", w, stdout)
		}
	}
	stdout, _, code = run(t, "validate", "--format", "json", big)
	want := `{"pos":{"file":"` + big + `","line":1,"column":1},"severity":"error","message":"file larger than 1048576 bytes"}` + "\n"
	if code != 1 || stdout != want {
		t.Errorf("exit %d, output:\n%s\nwant:\n%s", code, stdout, want)
	}
}

func TestValidateWarningsExitZero(t *testing.T) {
	t.Parallel()
	stdout, _, code := run(t, "validate", "testdata/bad/warn.yaml", "--data", "../examples/data.yaml")
	if code != 0 {
		t.Fatalf("exit %d, want 0\n%s", code, stdout)
	}
	for _, w := range []string{
		"warn.yaml:7:5: warning: add_followers has no opportunity in context",
		"warn.yaml:8:15: warning: steps[0].add_followers.users[0]: user \"ghost@acme.test\" not found",
		"warn.yaml:8:32: warning: steps[0].add_followers.users[1]: user \"u_gone\" is inactive",
	} {
		if !strings.Contains(stdout, w) {
			t.Errorf("missing %q in:\n%s", w, stdout)
		}
	}
}

func TestSimulateRejectsBadEventsWithLineNumbers(t *testing.T) {
	t.Parallel()
	events := filepath.Join(t.TempDir(), "events.jsonl")
	os.WriteFile(events, []byte(`{"id":"ok","type":"opportunity.created","account_id":"acme","occurred_at":"2026-11-03T10:00:00Z","opportunity_id":"o"}
{"id":"x","type":"opportunity.stage_changed","account_id":"acme","opportunity_id":"o"}
not json
{"id":"y","type":"opportunity.teleported","account_id":"acme"}
`), 0o644)
	stdout, stderr, code := run(t, "simulate", "--workflows", "../examples/workflows", "--data", "../examples/data.yaml", "--events", events)
	if code != 1 || stdout != "" {
		t.Fatalf("exit %d, stdout %q; want 1 and nothing simulated", code, stdout)
	}
	for _, w := range []string{":2: invalid event: data.to_stage: required for opportunity.stage_changed", ":3: invalid event: not a JSON object", `:4: invalid event: type: unknown event type "opportunity.teleported"`} {
		if !strings.Contains(stderr, w) {
			t.Errorf("missing %q in:\n%s", w, stderr)
		}
	}
}

// TestCommandLineMistakesExitTwo: SPEC §6 and the README: 2 when the
// command line itself is wrong, whoever notices it (cobra or a command).
func TestCommandLineMistakesExitTwo(t *testing.T) {
	for _, args := range [][]string{
		{"nosuch"},
		{"validate"},
		{"validate", "--bogus", "x.yaml"},
		{"simulate", "--workflows", "w", "--data", "d"},
		{"simulate", "--workflows", "w", "--data", "d", "--events", "e", "extra"},
		{"simulate", "--workflows", "w", "--data", "d", "--events", "e", "--format", "xml"},
		{"followers", "add", "--opportunity", "o", "--user", "u"},
		{"history", "--opportunity", "o", "--contact", "c"},
	} {
		_, stderr, code := run(t, args...)
		if code != 2 || !strings.Contains(stderr, "followflow: ") {
			t.Errorf("followflow %s: exit %d, stderr %q; want exit 2 and a message", strings.Join(args, " "), code, stderr)
		}
	}
	// A failure once the command line is right is 1.
	if _, _, code := run(t, "simulate", "--workflows", "../examples/workflows", "--data", "../examples/data.yaml", "--events", "testdata/no-such-file.jsonl"); code != 1 {
		t.Errorf("simulate with a missing events file: exit %d, want 1", code)
	}
}

// TestLoadRecordsFollowerChanges: SPEC §1 rule 6 holds on import too:
// load writes to history the followers it adds and removes, and nothing
// when it changes none.
func TestLoadRecordsFollowerChanges(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "t.db")
	data, err := os.ReadFile("../examples/data.yaml")
	if err != nil {
		t.Fatal(err)
	}
	changed := filepath.Join(dir, "changed.yaml")
	if err := os.WriteFile(changed, bytes.Replace(data, []byte("followers: [u_sae]"), []byte("followers: [u_mgr, u_lead]"), 1), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, step := range []struct{ file, want string }{
		{"../examples/data.yaml", "1 follower change(s) in history"},
		{"../examples/data.yaml", "0 follower change(s) in history"},
		{changed, "3 follower change(s) in history"},
	} {
		out, errOut, code := run(t, "load", "--db", db, step.file)
		if code != 0 || !strings.Contains(out, step.want) {
			t.Fatalf("load %s = %d: %s%s, want %q", step.file, code, out, errOut, step.want)
		}
	}
	out, _, code := run(t, "history", "--db", db, "--account", "acme", "--opportunity", "opp_1", "--format", "json")
	if code != 0 {
		t.Fatalf("history = %d", code)
	}
	var got []string
	for line := range strings.Lines(out) {
		var h record.HistoryEntry
		if err := json.Unmarshal([]byte(line), &h); err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%s %s %s", h.Step, h.Outcome, h.UserID))
	}
	want := []string{"load added u_sae", "load removed u_sae", "load added u_mgr", "load added u_lead"}
	if !slices.Equal(got, want) {
		t.Errorf("history = %q, want %q", got, want)
	}
}
