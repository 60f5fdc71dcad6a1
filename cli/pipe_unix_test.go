//go:build unix

package cli_test

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestSimulateEventsFromAPipe: events read from a pipe, which cannot be
// read twice, are simulated all the same (kept in memory), and a bad line
// still refuses them all.
func TestSimulateEventsFromAPipe(t *testing.T) {
	t.Parallel()
	want, _, code := run(t, examplesArgs("--format", "json")...)
	if code != 0 {
		t.Fatalf("simulate of the examples' file: exit %d", code)
	}
	events, err := os.ReadFile("../examples/events.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, content, wantOut string
		wantCode               int
	}{
		{"examples", string(events), want, 0},
		{"bad line", string(events) + "not json\n", "", 1},
	} {
		fifo := filepath.Join(t.TempDir(), "events")
		if err := syscall.Mkfifo(fifo, 0o600); err != nil {
			t.Fatal(err)
		}
		go func() {
			f, err := os.OpenFile(fifo, os.O_WRONLY, 0)
			if err != nil {
				t.Error(err)
				return
			}
			defer f.Close()
			f.WriteString(tc.content)
		}()
		stdout, stderr, code := run(t, "simulate", "--workflows", "../examples/workflows", "--data", "../examples/data.yaml",
			"--events", fifo, "--format", "json")
		if code != tc.wantCode || stdout != tc.wantOut {
			t.Errorf("%s: exit %d (want %d), stdout differs: %v; stderr:\n%s", tc.name, code, tc.wantCode, stdout != tc.wantOut, stderr)
		}
	}
}
