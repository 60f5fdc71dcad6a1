package e2e

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/followflow/followflow/backend"
	"github.com/followflow/followflow/internal/redistest"
	"github.com/followflow/followflow/store"
)

// binary is the followflow command built once for the process tests.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "followflow-e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "followflow")
	build := exec.Command("go", "build", "-o", binary, "../cmd/followflow")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building followflow:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// proc is a worker process.
type proc struct {
	cmd  *exec.Cmd
	log  *syncBuffer
	done chan error
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// Len returns the number of bytes written so far.
func (s *syncBuffer) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Len()
}

// From returns what was written from byte i on.
func (s *syncBuffer) From(i int) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return string(s.b.Bytes()[i:])
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startWorker starts `followflow run` as a process.
func startWorker(t *testing.T, o backend.Options, workflows, failpoint string) *proc {
	t.Helper()
	args := append([]string{"run", "--workflows", workflows, "--stale-interval", "-1s", "--consumers", "1", "--log-level", "debug"}, flags(o)...)
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), "FOLLOWFLOW_FAILPOINT="+failpoint)
	p := &proc{cmd: cmd, log: &syncBuffer{}, done: make(chan error, 1)}
	cmd.Stdout, cmd.Stderr = p.log, p.log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("worker %d log (tail):\n%s", cmd.Process.Pid, tail(p.log.String(), 3000))
		}
	})
	return p
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

// stop sends SIGTERM and expects a prompt, clean exit.
func (p *proc) stop(t *testing.T) {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		p.done <- err
		if err != nil {
			t.Errorf("worker exited with %v after SIGTERM", err)
		}
	case <-time.After(5 * time.Second):
		t.Errorf("worker did not stop within 5 s of SIGTERM")
	}
}

func processedCount(st store.Store, ids []string) int {
	n := 0
	for _, id := range ids {
		if ok, err := st.Processed(context.Background(), "acme", id); err == nil && ok {
			n++
		}
	}
	return n
}

func waitCount(t *testing.T, st store.Store, ids []string, n int, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for processedCount(st, ids) < n {
		if time.Now().After(deadline) {
			t.Fatalf("fewer than %d events processed after %v", n, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// seed loads tag data and pushes n tag events; it returns their ids.
func seed(t *testing.T, b *backend.Backend, n, opps int, seedNo uint64) []string {
	t.Helper()
	ctx := context.Background()
	if err := b.Store.Load(ctx, tagData(opps)); err != nil {
		t.Fatal(err)
	}
	evs, bodies := tagEvents(n, opps, seedNo)
	for i := 0; i < n; i += 100 {
		j := min(i+100, n)
		if err := b.Queue.Push(ctx, evs[i:j], bodies[i:j]); err != nil {
			t.Fatal(err)
		}
	}
	ids := make([]string, n)
	for i, ev := range evs {
		ids[i] = ev.ID
	}
	return ids
}

func checkFinal(t *testing.T, b *backend.Backend, n, opps int, seedNo uint64) {
	t.Helper()
	evs, _ := tagEvents(n, opps, seedNo)
	got, err := b.Store.Export(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	sameRecords(t, got, sequential(t, loadWorkflows(t, tagWorkflows), tagData(opps), evs))
	noDuplicateHistory(t, b.Store, got)
}

// TestCrashAfterCommitBeforeAck: a worker killed with SIGKILL right after a
// commit and before its acknowledgement; another worker finishes; every
// event is applied exactly once and nothing is lost.
//
// On Redis the acknowledgement comes after the commit, so the messages of
// the events committed last are still queued after the crash, and the next
// worker sees them as duplicates. The embedded queue acknowledges a message
// in the transaction that commits its event (queue.CommitAcker), so there
// the crash falls after both: the test checks that every committed event's
// message is gone from the queue, and that the next worker sees no
// duplicate.
func TestCrashAfterCommitBeforeAck(t *testing.T) {
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			t.Parallel()
			const n, opps = 600, 20
			o := k.options(t)
			b := open(t, o)
			ids := seed(t, b, n, opps, 11)
			wf := writeFile(t, "wf.yaml", tagWorkflows)
			a := startWorker(t, o, wf, "crash-after-commit:150")
			select {
			case err := <-a.done:
				var ee *exec.ExitError
				if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
					t.Fatalf("worker A ended with %v, want killed by SIGKILL", err)
				}
				a.done <- err
			case <-time.After(60 * time.Second):
				t.Fatal("worker A did not reach its crash failpoint")
			}
			got := processedCount(b.Store, ids)
			if got < 150 || got == n {
				t.Fatalf("after the crash %d events were processed, want 150..%d", got, n-1)
			}
			inCommit := k.name == "sqlite"
			if inCommit {
				if lag := queueLag(t, b); lag != n-got {
					t.Errorf("after the crash %d events were processed and %d messages are queued, want %d", got, lag, n-got)
				}
			}
			w := startWorker(t, o, wf, "")
			waitProcessed(t, b.Store, "acme", ids, 60*time.Second)
			w.stop(t)
			checkFinal(t, b, n, opps, 11)
			dup := strings.Contains(w.log.String(), `"duplicate":true`)
			switch {
			case inCommit && dup:
				t.Errorf("worker B saw a duplicate: a message of an event A committed was left in the queue")
			case !inCommit && !dup:
				t.Errorf("worker B never saw the event A committed but did not acknowledge")
			}
		})
	}
}

// queueState describes the queue's partitions that hold messages, for a
// failure message: lag and lease holder of each.
func queueState(b *backend.Backend) func() string {
	return func() string {
		stats, err := b.Queue.Stats(context.Background())
		if err != nil {
			return "queue state: " + err.Error()
		}
		var out strings.Builder
		out.WriteString("queue state (partition: lag, owner):")
		for _, s := range stats {
			if s.Lag > 0 || s.Owner != "" {
				fmt.Fprintf(&out, " %d: %d, %q;", s.Partition, s.Lag, s.Owner)
			}
		}
		return out.String()
	}
}

// queueLag returns the number of messages in the queue.
func queueLag(t *testing.T, b *backend.Backend) int {
	t.Helper()
	stats, err := b.Queue.Stats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, s := range stats {
		n += int(s.Lag)
	}
	return n
}

// TestFencingAfterStop: a worker stopped with SIGSTOP past its lease loses
// its partitions to another worker; once resumed, its late commit is
// refused; no event is applied twice and per-record order holds.
func TestFencingAfterStop(t *testing.T) {
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			t.Parallel()
			const n, opps = 1500, 20
			o := k.options(t)
			b := open(t, o)
			ids := seed(t, b, n, opps, 12)
			wf := writeFile(t, "wf.yaml", tagWorkflows)
			// A is stopped while it holds a batch it fetched and has not
			// committed: A sleeps after each fetch and logs when it starts
			// to, and the test stops it then. Resumed, A commits that batch
			// under the lease it lost: the commit must be refused.
			a := startWorker(t, o, wf, "delay-after-fetch:500ms")
			waitCount(t, b.Store, ids, 100, 30*time.Second)
			waitLog(t, a, a.log.Len(), "failpoint delay-after-fetch", 30*time.Second)
			stopOutsideWrite(t, a, o)
			stoppedAt := processedCount(b.Store, ids)
			// Past A's lease (1 s), B takes its partitions over.
			w := startWorker(t, o, wf, "delay-after-commit:4ms")
			waitCount(t, b.Store, ids, stoppedAt+200, 30*time.Second)
			resumed := a.log.Len()
			a.cmd.Process.Signal(syscall.SIGCONT)
			waitLog(t, a, resumed, "lease lost", 30*time.Second)
			waitProcessed(t, b.Store, "acme", ids, 90*time.Second, queueState(b))
			a.stop(t)
			w.stop(t)
			checkFinal(t, b, n, opps, 12)
		})
	}
}

