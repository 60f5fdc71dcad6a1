package redisstream

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/followflow/followflow/queue"
	"github.com/followflow/followflow/store"
)

// consumer is a queue.Consumer. Its state is what it believes it holds;
// Redis decides: every read, acknowledgement and renewal is a script that
// checks the lease (owner and epoch) in the partition's hash slot.
type consumer struct {
	q  *Queue
	id string
	// token is the owner of the consumer's leases and its name in the
	// consumer groups: id and a random suffix, so that a consumer started
	// again with the same id is another owner.
	token  string
	waiter *waiter // nil: poll

	mu   sync.Mutex
	held map[int]*part
	// next is the partition Fetch looks at first: partitions with messages
	// take turns.
	next int
	// ready, after a wait, holds the partitions the wait found new entries
	// in: the next read skips the others that are known to have nothing
	// new (see read). nil: read every partition.
	ready map[int]bool
	// rebalanceAt is when Fetch next heartbeats, renews the leases and
	// rebalances; released is q.released as of then.
	rebalanceAt time.Time
	released    uint64
	closed      bool
	// max is the batch size the last Fetch asked for: what an
	// acknowledgement reads ahead.
	max int
	// pops counts the batches returned from memory since the last read.
	pops int
}

// part is the state of a held partition.
type part struct {
	epoch int64
	// cursor is where the recovery of the partition's pending entries goes
	// on (XAUTOCLAIM), or "" when there is nothing to recover and Fetch
	// reads new entries.
	cursor string
	// tip is the newest entry of the stream when the last read found
	// nothing new: a wait for new entries starts after it.
	tip string
	// buf holds entries read but not returned yet, in order.
	buf []queue.Message
	// out holds the ids of the last batch returned and not acknowledged.
	// If some remain at the next Fetch, the batch was abandoned: the
	// partition is recovered again so that they come first.
	out map[string]bool
}

var _ queue.Consumer = (*consumer)(nil)

// Fetch returns up to max messages of one held partition, in order,
// waiting up to block for some; it returns nil, nil when there are none,
// and ctx's error when ctx is done.
//
// It rebalances every LeaseTTL/4: a heartbeat, a renewal of the leases
// held, and acquisitions or hand-backs to reach the fair share,
// ceil(partitions / live consumers). A partition just acquired (or whose
// last batch was not wholly acknowledged) first yields the entries pending
// in its group, whoever they were delivered to, in order, with their
// delivery counts; then new entries, each delivered once.
//
// Every read is a script that checks the lease; reading several partitions
// at once (one pipeline), or reading ahead in Ack, may read more than one
// batch, and the rest waits in memory for the next Fetch. With a
// *redis.Client, Fetch waits for new entries with one XREAD BLOCK over the
// held streams (XREAD, not XREADGROUP: waiting takes no entry, so an
// expired lease holder still waiting cannot take entries from the next
// holder); other clients poll every Config.PollInterval. A cancelled ctx
// or Queue.Close wakes the wait at once.
func (c *consumer) Fetch(ctx context.Context, max int, block time.Duration) (*queue.Batch, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, ErrClosed
	}
	if max < 1 {
		max = 1
	}
	c.max = max
	deadline := time.Now().Add(block)
	again := false
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if err := c.q.checkOpen(); err != nil {
			return nil, err
		}
		wake := c.q.wake.Wait()
		c.recoverAbandoned()
		if now := time.Now(); !now.Before(c.rebalanceAt) || c.q.released.Load() != c.released {
			if err := c.rebalance(ctx); err != nil {
				return nil, ctxErr(ctx, err)
			}
		}
		// Buffered entries come first, but after as many batches as
		// partitions held the others are looked at again, so that
		// partitions kept busy by reads ahead do not starve the rest.
		if !again && c.pops < len(c.held) {
			if b := c.pop(max); b != nil {
				return b, nil
			}
		}
		left := time.Until(deadline)
		var err error
		again, err = c.read(ctx, max, left > 0 && !c.buffered())
		if err != nil {
			return nil, ctxErr(ctx, err)
		}
		c.pops = 0
		if again {
			continue
		}
		if b := c.pop(max); b != nil {
			return b, nil
		}
		if left <= 0 {
			return nil, nil
		}
		if err := c.wait(ctx, wake, min(left, time.Until(c.rebalanceAt))); err != nil {
			return nil, ctxErr(ctx, err)
		}
	}
}

