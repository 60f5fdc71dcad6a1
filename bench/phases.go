package bench

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/followflow/followflow/engine"
	"github.com/followflow/followflow/queue"
	"github.com/followflow/followflow/store"
	"github.com/followflow/followflow/worker"
)

// loadChunk bounds the opportunities of one Store.Load call.
const loadChunk = 5000

// runEngine measures the real pipeline: the data loaded into a fresh
// store, the events pushed with Queue.Push, a worker.Worker consuming,
// processing and acknowledging them.
func (s *site) runEngine(ctx context.Context, cfg Config, g *Generated, label string) (p Phase, err error) {
	b, err := s.openBackend(ctx, label, false)
	if err != nil {
		return Phase{}, err
	}
	defer func() {
		err = errors.Join(err, b.Close(), s.drop(context.WithoutCancel(ctx), label, false))
	}()
	start := time.Now()
	if err := loadData(ctx, b.Store, g); err != nil {
		return Phase{}, err
	}
	loadTook := time.Since(start)

	rec := newRecorder(len(g.Events))
	eng, err := engine.New(engine.Config{Store: b.Store, OnCommit: func(cs *store.Changeset) { rec.onCommit(cs.EventID) }}, g.Workflows)
	if err != nil {
		return Phase{}, err
	}
	w, err := worker.New(worker.Config{
		Engine: eng, Queue: b.Queue, ID: "bench", Consumers: cfg.Workers, BatchSize: cfg.Batch,
		StaleInterval: -1, Metrics: rec,
	})
	if err != nil {
		return Phase{}, err
	}
	wctx, stop := context.WithCancel(ctx)
	stopped := newStopper()
	go func() { stopped.stop(w.Run(wctx)) }()
	defer func() {
		stop()
		<-stopped.done
		if stopped.err != nil && !errors.Is(stopped.err, context.Canceled) {
			err = errors.Join(err, fmt.Errorf("worker: %w", stopped.err))
		}
	}()
	p, err = s.measure(ctx, cfg, len(g.Events), rec, phase{
		name: "engine",
		push: func(ctx context.Context, lo, hi int) error {
			return b.Queue.Push(ctx, g.Events[lo:hi], g.Bodies[lo:hi])
		},
		consumers: stopped,
		profile:   cfg.CPUProfile,
	})
	p.LoadSeconds = loadTook.Seconds()
	return p, err
}

// loadData loads the generated data with Store.Load, at most loadChunk
// opportunities at a time (accounts and users first).
func loadData(ctx context.Context, st store.Store, g *Generated) error {
	d := g.Data
	first := *d
	first.Opportunities = d.Opportunities[:min(loadChunk, len(d.Opportunities))]
	if err := st.Load(ctx, &first); err != nil {
		return fmt.Errorf("loading the data: %w", err)
	}
	for lo := loadChunk; lo < len(d.Opportunities); lo += loadChunk {
		part := *d
		part.Accounts, part.Users, part.Contacts = nil, nil, nil
		part.Opportunities = d.Opportunities[lo:min(lo+loadChunk, len(d.Opportunities))]
		if err := st.Load(ctx, &part); err != nil {
			return fmt.Errorf("loading the data: %w", err)
		}
	}
	return nil
}

// runBaseline measures the transport alone, with the same producer, the
// same number of consumers and the same batch size as the engine run.
func (s *site) runBaseline(ctx context.Context, cfg Config, g *Generated, label string) (Phase, error) {
	if s.client != nil {
		return s.redisBaseline(ctx, cfg, g, label)
	}
	return s.sqliteBaseline(ctx, cfg, g, label)
}

// sqliteBaseline pushes the same rows through sqlitequeue in a fresh
// database file and has Workers consumers Fetch and Ack them: no decoding,
// no engine, no store.
func (s *site) sqliteBaseline(ctx context.Context, cfg Config, g *Generated, label string) (p Phase, err error) {
	b, err := s.openBackend(ctx, label, true)
	if err != nil {
		return Phase{}, err
	}
	defer func() {
		err = errors.Join(err, b.Close(), s.drop(context.WithoutCancel(ctx), label, true))
	}()
	rec := newRecorder(len(g.Events))
	cctx, stop := context.WithCancel(ctx)
	stopped := newStopper()
	var wg sync.WaitGroup
	for i := range cfg.Workers {
		c, err := b.Queue.Consumer(ctx, "baseline-"+strconv.Itoa(i))
		if err != nil {
			stop()
			wg.Wait()
			return Phase{}, err
		}
		wg.Go(func() {
			defer c.Close(context.WithoutCancel(ctx))
			if err := consumeQueue(cctx, c, cfg.Batch, rec); err != nil {
				stopped.stop(err)
			}
		})
	}
	defer func() {
		stop()
		wg.Wait()
	}()
	return s.measure(ctx, cfg, len(g.Events), rec, phase{
		name: "baseline",
		push: func(ctx context.Context, lo, hi int) error {
			return b.Queue.Push(ctx, g.Events[lo:hi], g.Bodies[lo:hi])
		},
		consumers: stopped,
	})
}