// waitLog waits until the worker's log, from byte from on, says what.
func waitLog(t *testing.T, p *proc, from int, what string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !strings.Contains(p.log.From(from), what) {
		if time.Now().After(deadline) {
			t.Fatalf("worker %d did not log %q within %v", p.cmd.Process.Pid, what, timeout)
		}
		time.Sleep(time.Millisecond)
	}
}

// stopOutsideWrite stops the worker with SIGSTOP. On SQLite it makes sure
// the worker is not stopped inside a write transaction: SQLite's own file
// lock would then stop every other writer too, which is not the lease
// scenario under test (and the reason a stopped SQLite writer stalls a
// deployment until it resumes or dies).
func stopOutsideWrite(t *testing.T, p *proc, o backend.Options) {
	t.Helper()
	if o.RedisURL != "" {
		p.cmd.Process.Signal(syscall.SIGSTOP)
		return
	}
	db, err := sql.Open("sqlite", "file:"+o.DBPath+"?_pragma=busy_timeout(200)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for try := 0; try < 100; try++ {
		p.cmd.Process.Signal(syscall.SIGSTOP)
		conn, err := db.Conn(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		_, err = conn.ExecContext(context.Background(), "BEGIN IMMEDIATE")
		if err == nil {
			conn.ExecContext(context.Background(), "ROLLBACK")
			conn.Close()
			return
		}
		conn.Close()
		p.cmd.Process.Signal(syscall.SIGCONT)
		time.Sleep(time.Duration(5+try) * time.Millisecond)
	}
	t.Fatal("could not stop the worker outside a write transaction")
}

// TestRedisRestartMidStream: Redis (AOF everysec) restarts while workers
// are busy; they reconnect and finish; nothing is lost or applied twice.
func TestRedisRestartMidStream(t *testing.T) {
	t.Parallel()
	const n, opps = 1500, 20
	srv := redistest.Start(t, redistest.WithAOF())
	o := backend.Options{RedisURL: "redis://" + srv.Addr(), Prefix: "followflow", LeaseTTL: time.Second}
	b := open(t, o)
	ids := seed(t, b, n, opps, 13)
	wf := writeFile(t, "wf.yaml", tagWorkflows)
	w1 := startWorker(t, o, wf, "delay-after-commit:2ms")
	w2 := startWorker(t, o, wf, "delay-after-commit:2ms")
	waitCount(t, b.Store, ids, 200, 30*time.Second)
	srv.Stop()
	time.Sleep(500 * time.Millisecond)
	srv.Restart()
	waitProcessed(t, b.Store, "acme", ids, 90*time.Second, queueState(b))
	w1.stop(t)
	w2.stop(t)
	checkFinal(t, b, n, opps, 13)
}
