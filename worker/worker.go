package worker

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/rs/zerolog"

	"github.com/followflow/followflow/engine"
	"github.com/followflow/followflow/event"
	"github.com/followflow/followflow/queue"
	"github.com/followflow/followflow/store"
)

// Config configures a Worker.
type Config struct {
	// Engine processes events. Required.
	Engine *engine.Engine
	// Queue is consumed. Required.
	Queue queue.Queue
	// ID names this worker in leases and logs. Default: a random UUID.
	ID string
	// Consumers is the number of independent consumers (each holds its own
	// partitions and processes them one message at a time). Default 2.
	Consumers int
	// BatchSize is the most messages read at once. Default 100.
	BatchSize int
	// Block is how long a fetch waits for messages. Default 1s.
	Block time.Duration
	// MaxDeliveries is how many times a message is tried before it goes to
	// the dead letters. Default 5.
	MaxDeliveries int
	// RetryBackoff is the first wait before retrying a transient failure;
	// it doubles up to MaxRetryBackoff. Defaults 50ms and 2s.
	RetryBackoff, MaxRetryBackoff time.Duration
	// StaleInterval is how often the stale scanner runs; 0 uses the default
	// of 1 minute, a negative value disables it.
	StaleInterval time.Duration
	// Clock gives the scanner's now. Default time.Now.
	Clock func() time.Time
	// Logger receives the worker's logs. Default: disabled.
	Logger zerolog.Logger
	// Metrics, when set, is told about each processed message.
	Metrics Metrics
	// AfterCommit, when set, runs after each commit and before its
	// acknowledgement: a failpoint for crash tests. With a queue that
	// acknowledges in the commit's transaction (queue.CommitAcker), the
	// acknowledgement of a committed event is already made by then.
	AfterCommit func(ev *event.Event)
	// AfterFetch, when set, runs after each fetch that returned messages,
	// before they are processed: a failpoint for fencing tests.
	AfterFetch func()
}

// Metrics receives what the worker does. Implementations must be safe for
// concurrent use.
type Metrics interface {
	Processed(ev *event.Event, res engine.Result, took time.Duration)
	Failed(reason string)
	DeadLettered(reason string)
}

// WithDefaults fills in defaults.
func (c Config) WithDefaults() Config {
	if c.ID == "" {
		c.ID = uuid.NewString()
	}
	if c.Consumers == 0 {
		c.Consumers = 2
	}
	if c.BatchSize == 0 {
		c.BatchSize = 100
	}
	if c.Block == 0 {
		c.Block = time.Second
	}
	if c.MaxDeliveries == 0 {
		c.MaxDeliveries = 5
	}
	if c.RetryBackoff == 0 {
		c.RetryBackoff = 50 * time.Millisecond
	}
	if c.MaxRetryBackoff == 0 {
		c.MaxRetryBackoff = 2 * time.Second
	}
	if c.StaleInterval == 0 {
		c.StaleInterval = time.Minute
	}
	if c.Clock == nil {
		c.Clock = time.Now
	}
	return c
}

// Validate names the first bad field.
func (c Config) Validate() error {
	switch {
	case c.Engine == nil:
		return errors.New("worker config: Engine is required")
	case c.Queue == nil:
		return errors.New("worker config: Queue is required")
	case c.Consumers < 1:
		return errors.New("worker config: Consumers must be at least 1")
	case c.BatchSize < 1:
		return errors.New("worker config: BatchSize must be at least 1")
	case c.MaxDeliveries < 1:
		return errors.New("worker config: MaxDeliveries must be at least 1")
	}
	return nil
}

// Worker consumes the queue until its context is cancelled.
type Worker struct {
	cfg Config
	log zerolog.Logger
}

// New returns a worker.
func New(cfg Config) (*Worker, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Worker{cfg: cfg, log: cfg.Logger.With().Str("worker_id", cfg.ID).Logger()}, nil
}