// consumeQueue fetches and acknowledges batches until ctx is cancelled.
func consumeQueue(ctx context.Context, c queue.Consumer, batch int, rec *recorder) error {
	ids := make([]string, 0, batch)
	for ctx.Err() == nil {
		b, err := c.Fetch(ctx, batch, 100*time.Millisecond)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("fetching: %w", err)
		}
		if b == nil {
			continue
		}
		ids = ids[:0]
		for _, m := range b.Messages {
			ids = append(ids, m.ID)
		}
		if err := c.Ack(ctx, b, ids); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("acknowledging: %w", err)
		}
		now := rec.now()
		for _, m := range b.Messages {
			if i, ok := bodyIndex(m.Body); ok {
				rec.apply(i, now)
			}
		}
	}
	return nil
}

// baselineGroup is the consumer group of the Redis baseline's stream.
const baselineGroup = "baseline"

// redisBaseline is a bare XADD (pipelined, PushChunk at a time) ->
// XREADGROUP (COUNT Batch) -> XACK loop on a stream of its own under the
// prefix, with Workers consumers: no router, no partitions, no leases, no
// decoding, no engine.
func (s *site) redisBaseline(ctx context.Context, cfg Config, g *Generated, label string) (p Phase, err error) {
	key := s.streamKey(label)
	if err := s.client.XGroupCreateMkStream(ctx, key, baselineGroup, "0").Err(); err != nil {
		return Phase{}, fmt.Errorf("creating the baseline stream %s: %w", key, err)
	}
	defer func() { err = errors.Join(err, s.drop(context.WithoutCancel(ctx), label, true)) }()
	rec := newRecorder(len(g.Events))
	cctx, stop := context.WithCancel(ctx)
	stopped := newStopper()
	var wg sync.WaitGroup
	for i := range cfg.Workers {
		wg.Go(func() {
			if err := s.consumeStream(cctx, key, "baseline-"+strconv.Itoa(i), cfg.Batch, rec); err != nil {
				stopped.stop(err)
			}
		})
	}
	defer func() {
		stop()
		wg.Wait()
	}()
	return s.measure(ctx, cfg, len(g.Events), rec, phase{
		name: "baseline",
		push: func(ctx context.Context, lo, hi int) error {
			_, err := s.client.Pipelined(ctx, func(pipe goredis.Pipeliner) error {
				for _, body := range g.Bodies[lo:hi] {
					pipe.XAdd(ctx, &goredis.XAddArgs{Stream: key, Values: []any{"event", body}})
				}
				return nil
			})
			return err
		},
		consumers: stopped,
	})
}

// consumeStream reads and acknowledges the stream until ctx is cancelled.
func (s *site) consumeStream(ctx context.Context, key, consumer string, batch int, rec *recorder) error {
	ids := make([]string, 0, batch)
	for ctx.Err() == nil {
		res, err := s.client.XReadGroup(ctx, &goredis.XReadGroupArgs{
			Group: baselineGroup, Consumer: consumer, Streams: []string{key, ">"},
			Count: int64(batch), Block: 100 * time.Millisecond,
		}).Result()
		if errors.Is(err, goredis.Nil) {
			continue
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("XREADGROUP: %w", err)
		}
		ids = ids[:0]
		for _, st := range res {
			for _, m := range st.Messages {
				ids = append(ids, m.ID)
			}
		}
		if len(ids) == 0 {
			continue
		}
		if err := s.client.XAck(ctx, key, baselineGroup, ids...).Err(); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("XACK: %w", err)
		}
		now := rec.now()
		for _, st := range res {
			for _, m := range st.Messages {
				if body, ok := m.Values["event"].(string); ok {
					if i, ok := bodyIndex(body); ok {
						rec.apply(i, now)
					}
				}
			}
		}
	}
	return nil
}