// ctxErr returns ctx's error instead of err when ctx is done.
func ctxErr(ctx context.Context, err error) error {
	if err != nil && ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// recoverAbandoned puts back into recovery the partitions whose last batch
// was not wholly acknowledged: its remaining entries are pending, and must
// come again before anything after them.
func (c *consumer) recoverAbandoned() {
	for _, st := range c.held {
		if len(st.out) > 0 {
			st.out, st.buf, st.cursor = nil, nil, "0-0"
		}
	}
}

// pop returns a batch of up to max buffered messages, the partitions
// taking turns, or nil.
func (c *consumer) pop(max int) *queue.Batch {
	ps := c.partitions()
	for i := range ps {
		p := ps[(c.next+i)%len(ps)]
		st := c.held[p]
		if len(st.buf) == 0 {
			continue
		}
		n := min(max, len(st.buf))
		msgs := slices.Clone(st.buf[:n])
		st.buf = st.buf[n:]
		st.out = make(map[string]bool, n)
		for _, m := range msgs {
			st.out[m.ID] = true
		}
		c.next = (c.next + i + 1) % len(ps)
		c.pops++
		return &queue.Batch{Partition: p, Fence: store.Fence{Partition: p, Epoch: st.epoch}, Messages: msgs}
	}
	return nil
}

// buffered reports whether entries read are waiting in memory.
func (c *consumer) buffered() bool {
	for _, st := range c.held {
		if len(st.buf) > 0 {
			return true
		}
	}
	return false
}

// partitions returns the held partitions in order.
func (c *consumer) partitions() []int {
	return slices.Sorted(maps.Keys(c.held))
}

// read runs the fetch script on every held partition with nothing
// buffered, in one pipeline, and buffers what they return. again reports
// a recovery that returned nothing yet has more to look at, or a
// partition skipped that has new entries.
//
// With a waiter (one server), a partition whose tip is known (the newest
// entry its last read found, or the last entry it delivered) is not read
// again until something is added after its tip: right after a wait, the
// wait said which partitions have new entries; otherwise one XREAD (no
// BLOCK, in the same pipeline) looks after the tips of the partitions
// skipped, which are read next time if it finds something. When every
// partition is skipped and the caller will wait (willWait), that XREAD is
// left out: the wait's XREAD BLOCK, from the same tips, returns at once if
// something is there. A consumer with many quiet partitions then reads
// only those that have entries, and after a batch goes straight back to
// waiting, instead of running the fetch script on each of them for every
// batch.
func (c *consumer) read(ctx context.Context, max int, willWait bool) (again bool, err error) {
	q := c.q
	var ps []int
	var calls []*scriptCall
	var skipped []int
	ready := c.ready
	c.ready = nil
	for _, p := range c.partitions() {
		st := c.held[p]
		if len(st.buf) > 0 {
			continue
		}
		if c.waiter != nil && st.cursor == "" && st.tip != "" && !ready[p] {
			if ready == nil {
				skipped = append(skipped, p)
			}
			continue
		}
		k := q.keys.parts[p]
		ps = append(ps, p)
		calls = append(calls, &scriptCall{
			script: fetchScript,
			keys:   []string{k.lease, k.stream},
			args:   []any{c.token, st.epoch, q.ttlMs(), Group, max, st.cursor},
		})
	}
	if len(calls) == 0 && willWait {
		skipped = nil
	}
	var check *goredis.XStreamSliceCmd
	runScriptsAnd(ctx, q.client, calls, func(pipe goredis.Pipeliner) {
		if len(skipped) == 0 {
			return
		}
		streams := make([]string, 0, 2*len(skipped))
		for _, p := range skipped {
			streams = append(streams, q.keys.parts[p].stream)
		}
		for _, p := range skipped {
			streams = append(streams, c.held[p].tip)
		}
		check = pipe.XRead(ctx, &goredis.XReadArgs{Streams: streams, Count: 1, Block: -1})
	})
	if check != nil {
		res, err := check.Result()
		if err != nil && !errors.Is(err, goredis.Nil) {
			return false, wrapErr("looking for new entries", err)
		}
		for _, r := range res {
			for _, p := range skipped {
				if q.keys.parts[p].stream == r.Stream && len(r.Messages) > 0 {
					c.held[p].tip = ""
					again = true
				}
			}
		}
	}
	var errs []error
	var bad []badEntry
	for i, p := range ps {
		st := c.held[p]
		res, err := calls[i].cmd.Slice()
		if isLeaseLost(err) {
			delete(c.held, p)
			continue
		}
		var r fetchReply
		if err == nil {
			r, err = parseFetchReply(res)
		}
		if err != nil {
			// The script may have run and its reply been lost, leaving
			// entries pending that this consumer has not seen.
			st.cursor, st.tip = "0-0", ""
			errs = append(errs, fmt.Errorf("reading partition %d: %w", p, err))
			continue
		}
		st.cursor, st.tip = r.cursor, r.tip
		if st.cursor == "0-0" {
			st.cursor = ""
		}
		if st.cursor == "" && st.tip == "" && len(r.entries) > 0 && len(r.entries) < max {
			// The read took every new entry: a wait may start from the
			// last one. (After a recovery it may be lower than the last
			// entry delivered, which costs one read that finds nothing,
			// never an entry missed.)
			st.tip = r.entries[len(r.entries)-1].ID
		}
		again = again || (len(r.entries) == 0 && st.cursor != "")
		for j, e := range r.entries {
			deliveries := 1
			if j < len(r.counts) {
				deliveries = int(r.counts[j])
			}
			m, reason, ok := toMessage(e, deliveries)
			if !ok {
				bad = append(bad, badEntry{p: p, epoch: st.epoch, m: m, reason: reason})
				continue
			}
			st.buf = append(st.buf, m)
		}
	}
	for _, b := range bad {
		// Without the lease, the next holder discards it.
		if err := c.discard(ctx, b); err != nil && !errors.Is(err, queue.ErrLeaseLost) {
			errs = append(errs, err)
		}
		again = true
	}
	return again, wrapErr("fetching", errors.Join(errs...))
}

// badEntry is a partition entry that is not a message: one without an
// event field (dead-lettered) or deleted (acknowledged).
type badEntry struct {
	p      int
	epoch  int64
	m      queue.Message
	reason string // "": deleted
}

func (c *consumer) discard(ctx context.Context, b badEntry) error {
	batch := &queue.Batch{Partition: b.p, Fence: store.Fence{Partition: b.p, Epoch: b.epoch}}
	if b.reason == "" {
		return c.ack(ctx, batch, []string{b.m.ID}, false)
	}
	return c.deadLetter(ctx, batch, b.m, b.reason)
}

// fetchReply is the reply of fetchScript.
type fetchReply struct {
	entries []goredis.XMessage
	counts  []int64
	cursor  string
	tip     string
}

func parseFetchReply(res []any) (fetchReply, error) {
	var r fetchReply
	if len(res) != 4 {
		return r, fmt.Errorf("unexpected fetch reply %v", res)
	}
	r.cursor, _ = res[2].(string)
	r.tip, _ = res[3].(string)
	entries, _ := res[0].([]any)
	for _, e := range entries {
		m, err := parseEntry(e)
		if err != nil {
			return r, err
		}
		r.entries = append(r.entries, m)
	}
	counts, _ := res[1].([]any)
	for _, n := range counts {
		v, _ := n.(int64)
		r.counts = append(r.counts, v)
	}
	return r, nil
}

// parseEntry reads a stream entry, [id, [field, value, ...]], as a script
// returns it. A deleted entry has no fields (Values is nil).
func parseEntry(e any) (goredis.XMessage, error) {
	a, ok := e.([]any)
	if !ok || len(a) < 1 {
		return goredis.XMessage{}, fmt.Errorf("unexpected stream entry %v", e)
	}
	id, _ := a[0].(string)
	m := goredis.XMessage{ID: id}
	if len(a) < 2 {
		return m, nil
	}
	fields, _ := a[1].([]any)
	if fields == nil {
		return m, nil
	}
	m.Values = make(map[string]any, len(fields)/2)
	for i := 0; i+1 < len(fields); i += 2 {
		k, _ := fields[i].(string)
		m.Values[k] = fields[i+1]
	}
	return m, nil
}

// toMessage turns a partition entry into a message; ok is false, with the
// reason to dead-letter it ("" for a deleted entry), when it is not one.
func toMessage(e goredis.XMessage, deliveries int) (m queue.Message, reason string, ok bool) {
	m = queue.Message{ID: e.ID, Deliveries: deliveries, EnqueuedAt: enqueuedAt(e)}
	if e.Values == nil {
		return m, "", false
	}
	body, ok := e.Values[fieldEvent].(string)
	if !ok {
		m.Body = fieldsJSON(e.Values)
		return m, `stream entry has no "event" field`, false
	}
	m.Body = []byte(body)
	return m, "", true
}

// enqueuedAt returns when an entry's event was pushed: its enqueued_at
// field, or the time of the inbox entry it was routed from, or its own.
func enqueuedAt(e goredis.XMessage) time.Time {
	if s, ok := e.Values[fieldEnqueuedAt].(string); ok {
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			return t
		}
	}
	if s, ok := e.Values[fieldInboxID].(string); ok {
		if t := idTime(s); !t.IsZero() {
			return t
		}
	}
	return idTime(e.ID)
}

