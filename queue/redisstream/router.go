package redisstream

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/followflow/followflow/event"
	"github.com/followflow/followflow/queue"
)

// runRouter moves inbox entries to their partition streams until Close,
// whenever this Queue holds the router lease (see the package
// documentation). It hands the lease back when it stops.
func (q *Queue) runRouter() {
	defer close(q.routerDone)
	r := &router{q: q, token: "router#" + randomHex(8), waiter: newWaiter(q.client, q.keys.inbox())}
	defer r.waiter.close()
	defer r.release()
	ctx := q.ctx
	backoff := q.cfg.PollInterval
	for ctx.Err() == nil {
		idle, err := r.step(ctx)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			q.cfg.Logger.Warn().Err(err).Dur("retry_in", backoff).Msg("routing the inbox failed")
			_ = sleep(ctx, backoff)
			backoff = min(2*backoff, q.cfg.LeaseTTL)
			continue
		case idle:
			// Not holding the lease: try again later.
			_ = sleep(ctx, q.cfg.LeaseTTL/4)
		}
		backoff = q.cfg.PollInterval
	}
}

// router is the state of a Queue's router.
type router struct {
	q       *Queue
	token   string
	waiter  *waiter
	holding bool
	renewed time.Time
	cursor  string
}

// step takes or renews the router lease, waits for inbox entries after the
// cursor and routes them. idle reports that another router holds the
// lease.
func (r *router) step(ctx context.Context) (idle bool, err error) {
	q := r.q
	ttl := q.cfg.LeaseTTL
	if !r.holding {
		ok, err := q.client.SetNX(ctx, q.keys.routerLease(), r.token, ttl).Result()
		if err != nil || !ok {
			return err == nil, err
		}
		cursor, err := q.client.Get(ctx, q.keys.routerCursor()).Result()
		switch {
		case errors.Is(err, goredis.Nil):
			cursor = "0-0"
		case err != nil:
			return false, err
		}
		r.holding, r.renewed, r.cursor = true, time.Now(), cursor
		q.cfg.Logger.Debug().Str("cursor", cursor).Msg("router lease taken")
	} else if time.Since(r.renewed) >= ttl/4 {
		ok, err := routerRenewScript.Run(ctx, q.client, []string{q.keys.routerLease()}, r.token, q.ttlMs()).Int()
		if err != nil {
			return false, err
		}
		if ok == 0 {
			r.holding = false
			return true, nil
		}
		r.renewed = time.Now()
	}
	// Wait no longer than the next renewal is due.
	block := max(ttl/4-time.Since(r.renewed), time.Millisecond)
	entries, err := r.read(ctx, block)
	if err != nil || len(entries) == 0 {
		return false, err
	}
	return false, r.route(ctx, entries)
}

// read returns the inbox entries after the cursor, waiting up to block for
// some.
func (r *router) read(ctx context.Context, block time.Duration) ([]goredis.XMessage, error) {
	q := r.q
	streams := []string{q.keys.inbox(), r.cursor}
	count := int64(q.cfg.RouterBatch)
	if r.waiter != nil {
		res, err := r.waiter.xread(ctx, streams, count, block)
		if err != nil || len(res) == 0 {
			return nil, err
		}
		return res[0].Messages, nil
	}
	msgs, err := q.client.XRangeN(ctx, q.keys.inbox(), "("+r.cursor, "+", count).Result()
	if err == nil && len(msgs) == 0 {
		err = sleep(ctx, min(block, q.cfg.PollInterval))
	}
	return msgs, err
}

