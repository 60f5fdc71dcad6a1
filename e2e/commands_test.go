package e2e

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestPushRefusesBadInputWhole: one bad line anywhere and nothing is pushed.
func TestPushRefusesBadInputWhole(t *testing.T) {
	t.Parallel()
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			t.Parallel()
			o := k.options(t)
			ctx := context.Background()
			events := writeFile(t, "events.jsonl", `{"id":"a","type":"opportunity.created","account_id":"acme","opportunity_id":"o1"}
{"id":"b","type":"opportunity.stage_changed","account_id":"acme","opportunity_id":"o1","data":{}}
`)
			out, errOut, code := ff(t, ctx, append([]string{"push", events}, flags(o)...)...)
			if code != 1 || !strings.Contains(errOut, ":2: invalid event: data.to_stage: required") || !strings.Contains(errOut, "nothing pushed") {
				t.Fatalf("push = %d\n%s%s", code, out, errOut)
			}
			b := open(t, o)
			stats, err := b.Queue.Stats(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range stats {
				if s.Lag != 0 {
					t.Errorf("partition %d has %d messages after a refused push", s.Partition, s.Lag)
				}
			}
		})
	}
}

// TestFollowersCommandsFollowAccessRules: a restricted user who neither
// owns nor follows the record is refused with the reason; the owner may;
// the change is in the history with the actor.
func TestFollowersCommandsFollowAccessRules(t *testing.T) {
	t.Parallel()
	o := kinds[0].options(t)
	ctx := context.Background()
	bf := flags(o)
	if _, e, code := ff(t, ctx, append([]string{"load", "../examples/data.yaml"}, bf...)...); code != 0 {
		t.Fatal(e)
	}
	_, errOut, code := ff(t, ctx, append([]string{"followers", "add", "--account", "acme", "--opportunity", "opp_1", "--user", "u_legal", "--as", "u_spec"}, bf...)...)
	if code != 1 || !strings.Contains(errOut, "refused: u_spec may not manage followers of opportunity opp_1") {
		t.Errorf("add as a stranger = %d: %s", code, errOut)
	}
	out, errOut, code := ff(t, ctx, append([]string{"followers", "add", "--account", "acme", "--opportunity", "opp_1", "--user", "legal@ACME.test", "--user", "u_gone", "--as", "u_rep"}, bf...)...)
	if code != 0 || !strings.Contains(out, "+u_legal") || !strings.Contains(out, "!u_gone inactive") {
		t.Errorf("add as the owner = %d: %s%s", code, out, errOut)
	}
	out, _, _ = ff(t, ctx, append([]string{"history", "--account", "acme", "--opportunity", "opp_1"}, bf...)...)
	if !strings.Contains(out, "user u_rep") || !strings.Contains(out, "u_legal") || !strings.Contains(out, "inactive_user") {
		t.Errorf("history:\n%s", out)
	}
	out, _, code = ff(t, ctx, append([]string{"followers", "remove", "--account", "acme", "--opportunity", "opp_1", "--user", "u_legal", "--as", "u_mgr"}, bf...)...)
	if code != 0 || !strings.Contains(out, "-u_legal") {
		t.Errorf("remove as an admin = %d: %s", code, out)
	}
}

// TestWorkerReloadsOnHUPAndServesMetrics: a bad workflow file on SIGHUP is
// refused and the running set kept; a good one is taken; /healthz and
// /metrics answer; SIGTERM stops the worker promptly.
func TestWorkerReloadsOnHUPAndServesMetrics(t *testing.T) {
	t.Parallel()
	o := kinds[0].options(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	wf := writeFile(t, "wf.yaml", tagWorkflows)
	args := append([]string{"run", "--workflows", wf, "--http-addr", addr, "--stale-interval", "-1s"}, flags(o)...)
	cmd := exec.Command(binary, args...)
	log := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	defer cmd.Process.Kill()
	waitLog := func(what string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for !strings.Contains(log.String(), what) {
			if time.Now().After(deadline) {
				t.Fatalf("no %q in the worker's log:\n%s", what, log.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitLog("worker started")
	os.WriteFile(wf, []byte("id: broken\naccount_id: acme\ntrigger: {type: opportunity.creatd}\nsteps: []\n"), 0o644)
	cmd.Process.Signal(syscall.SIGHUP)
	waitLog("keeping the running set")
	os.WriteFile(wf, []byte(tagWorkflows+"---\nid: extra\naccount_id: acme\ntrigger: {type: opportunity.created}\nsteps: [{add_followers: {users: [u_a]}}]\n"), 0o644)
	cmd.Process.Signal(syscall.SIGHUP)
	waitLog(`"workflows":7,"time"`)
	waitLog("workflows reloaded")
	for _, path := range []string{"/healthz", "/metrics"} {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		out, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %s", path, resp.Status)
		}
		if path == "/metrics" && !strings.Contains(string(out), "followflow_queue_lag{partition=\"0\"} 0") {
			t.Errorf("/metrics lacks the queue lag:\n%.2000s", out)
		}
	}
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("worker exited with %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the worker did not stop within 5 s of SIGTERM")
	}
}

// TestPushReadsInChunks: a file of more events than one push carries is
// pushed whole, also from a pipe (copied aside to be
// read twice); a bad last line refuses it all.
func TestPushReadsInChunks(t *testing.T) {
	t.Parallel()
	const n = 1201 // two pushes of 500 and one of 201
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, `{"id":"e%d","type":"opportunity.activity","account_id":"acme","occurred_at":"2026-11-03T10:00:00Z","opportunity_id":"o%d","actor_id":"u_rep"}`+"\n", i, i%7)
	}
	good := b.String()
	for _, tc := range []struct {
		name, content string
		pipe          bool
		code          int
		lag           int
	}{
		{"file", good, false, 0, n},
		{"pipe", good, true, 0, n},
		{"bad last line", good + "{}\n", false, 1, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			o := kinds[0].options(t)
			ctx := context.Background()
			events := writeFile(t, "events.jsonl", tc.content)
			if tc.pipe {
				events = filepath.Join(t.TempDir(), "pipe")
				if err := syscall.Mkfifo(events, 0o600); err != nil {
					t.Fatal(err)
				}
				go func() {
					f, err := os.OpenFile(events, os.O_WRONLY, 0)
					if err != nil {
						t.Error(err)
						return
					}
					defer f.Close()
					io.WriteString(f, tc.content)
				}()
			}
			out, errOut, code := ff(t, ctx, append([]string{"push", events}, flags(o)...)...)
			if code != tc.code {
				t.Fatalf("push = %d\n%s%s", code, out, errOut)
			}
			if tc.code == 0 && !strings.Contains(out, fmt.Sprintf("pushed %d event(s)", n)) {
				t.Errorf("push said %q", out)
			}
			stats, err := open(t, o).Queue.Stats(ctx)
			if err != nil {
				t.Fatal(err)
			}
			lag := 0
			for _, s := range stats {
				lag += int(s.Lag)
			}
			if lag != tc.lag {
				t.Errorf("%d messages queued, want %d", lag, tc.lag)
			}
		})
	}
}