// Run consumes until ctx is cancelled, then returns after the in-flight
// messages are committed or handed back unacknowledged, and the leases are
// released.
func (w *Worker) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	errs := make(chan error, w.cfg.Consumers+1)
	for i := range w.cfg.Consumers {
		id := fmt.Sprintf("%s-%d", w.cfg.ID, i)
		c, err := w.cfg.Queue.Consumer(ctx, id)
		if err != nil {
			return fmt.Errorf("starting consumer %s: %w", id, err)
		}
		wg.Go(func() {
			if err := w.consume(ctx, c, id); err != nil {
				errs <- err
			}
		})
	}
	if w.cfg.StaleInterval > 0 {
		wg.Go(func() { w.scanLoop(ctx) })
	}
	w.log.Info().Int("consumers", w.cfg.Consumers).Msg("worker started")
	wg.Wait()
	close(errs)
	w.log.Info().Msg("worker stopped")
	return <-errs
}

func (w *Worker) consume(ctx context.Context, c queue.Consumer, id string) error {
	log := w.log.With().Str("consumer", id).Logger()
	defer func() {
		// Hand leases back even though ctx is done.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		if err := c.Close(cctx); err != nil {
			log.Warn().Err(err).Msg("releasing leases")
		}
	}()
	backoff := w.cfg.RetryBackoff
	for ctx.Err() == nil {
		b, err := c.Fetch(ctx, w.cfg.BatchSize, w.cfg.Block)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			log.Warn().Err(err).Dur("retry_in", backoff).Msg("fetching from the queue failed")
			sleep(ctx, backoff)
			backoff = min(2*backoff, w.cfg.MaxRetryBackoff)
			continue
		}
		backoff = w.cfg.RetryBackoff
		if b == nil {
			continue
		}
		if w.cfg.AfterFetch != nil {
			w.cfg.AfterFetch()
		}
		if err := w.handle(ctx, c, b, log); err != nil && ctx.Err() == nil {
			log.Warn().Err(err).Int("partition", b.Partition).Msg("batch abandoned; its unacknowledged messages will be delivered again")
		}
	}
	return nil
}

// handle processes a batch in order and acknowledges what was committed:
// the valid events go to the engine together (one commit round trip); an
// event the batch could not commit is then handled alone, with retries, in
// order.
func (w *Worker) handle(ctx context.Context, c queue.Consumer, b *queue.Batch, log zerolog.Logger) error {
	acks := make([]string, 0, len(b.Messages))
	ack := func() error {
		if len(acks) == 0 {
			return nil
		}
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		err := c.Ack(actx, b, acks)
		acks = acks[:0]
		return err
	}
	evs := make([]*event.Event, 0, len(b.Messages))
	msgs := make([]queue.Message, 0, len(b.Messages))
	for _, m := range b.Messages {
		ev, err := event.Decode(m.Body, m.EnqueuedAt)
		if err != nil {
			if err := w.deadLetter(ctx, c, b, m, err.Error(), log); err != nil {
				return errors.Join(err, ack())
			}
			continue
		}
		evs, msgs = append(evs, ev), append(msgs, m)
	}
	// Where the queue can, each committed event's message is acknowledged
	// in the transaction of its commit; ack() then has only the others
	// (duplicates) left.
	cctx := ctx
	if ca, ok := c.(queue.CommitAcker); ok {
		cctx = ca.AckOnCommit(ctx, b, evs, msgs)
	}
	start := time.Now()
	results := w.cfg.Engine.ProcessBatch(cctx, evs, &b.Fence)
	took := time.Since(start) / time.Duration(max(1, len(evs)))
	for i, r := range results {
		switch {
		case r.Err == nil:
			if w.cfg.AfterCommit != nil {
				w.cfg.AfterCommit(evs[i])
			}
			if w.cfg.Metrics != nil {
				w.cfg.Metrics.Processed(evs[i], r.Result, took)
			}
			l := log.Debug().Str("event_id", evs[i].ID).Bool("duplicate", r.Duplicate).Int("workflows", r.Workflows)
			if r.Trace != nil {
				l = l.Interface("trace", r.Trace)
			}
			l.Msg("event processed")
			acks = append(acks, msgs[i].ID)
			continue
		case errors.Is(r.Err, store.ErrFenced):
			return errors.Join(fmt.Errorf("partition %d: %w", b.Partition, queue.ErrLeaseLost), ack())
		case ctx.Err() != nil:
			return errors.Join(ctx.Err(), ack())
		}
		// Not committed: handle it alone, with retries, in order.
		done, err := w.handleOne(cctx, c, b, msgs[i], evs[i], log)
		if err != nil {
			return errors.Join(err, ack())
		}
		if done {
			acks = append(acks, msgs[i].ID)
		}
	}
	return ack()
}

