package bench

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/followflow/followflow/engine"
	"github.com/followflow/followflow/event"
	"github.com/followflow/followflow/worker"
)

// recorder keeps, per generated event, when it was pushed and when it was
// applied (committed by the engine, or acknowledged by a baseline), as
// nanoseconds since base plus one (0: not yet).
type recorder struct {
	base    time.Time
	pushed  []atomic.Int64
	applied []atomic.Int64
	// sent counts events pushed; done counts events applied or
	// dead-lettered, and complete is closed when it reaches len(applied).
	sent     atomic.Int64
	done     atomic.Int64
	dead     atomic.Int64
	failed   atomic.Int64
	complete chan struct{}
	once     sync.Once
}

var _ worker.Metrics = (*recorder)(nil)

func newRecorder(n int) *recorder {
	return &recorder{
		base: time.Now(), pushed: make([]atomic.Int64, n), applied: make([]atomic.Int64, n),
		complete: make(chan struct{}),
	}
}

// now returns the time since base, plus one so that it is never 0.
func (r *recorder) now() int64 { return int64(time.Since(r.base)) + 1 }

// push records that events lo to hi-1 are pushed now.
func (r *recorder) push(lo, hi int) {
	now := r.now()
	for i := lo; i < hi; i++ {
		r.pushed[i].Store(now)
	}
	r.sent.Add(int64(hi - lo))
}

// apply records that event i was applied at now; the first time only.
func (r *recorder) apply(i int, now int64) {
	if i < 0 || i >= len(r.applied) {
		return
	}
	if r.applied[i].CompareAndSwap(0, now) {
		r.finishOne()
	}
}

func (r *recorder) finishOne() {
	if r.done.Add(1) >= int64(len(r.applied)) {
		r.once.Do(func() { close(r.complete) })
	}
}

// onCommit is the engine's Config.OnCommit.
func (r *recorder) onCommit(eventID string) {
	if i, ok := eventIndex(eventID); ok {
		r.apply(i, r.now())
	}
}

// Processed implements worker.Metrics; commits are counted by onCommit.
func (r *recorder) Processed(*event.Event, engine.Result, time.Duration) {}

// Failed implements worker.Metrics.
func (r *recorder) Failed(string) { r.failed.Add(1) }

// DeadLettered implements worker.Metrics: a dead letter will never be
// applied, so it counts as done.
func (r *recorder) DeadLettered(string) {
	r.dead.Add(1)
	r.finishOne()
}

// result computes what the recorder saw: the number applied, the wall time
// from the first push to the last event applied, and the latencies.
func (r *recorder) result() (applied int, wall time.Duration, lat Latency) {
	var first, last int64
	samples := make([]time.Duration, 0, len(r.applied))
	for i := range r.applied {
		p, a := r.pushed[i].Load(), r.applied[i].Load()
		if p != 0 && (first == 0 || p < first) {
			first = p
		}
		if a == 0 {
			continue
		}
		applied++
		last = max(last, a)
		if p != 0 {
			samples = append(samples, time.Duration(a-p))
		}
	}
	if first != 0 && last > first {
		wall = time.Duration(last - first)
	}
	return applied, wall, Summarize(samples)
}