// wait waits up to d for new entries in the held partitions, for wake (a
// consumer of this Queue handed leases back), for ctx or for Queue.Close.
func (c *consumer) wait(ctx context.Context, wake <-chan struct{}, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stopClose := context.AfterFunc(c.q.ctx, cancel)
	defer stopClose()
	go func() {
		select {
		case <-wake:
			cancel()
		case <-wctx.Done():
		}
	}()
	var err error
	if c.waiter != nil && len(c.held) > 0 {
		ps := c.partitions()
		streams := make([]string, 0, 2*len(ps))
		for _, p := range ps {
			streams = append(streams, c.q.keys.parts[p].stream)
		}
		for _, p := range ps {
			streams = append(streams, cmp.Or(c.held[p].tip, "$"))
		}
		var res []goredis.XStream
		res, err = c.waiter.xread(wctx, streams, 1, d)
		if err == nil {
			c.ready = make(map[int]bool, len(res))
			for _, r := range res {
				for _, p := range ps {
					if c.q.keys.parts[p].stream == r.Stream {
						c.ready[p] = true
					}
				}
			}
		}
	} else {
		if len(c.held) > 0 {
			d = min(d, c.q.cfg.PollInterval)
		}
		err = sleep(wctx, d)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := c.q.checkOpen(); err != nil {
		return err
	}
	if errors.Is(err, context.Canceled) {
		return nil // woken
	}
	return wrapErr("waiting for messages", err)
}

// heartbeat registers the consumer as live and returns the live
// consumers' tokens, sorted.
func (c *consumer) heartbeat(ctx context.Context) ([]string, error) {
	q := c.q
	live, err := heartbeatScript.Run(ctx, q.client, []string{q.keys.consumers()}, c.token, q.ttlMs()).StringSlice()
	if err != nil {
		return nil, err
	}
	slices.Sort(live)
	return live, nil
}

// rebalance heartbeats, renews the held leases (dropping those lost), and
// brings the number held to the fair share: it hands back the extras, or
// tries to acquire free or expired leases, starting at the consumer's own
// slice of the partitions (its rank among the live consumers times the
// share) so that consumers seldom compete for one lease.
func (c *consumer) rebalance(ctx context.Context) error {
	q := c.q
	c.released = q.released.Load()
	live, err := c.heartbeat(ctx)
	if err != nil {
		return fmt.Errorf("heartbeat: %w", err)
	}
	ps := c.partitions()
	calls := make([]*scriptCall, len(ps))
	for i, p := range ps {
		calls[i] = &scriptCall{script: renewScript, keys: []string{q.keys.parts[p].lease}, args: []any{c.token, c.held[p].epoch, q.ttlMs()}}
	}
	runScripts(ctx, q.client, calls)
	for i, p := range ps {
		ok, err := calls[i].cmd.Int()
		if err != nil {
			return fmt.Errorf("renewing the lease of partition %d: %w", p, err)
		}
		if ok == 0 {
			delete(c.held, p)
		}
	}

	n := q.cfg.Partitions
	share := (n + len(live) - 1) / max(len(live), 1)
	rank, _ := slices.BinarySearch(live, c.token)
	start := (rank * share) % n
	// pos is a partition's place in the consumer's order of preference.
	pos := func(p int) int { return (p - start + n) % n }

	if len(c.held) > share {
		ps := c.partitions()
		slices.SortFunc(ps, func(a, b int) int { return pos(a) - pos(b) })
		extras := ps[share:]
		calls := make([]*scriptCall, len(extras))
		for i, p := range extras {
			calls[i] = &scriptCall{script: releaseScript, keys: []string{q.keys.parts[p].lease}, args: []any{c.token}}
			delete(c.held, p)
		}
		runScripts(ctx, q.client, calls)
		c.notifyReleased()
	}

	if need := share - len(c.held); need > 0 {
		pipe := q.client.Pipeline()
		var free []int
		exists := make(map[int]*goredis.IntCmd)
		for i := range n {
			p := (start + i) % n
			if c.held[p] == nil {
				exists[p] = pipe.Exists(ctx, q.keys.parts[p].lease)
				free = append(free, p)
			}
		}
		if _, err := pipe.Exec(ctx); err != nil {
			return fmt.Errorf("looking for free partitions: %w", err)
		}
		free = slices.DeleteFunc(free, func(p int) bool { return exists[p].Val() != 0 })
		free = free[:min(need, len(free))]
		calls := make([]*scriptCall, len(free))
		for i, p := range free {
			k := q.keys.parts[p]
			calls[i] = &scriptCall{script: acquireScript, keys: []string{k.lease, k.epoch, k.stream}, args: []any{c.token, c.id, q.ttlMs(), Group}}
		}
		runScripts(ctx, q.client, calls)
		var errs []error
		for i, p := range free {
			epoch, err := calls[i].cmd.Int64()
			if err != nil {
				// It may have been acquired: if so it expires, or comes
				// back to this consumer (same owner) next time.
				errs = append(errs, fmt.Errorf("acquiring partition %d: %w", p, err))
				continue
			}
			if epoch > 0 {
				c.held[p] = &part{epoch: epoch, cursor: "0-0"}
			}
		}
		if err := errors.Join(errs...); err != nil {
			return err
		}
	}
	c.rebalanceAt = time.Now().Add(q.cfg.LeaseTTL / 4)
	return nil
}

// notifyReleased tells the Queue's other consumers that leases were handed
// back.
func (c *consumer) notifyReleased() {
	c.q.released.Add(1)
	c.released = c.q.released.Load()
	c.q.wake.Notify()
}

// Ack acknowledges messages of b under its lease: queue.ErrLeaseLost when
// the consumer no longer holds b's partition with b's epoch. When they are
// the last of b's messages not yet acknowledged, and nothing of the
// partition is buffered or being recovered, the same script reads the
// partition's next batch (up to the size the last Fetch asked for), which
// a later Fetch returns.
func (c *consumer) Ack(ctx context.Context, b *queue.Batch, ids []string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return ErrClosed
	}
	return c.ack(ctx, b, ids, true)
}

