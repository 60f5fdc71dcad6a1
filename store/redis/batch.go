package redis

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	goredis "github.com/redis/go-redis/v9"

	"github.com/followflow/followflow/store"
)

var _ store.BatchCommitter = (*Store)(nil)

// CommitBatch implements store.BatchCommitter with commitScript: the
// changesets go in groups, one per account, in their order within each
// account (accounts share nothing, so the order between them does not
// matter). On one server (a *goredis.Client) every group goes in one
// script call; on a Redis Cluster, whose scripts must keep to one hash
// slot, each group is a call of its own, all in one pipeline. Either way it
// is one round trip. Each changeset is checked and written on its own, all
// or nothing, seeing the ones before it; a changeset refused by its checks
// gets its error in errs, and the others are committed.
func (s *Store) CommitBatch(ctx context.Context, css []*store.Changeset) ([]error, error) {
	if len(css) == 0 {
		return nil, nil
	}
	errs := make([]error, len(css))
	b := batchPool.Get().(*batch)
	defer b.release()
	for i, cs := range css {
		if err := checkChangeset(cs); err != nil {
			errs[i] = err
			continue
		}
		g := b.group(s, cs.AccountID)
		start, n := len(g.m.b), g.m.n
		if err := appendChangeset(&g.m, cs, s.ledgerTTL > 0); err != nil {
			g.m.b, g.m.n = g.m.b[:start], n
			errs[i] = err
			continue
		}
		g.idx = append(g.idx, i)
	}
	if len(b.groups) == 0 {
		return errs, nil
	}
	accounts := make([]string, len(b.groups))
	for i, g := range b.groups {
		accounts[i] = g.account
	}
	if err := s.addAccount(ctx, accounts...); err != nil {
		return nil, err
	}
	for _, g := range b.groups {
		g.m.arrayEnd(g.at, g.m.n)
		binary.BigEndian.PutUint32(g.m.b[g.countAt+1:], uint32(len(g.idx)))
	}
	// One call with every group on one server, one call per group on a
	// cluster, or behind a proxy that keeps a script to one hash slot
	// (refused with CROSSSLOT, before running: the batch is sent again one
	// call per group, and so are the next ones).
	_, single := s.client.(*goredis.Client)
	single = single && !s.slotBound.Load()
	calls, err := s.runCommit(ctx, b, single)
	if err == nil && single && len(b.groups) > 1 && goredis.HasErrorPrefix(calls[0].cmd.Err(), "CROSSSLOT") {
		s.slotBound.Store(true)
		calls, err = s.runCommit(ctx, b, false)
	}
	if err != nil {
		return nil, err
	}
	for _, c := range calls {
		replies, err := c.cmd.StringSlice()
		n := 0
		for _, g := range c.groups {
			n += len(g.idx)
		}
		if err == nil && len(replies) != n {
			err = fmt.Errorf("commit script replied %d times for %d changesets", len(replies), n)
		}
		k := 0
		for _, g := range c.groups {
			for _, i := range g.idx {
				if err != nil {
					errs[i] = fmt.Errorf("redis store: committing changeset of account %q: %w", g.account, err)
				} else {
					errs[i] = commitReply(css[i], replies[k])
				}
				k++
			}
		}
	}
	return errs, nil
}

// commitCall is one call of commitScript: its keys, its argument of
// groups and the groups.
type commitCall struct {
	keys   []string
	arg    []byte
	groups []*group
	cmd    *goredis.Cmd
}

// runCommit runs the batch in one call (single) or one call per group,
// all in one pipeline: EVALSHA, then EVAL for the calls whose server did
// not have the script (a restart, a failover; on a cluster, maybe one node
// only): those did not run. err is a transport error, after which which
// changesets were applied is unknown; the calls' own errors are in their
// cmds.
func (s *Store) runCommit(ctx context.Context, b *batch, single bool) ([]*commitCall, error) {
	var calls []*commitCall
	if single {
		keys := make([]string, len(b.groups))
		all := &b.all
		all.b, all.n = all.b[:0], 0
		at := all.arrayStart()
		for i, g := range b.groups {
			keys[i] = g.fences
			all.b = append(all.b, g.m.b...)
		}
		all.arrayEnd(at, len(b.groups))
		calls = append(calls, &commitCall{keys: keys, arg: all.b, groups: b.groups})
	} else {
		for _, g := range b.groups {
			// An array of one group: its header, then the group.
			g.one = append(append(g.one[:0], 0x91), g.m.b...)
			calls = append(calls, &commitCall{keys: []string{g.fences}, arg: g.one, groups: []*group{g}})
		}
	}
	send := calls
	for attempt := 0; len(send) > 0; attempt++ {
		pipe := s.client.Pipeline()
		for _, c := range send {
			if attempt == 0 {
				c.cmd = commitScript.EvalSha(ctx, pipe, c.keys, s.ledgerTTL, c.arg)
			} else {
				c.cmd = commitScript.Eval(ctx, pipe, c.keys, s.ledgerTTL, c.arg)
			}
		}
		if _, err := pipe.Exec(ctx); err != nil {
			var rerr goredis.Error
			if !errors.As(err, &rerr) {
				return nil, err
			}
		}
		var again []*commitCall
		for _, c := range send {
			if attempt == 0 && isNoScript(c.cmd.Err()) {
				again = append(again, c)
			}
		}
		send = again
	}
	return calls, nil
}

func isNoScript(err error) bool {
	return err != nil && (errors.Is(err, goredis.ErrNoScript) || goredis.HasErrorPrefix(err, "NOSCRIPT"))
}

// batch is the script arguments of a CommitBatch being built, reused
// across calls.
type batch struct {
	all    msgpack // the groups of a call on one server
	groups []*group
	byID   map[string]*group
	spare  []*group
}

// group is the changesets of one account.
type group struct {
	account string
	fences  string
	idx     []int // the changesets' indexes in the batch
	m       msgpack
	one     []byte // m in an array of its own, for a call of its own
	at      int    // the array header
	countAt int    // the number of changesets
}

var batchPool = sync.Pool{New: func() any { return &batch{byID: map[string]*group{}} }}

// group returns the account's group, starting it with its base.
func (b *batch) group(s *Store, account string) *group {
	if g := b.byID[account]; g != nil {
		return g
	}
	var g *group
	if n := len(b.spare); n > 0 {
		g, b.spare = b.spare[n-1], b.spare[:n-1]
	} else {
		g = &group{}
	}
	k := s.keys(account)
	g.account, g.fences, g.idx = account, k.fences(), g.idx[:0]
	g.m.b, g.m.n = g.m.b[:0], 0
	g.at = g.m.arrayStart()
	g.m.str(k.base)
	g.countAt = len(g.m.b)
	g.m.b = append(g.m.b, 0xce, 0, 0, 0, 0) // set when the group is complete
	g.m.n++
	b.groups = append(b.groups, g)
	b.byID[account] = g
	return g
}

// release returns the batch to the pool, dropping buffers that grew large.
func (b *batch) release() {
	for _, g := range b.groups {
		if cap(g.m.b) <= 1<<20 && cap(g.one) <= 1<<20 {
			b.spare = append(b.spare, g)
		}
	}
	if cap(b.all.b) > 1<<20 {
		b.all.b = nil
	}
	b.groups = b.groups[:0]
	clear(b.byID)
	batchPool.Put(b)
}