// route moves entries (in inbox order) to their partitions, the invalid
// ones to the dead letters, then advances the cursor past them and trims
// the inbox behind it. Routing the same entries again (after a crash, or
// by a router that lost its lease unawares) adds nothing twice: each
// partition remembers the last inbox id routed to it. An invalid entry
// dead-lettered twice that way would appear twice in the dead letters.
func (r *router) route(ctx context.Context, entries []goredis.XMessage) error {
	q := r.q
	byPart := make(map[int][]any)
	var order []int
	pipe := q.client.Pipeline()
	var dead []*goredis.StringCmd
	for _, m := range entries {
		enqueued, _ := m.Values[fieldEnqueuedAt].(string)
		body, ok := m.Values[fieldEvent].(string)
		var reason string
		var p int
		if !ok {
			reason = `inbox entry has no "event" field`
		} else if ev, err := event.DecodeString(body, time.Time{}); err != nil {
			reason = err.Error()
		} else {
			p = queue.PartitionOf(ev, q.cfg.Partitions)
		}
		if reason != "" {
			raw := []byte(body)
			if !ok {
				raw = fieldsJSON(m.Values)
			}
			dead = append(dead, pipe.XAdd(ctx, &goredis.XAddArgs{Stream: q.keys.dlq(), Values: []any{
				dlqBody, raw, dlqReason, reason, dlqPartition, -1, dlqDeliveries, 0,
				dlqFailedAt, time.Now().UTC().Format(time.RFC3339Nano), dlqMessageID, m.ID,
				dlqEnqueuedAt, cmp.Or(enqueued, idTime(m.ID).Format(time.RFC3339Nano)),
			}}))
			q.cfg.Logger.Warn().Str("message_id", m.ID).Str("reason", reason).Msg("inbox entry moved to the dead-letter queue")
			continue
		}
		if _, seen := byPart[p]; !seen {
			order = append(order, p)
		}
		byPart[p] = append(byPart[p], m.ID, body, enqueued)
	}
	if len(dead) > 0 {
		if _, err := pipe.Exec(ctx); err != nil {
			return fmt.Errorf("dead-lettering invalid inbox entries: %w", err)
		}
	}
	last := entries[len(entries)-1].ID
	lastID, err := parseID(last)
	if err != nil {
		return fmt.Errorf("inbox entry id %q: %w", last, err)
	}
	if q.blocking {
		// One server: route, advance and trim in one script.
		return r.routeAll(ctx, order, byPart, last, lastID)
	}
	calls := make([]*scriptCall, len(order))
	for i, p := range order {
		k := q.keys.parts[p]
		calls[i] = &scriptCall{script: routeScript, keys: []string{k.stream, k.routed}, args: byPart[p]}
	}
	runScripts(ctx, q.client, calls)
	for i, c := range calls {
		if err := c.cmd.Err(); err != nil {
			return fmt.Errorf("routing to partition %d: %w", order[i], err)
		}
	}
	// Advance the cursor and trim the inbox behind it in one round trip.
	// Trimming does not wait for the advance: every entry up to last is
	// routed, whoever holds the lease.
	advance := &scriptCall{script: routerAdvanceScript, keys: []string{q.keys.routerLease(), q.keys.routerCursor()}, args: []any{r.token, last, q.ttlMs()}}
	var trim *goredis.IntCmd
	runScriptsAnd(ctx, q.client, []*scriptCall{advance}, func(pipe goredis.Pipeliner) {
		trim = pipe.XTrimMinID(ctx, q.keys.inbox(), lastID.next().String())
	})
	ok, err := advance.cmd.Int()
	if err != nil {
		return fmt.Errorf("advancing the router cursor: %w", err)
	}
	if trim.Err() != nil {
		q.cfg.Logger.Warn().Err(trim.Err()).Msg("trimming the inbox failed")
	}
	r.advanced(last, ok != 0)
	return nil
}

// routeAll routes the entries of byPart (partitions in order), advances
// the cursor to last and trims the inbox behind it, in one script: the
// whole step in one round trip, on a single server.
func (r *router) routeAll(ctx context.Context, order []int, byPart map[int][]any, last string, lastID streamID) error {
	q := r.q
	keys := make([]string, 0, 3+2*len(order))
	keys = append(keys, q.keys.routerLease(), q.keys.routerCursor(), q.keys.inbox())
	n := 4
	for _, p := range order {
		keys = append(keys, q.keys.parts[p].stream, q.keys.parts[p].routed)
		n += 1 + len(byPart[p])
	}
	args := make([]any, 0, n)
	args = append(args, r.token, last, q.ttlMs(), lastID.next().String())
	for _, p := range order {
		args = append(args, len(byPart[p])/3)
		args = append(args, byPart[p]...)
	}
	ok, err := routeAllScript.Run(ctx, q.client, keys, args...).Int()
	if err != nil {
		return fmt.Errorf("routing inbox entries up to %s: %w", last, err)
	}
	r.advanced(last, ok != 0)
	return nil
}

// advanced records that the entries up to last are routed, and whether
// the router still holds its lease (renewed as of now).
func (r *router) advanced(last string, holding bool) {
	r.cursor = last
	if !holding {
		r.holding = false
		return
	}
	r.renewed = time.Now()
}

// release hands back the router lease when the router stops.
func (r *router) release() {
	if !r.holding {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = routerReleaseScript.Run(ctx, r.q.client, []string{r.q.keys.routerLease()}, r.token).Err()
}