// ack acknowledges ids of b; with readAhead, an acknowledgement that ends
// b may read the partition's next batch in the same round trip.
func (c *consumer) ack(ctx context.Context, b *queue.Batch, ids []string, readAhead bool) error {
	if len(ids) == 0 {
		return nil
	}
	q := c.q
	k := q.keys.parts[b.Partition]
	st := c.held[b.Partition]
	if st != nil && st.epoch != b.Fence.Epoch {
		st = nil
	}
	// Read the partition's next batch in the same round trip when this
	// acknowledgement ends the batch and nothing else is to come first:
	// no entry buffered, no recovery under way.
	ahead := 0
	if readAhead && st != nil && st.cursor == "" && len(st.buf) == 0 && c.max > 0 && coversAll(st.out, ids) {
		ahead = c.max
	}
	args := make([]any, 0, 6+len(ids))
	args = append(args, c.token, b.Fence.Epoch, q.ttlMs(), Group, q.cfg.MaxLen, ahead)
	for _, id := range ids {
		args = append(args, id)
	}
	res, err := ackScript.Run(ctx, q.client, []string{k.lease, k.stream}, args...).Slice()
	if isLeaseLost(err) {
		c.lost(b)
		return fmt.Errorf("acknowledging in partition %d: %w", b.Partition, queue.ErrLeaseLost)
	}
	if err == nil && len(res) != 3 {
		err = fmt.Errorf("unexpected acknowledgement reply %v", res)
	}
	if err != nil {
		// The acknowledgement may have happened, and entries been read
		// ahead; the ids left in st.out make the next Fetch recover the
		// partition, which hands the pending entries out again.
		return fmt.Errorf("redisstream: acknowledging in partition %d: %w", b.Partition, err)
	}
	if st == nil {
		return nil
	}
	for _, id := range ids {
		delete(st.out, id)
	}
	if ahead > 0 {
		c.bufferAhead(st, res, ahead)
	}
	return nil
}

