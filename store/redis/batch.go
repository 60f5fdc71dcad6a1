package redis

import (
	"context"
	"errors"
	"strings"

	goredis "github.com/redis/go-redis/v9"

	"github.com/followflow/followflow/store"
)

var _ store.BatchCommitter = (*Store)(nil)

// CommitBatch implements store.BatchCommitter: the commit script of every
// changeset, in order, in one pipeline (one round trip). Redis runs the
// scripts one after another, each atomic, so each changeset sees the ones
// before it. A changeset refused by its checks gets its error in errs; the
// others are committed.
func (s *Store) CommitBatch(ctx context.Context, css []*store.Changeset) ([]error, error) {
	if len(css) == 0 {
		return nil, nil
	}
	errs := make([]error, len(css))
	type call struct {
		i   int
		cmd *goredis.Cmd
	}
	calls := make([]call, 0, len(css))
	for attempt := 0; attempt < 2; attempt++ {
		calls = calls[:0]
		pipe := s.client.Pipeline()
		for i, cs := range css {
			if err := checkChangeset(cs); err != nil {
				errs[i] = err
				continue
			}
			keys, args, err := s.commitArgs(cs)
			if err != nil {
				errs[i] = err
				continue
			}
			if err := s.addAccount(ctx, cs.AccountID); err != nil {
				return nil, err
			}
			calls = append(calls, call{i, commitScript.EvalSha(ctx, pipe, keys, args...)})
		}
		if len(calls) == 0 {
			return errs, nil
		}
		_, err := pipe.Exec(ctx)
		noScript := false
		for _, c := range calls {
			if e := c.cmd.Err(); e != nil && strings.HasPrefix(e.Error(), "NOSCRIPT") {
				noScript = true
			}
		}
		if noScript && attempt == 0 {
			// The server lost its script cache (a restart): load and retry.
			// Nothing was applied: every EVALSHA failed before running.
			if err := commitScript.Load(ctx, s.client).Err(); err != nil {
				return nil, err
			}
			continue
		}
		if err != nil {
			var rerr goredis.Error
			if !errors.As(err, &rerr) {
				// A transport error: which scripts ran is unknown.
				return nil, err
			}
		}
		for _, c := range calls {
			if e := c.cmd.Err(); e != nil {
				errs[c.i] = commitErr(css[c.i], e)
			}
		}
		return errs, nil
	}
	return errs, nil
}