// handleOne processes one message alone, retrying transient failures;
// done reports whether it must be
// acknowledged (dead-lettered messages are acknowledged by DeadLetter).
func (w *Worker) handleOne(ctx context.Context, c queue.Consumer, b *queue.Batch, m queue.Message, ev *event.Event, log zerolog.Logger) (bool, error) {
	log = log.With().Str("event_id", ev.ID).Str("event_type", ev.Type).Logger()
	backoff := w.cfg.RetryBackoff
	for attempt := 0; ; attempt++ {
		start := time.Now()
		res, err := w.cfg.Engine.ProcessFenced(ctx, ev, b.Fence)
		if err == nil {
			if w.cfg.AfterCommit != nil {
				w.cfg.AfterCommit(ev)
			}
			if w.cfg.Metrics != nil {
				w.cfg.Metrics.Processed(ev, res, time.Since(start))
			}
			log.Debug().Bool("duplicate", res.Duplicate).Int("workflows", res.Workflows).Msg("event processed")
			return true, nil
		}
		switch {
		case ctx.Err() != nil:
			return false, ctx.Err()
		case errors.Is(err, store.ErrFenced):
			return false, fmt.Errorf("partition %d: %w", b.Partition, queue.ErrLeaseLost)
		}
		if w.cfg.Metrics != nil {
			w.cfg.Metrics.Failed("transient")
		}
		if m.Deliveries+attempt >= w.cfg.MaxDeliveries {
			reason := fmt.Sprintf("failed %d times; last error: %v", m.Deliveries+attempt, err)
			return false, w.deadLetter(ctx, c, b, m, reason, log)
		}
		log.Warn().Err(err).Int("attempt", attempt+1).Dur("retry_in", backoff).Msg("processing failed; retrying")
		sleep(ctx, backoff)
		backoff = min(2*backoff, w.cfg.MaxRetryBackoff)
	}
}

func (w *Worker) deadLetter(ctx context.Context, c queue.Consumer, b *queue.Batch, m queue.Message, reason string, log zerolog.Logger) error {
	log.Warn().Str("message_id", m.ID).Int("partition", b.Partition).Str("reason", reason).Msg("message moved to the dead-letter queue")
	if w.cfg.Metrics != nil {
		w.cfg.Metrics.DeadLettered(reason)
	}
	return c.DeadLetter(ctx, b, m, reason)
}

// scanLoop runs the stale scanner on an interval and pushes the stale
// events it finds onto the queue; deterministic ids keep each single
// however many workers scan.
func (w *Worker) scanLoop(ctx context.Context) {
	t := time.NewTicker(w.cfg.StaleInterval)
	defer t.Stop()
	for {
		if err := w.ScanOnce(ctx); err != nil && ctx.Err() == nil {
			w.log.Warn().Err(err).Msg("stale scan failed")
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// ScanOnce runs the stale scanner once at the clock's now and pushes what
// it finds.
func (w *Worker) ScanOnce(ctx context.Context) error {
	evs, err := w.cfg.Engine.StaleEvents(ctx, w.cfg.Clock())
	if err != nil || len(evs) == 0 {
		return err
	}
	bodies := make([][]byte, len(evs))
	for i, ev := range evs {
		if bodies[i], err = event.Encode(ev); err != nil {
			return err
		}
	}
	if err := w.cfg.Queue.Push(ctx, evs, bodies); err != nil {
		return fmt.Errorf("pushing %d stale event(s): %w", len(evs), err)
	}
	w.log.Info().Int("stale_events", len(evs)).Msg("stale scan pushed events")
	return nil
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