// coversAll reports whether ids include every id of out.
func coversAll(out map[string]bool, ids []string) bool {
	if len(ids) < len(out) {
		return false
	}
	n := 0
	for _, id := range ids {
		if out[id] {
			n++
		}
	}
	return n == len(out)
}

// bufferAhead buffers the entries an acknowledgement read ahead (the
// reply of ackScript), and sets the partition's tip. An entry that is not
// a message (deleted, or without an event field) puts the partition into
// recovery instead, which reads the entries again and deals with it.
func (c *consumer) bufferAhead(st *part, res []any, ahead int) {
	entries, _ := res[1].([]any)
	st.tip, _ = res[2].(string)
	for _, e := range entries {
		m, err := parseEntry(e)
		if err != nil {
			st.buf, st.cursor, st.tip = nil, "0-0", ""
			return
		}
		msg, _, ok := toMessage(m, 1)
		if !ok {
			st.buf, st.cursor, st.tip = nil, "0-0", ""
			return
		}
		st.buf = append(st.buf, msg)
	}
	if len(st.buf) > 0 && len(st.buf) < ahead {
		// The read took every new entry: nothing after the last one.
		st.tip = st.buf[len(st.buf)-1].ID
	}
}

// lost forgets b's partition if the consumer believed it held it with b's
// epoch.
func (c *consumer) lost(b *queue.Batch) {
	if st := c.held[b.Partition]; st != nil && st.epoch == b.Fence.Epoch {
		delete(c.held, b.Partition)
	}
}

