package sqlite

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"testing"

	"github.com/followflow/followflow/record"
	"github.com/followflow/followflow/store"
)

// The environment of a child process of TestProcessesShareTheFile.
const (
	envChildDB = "FOLLOWFLOW_SQLITE_TEST_CHILD_DB"
	envChildID = "FOLLOWFLOW_SQLITE_TEST_CHILD_ID"
)

const childCommits = 100

// TestProcessesShareTheFile runs workers in processes of their own (this
// test binary again) on one file, as `followflow run` workers do: each
// commits events on a record of its own and on one shared record, retrying
// on conflict. None may fail with SQLITE_BUSY, and no update may be lost.
func TestProcessesShareTheFile(t *testing.T) {
	if path := os.Getenv(envChildDB); path != "" {
		childWorker(t, path, os.Getenv(envChildID))
		return
	}
	if testing.Short() {
		t.Skip("starts processes")
	}
	ctx := context.Background()
	s, path := setup(t)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	const children = 3
	cmds := make([]*exec.Cmd, children)
	outs := make([]bytes.Buffer, children)
	for i := range cmds {
		cmd := exec.Command(exe, "-test.run=^TestProcessesShareTheFile$", "-test.count=1")
		cmd.Env = append(os.Environ(), envChildDB+"="+path, envChildID+"="+strconv.Itoa(i))
		cmd.Stdout, cmd.Stderr = &outs[i], &outs[i]
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds[i] = cmd
	}
	// This process writes too, through the Store it holds.
	childWorker(t, path, "parent")
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Errorf("child %d: %v\n%s", i, err, outs[i].String())
		}
	}
	o, err := s.Opportunity(ctx, "acme", "opp_1")
	if err != nil {
		t.Fatal(err)
	}
	if want := 1 + (children+1)*childCommits; len(o.Tags) != want {
		t.Errorf("shared record has %d tags, want %d", len(o.Tags), want)
	}
	for _, id := range []string{"0", "1", "2", "parent"} {
		o, err := s.Opportunity(ctx, "acme", "own-"+id)
		if err != nil || o.Version != childCommits {
			t.Errorf("record of worker %s: version %d, %v; want %d", id, o.Version, err, childCommits)
		}
	}
}

// childWorker commits childCommits events on its own record and as many
// on opp_1.
func childWorker(t *testing.T, path, id string) {
	ctx := context.Background()
	s := open(t, path)
	own := record.Opportunity{ID: "own-" + id, AccountID: "acme", Status: record.StatusOpen, CreatedAt: t0}
	for i := range childCommits {
		if err := s.Commit(ctx, update(fmt.Sprintf("%s-own-%d", id, i), own, strconv.Itoa(i))); err != nil {
			t.Fatalf("worker %s: commit %d on its own record: %v", id, i, err)
		}
		own.Version++
		for attempt := 0; ; attempt++ {
			o, err := s.Opportunity(ctx, "acme", "opp_1")
			if err != nil {
				t.Fatal(err)
			}
			o.Tags = append(o.Tags, fmt.Sprintf("%s-%d", id, i))
			err = s.Commit(ctx, &store.Changeset{AccountID: "acme", EventID: fmt.Sprintf("%s-shared-%d", id, i), Opportunities: []record.Opportunity{o}})
			if errors.Is(err, store.ErrConflict) && attempt < 1000 {
				continue
			}
			if err != nil {
				t.Fatalf("worker %s: commit %d on the shared record: %v", id, i, err)
			}
			break
		}
	}
}