// DeadLetter adds m to the dead letters with its reason, then acknowledges
// it under b's lease. The two writes are in different hash slots, so they
// are two commands, in that order: a crash in between leaves m both in the
// dead letters and pending, to be delivered again (the dead letters are at
// least once). Without the lease it returns queue.ErrLeaseLost, and
// whether m was added to the dead letters depends on when the lease was
// lost.
func (c *consumer) DeadLetter(ctx context.Context, b *queue.Batch, m queue.Message, reason string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return ErrClosed
	}
	return c.deadLetter(ctx, b, m, reason)
}

func (c *consumer) deadLetter(ctx context.Context, b *queue.Batch, m queue.Message, reason string) error {
	q := c.q
	// Check the lease first, so that a consumer that lost it adds nothing
	// to the dead letters (but for a lease lost in the instant between).
	lost := fmt.Errorf("dead-lettering in partition %d: %w", b.Partition, queue.ErrLeaseLost)
	if st := c.held[b.Partition]; st == nil || st.epoch != b.Fence.Epoch {
		return lost
	}
	ok, err := renewScript.Run(ctx, q.client, []string{q.keys.parts[b.Partition].lease}, c.token, b.Fence.Epoch, q.ttlMs()).Int()
	if err != nil {
		return fmt.Errorf("redisstream: dead-lettering in partition %d: %w", b.Partition, err)
	}
	if ok == 0 {
		c.lost(b)
		return lost
	}
	err = q.client.XAdd(ctx, &goredis.XAddArgs{Stream: q.keys.dlq(), Values: []any{
		dlqBody, m.Body, dlqReason, reason, dlqPartition, b.Partition, dlqDeliveries, m.Deliveries,
		dlqFailedAt, time.Now().UTC().Format(time.RFC3339Nano), dlqMessageID, m.ID,
		dlqEnqueuedAt, m.EnqueuedAt.UTC().Format(time.RFC3339Nano),
	}}).Err()
	if err != nil {
		return fmt.Errorf("redisstream: dead-lettering %s of partition %d: %w", m.ID, b.Partition, err)
	}
	return c.ack(ctx, b, []string{m.ID}, false)
}

// Close hands back the consumer's leases and leaves the live consumers;
// its unacknowledged messages stay pending in their groups, and whoever
// takes the partitions next gets them first.
func (c *consumer) Close(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil
	}
	c.closed = true
	c.waiter.close()
	q := c.q
	var calls []*scriptCall
	for _, p := range c.partitions() {
		calls = append(calls, &scriptCall{script: releaseScript, keys: []string{q.keys.parts[p].lease}, args: []any{c.token}})
	}
	runScripts(ctx, q.client, calls)
	c.held = map[int]*part{}
	var errs []error
	for _, k := range calls {
		if err := k.cmd.Err(); err != nil {
			errs = append(errs, err)
		}
	}
	if err := q.client.ZRem(ctx, q.keys.consumers(), c.token).Err(); err != nil {
		errs = append(errs, err)
	}
	c.notifyReleased()
	return wrapErr("closing consumer "+c.id, errors.Join(errs...))
}
