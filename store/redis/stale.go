package redis

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/followflow/followflow/record"
	"github.com/followflow/followflow/store"
)

// StaleCandidates implements store.Store. It reads the global set of
// accounts, then, in pipelines, the first limit members of each
// account's stale index up to cutoff (ZRANGEBYSCORE … LIMIT), merges them
// in order of (score, account, id) and reads the records of the first
// limit of them in more pipelines. Its cost grows with the number of
// accounts and the number returned, not with the number of opportunities.
//
// Scores are milliseconds, so opportunities whose times differ below the
// millisecond are told apart from the records themselves: the results are
// sorted by exact last_owner_activity_at. A record that changed between the
// index read and the record read is checked again and left out when it is
// no longer a candidate.
//
// The index is lazy (see luaPutOpp): a record whose owner was active since
// its score was written is found early. Such a record is left out and its
// score moved to its activity (rescoreScript); then, with a limit, the
// indexes are read again, since it may have taken the place of a candidate
// behind it.
func (s *Store) StaleCandidates(ctx context.Context, cutoff time.Time, limit int) ([]record.Opportunity, error) {
	for pass := 1; ; pass++ {
		out, late, err := s.staleOnce(ctx, cutoff, limit)
		if err != nil || len(late) == 0 {
			return out, err
		}
		if err := s.rescore(ctx, late); err != nil {
			return nil, err
		}
		if limit <= 0 || pass == maxStalePasses {
			return out, nil
		}
	}
}

// maxStalePasses bounds the reads of one StaleCandidates: a pass moves the
// scores of the records it found early, so without writes meanwhile the
// second pass finds none.
const maxStalePasses = 8

// rescore moves the stale scores of opps to their records' activity, in
// pipelines: EVALSHA, then EVAL again when the server lost its scripts.
func (s *Store) rescore(ctx context.Context, opps []record.Opportunity) error {
	for start := 0; start < len(opps); start += pipelineBatch {
		var err error
		for attempt := 0; attempt < 2; attempt++ {
			pipe := s.client.Pipeline()
			for _, o := range opps[start:min(start+pipelineBatch, len(opps))] {
				k := s.keys(o.AccountID)
				keys := []string{k.opp(o.ID), k.stale()}
				if attempt == 0 {
					rescoreScript.EvalSha(ctx, pipe, keys, o.ID, o.Version, staleScore(&o))
				} else {
					rescoreScript.Eval(ctx, pipe, keys, o.ID, o.Version, staleScore(&o))
				}
			}
			if _, err = pipe.Exec(ctx); !isNoScript(err) {
				break
			}
		}
		if err != nil {
			return fmt.Errorf("redis store: moving stale scores: %w", err)
		}
	}
	return nil
}

// staleOnce is one pass of StaleCandidates: the candidates, and late, the
// records the index held up to cutoff whose owner was active after it.
func (s *Store) staleOnce(ctx context.Context, cutoff time.Time, limit int) (out, late []record.Opportunity, err error) {
	accounts, err := s.client.SMembers(ctx, s.accountsKey()).Result()
	if err != nil {
		return nil, nil, fmt.Errorf("redis store: reading accounts: %w", err)
	}
	maxScore := strconv.FormatInt(cutoff.UnixMilli(), 10)

	queries := make([]staleQuery, len(accounts))
	for i, acc := range accounts {
		queries[i] = staleQuery{account: acc, min: "-inf", max: maxScore, limit: limit}
	}
	cands, err := s.staleRange(ctx, queries)
	if err != nil {
		return nil, nil, err
	}
	if limit > 0 {
		// An account whose range was cut at limit may hold more members
		// with the score of its last one; they may come first by exact
		// time, so read them too.
		var ties []staleQuery
		var at []int
		for i, c := range cands {
			if len(c) == limit {
				last := c[len(c)-1].score
				ties = append(ties, staleQuery{account: accounts[i], min: last, max: last})
				at = append(at, i)
			}
		}
		if len(ties) > 0 {
			more, err := s.staleRange(ctx, ties)
			if err != nil {
				return nil, nil, err
			}
			for j, i := range at {
				cands[i] = appendNew(cands[i], more[j])
			}
		}
	}

	var all []staleCand
	for _, c := range cands {
		all = append(all, c...)
	}
	slices.SortFunc(all, compareCands)
	if limit > 0 && len(all) > limit {
		// Keep the first limit and every candidate with the same score as
		// the last kept: exact times may reorder them.
		last := all[limit-1].ms
		n := limit
		for n < len(all) && all[n].ms == last {
			n++
		}
		all = all[:n]
	}

	out, err = s.readOpps(ctx, all)
	if err != nil {
		return nil, nil, err
	}
	for _, o := range out {
		// Late: a score that moves past the cutoff. (One after the
		// cutoff within its millisecond keeps its score, and is left out
		// below each time.)
		if o.IsStaleCandidate() && o.LastOwnerActivityAt.UnixMilli() > cutoff.UnixMilli() {
			late = append(late, o)
		}
	}
	out = slices.DeleteFunc(out, func(o record.Opportunity) bool {
		return !o.IsStaleCandidate() || o.LastOwnerActivityAt.After(cutoff)
	})
	slices.SortFunc(out, func(a, b record.Opportunity) int {
		if c := a.LastOwnerActivityAt.Compare(b.LastOwnerActivityAt); c != 0 {
			return c
		}
		if c := strings.Compare(a.AccountID, b.AccountID); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, late, nil
}

// staleCand is a member of an account's stale index.
type staleCand struct {
	account, id string
	score       string // as Redis returned it
	ms          float64
}

func compareCands(a, b staleCand) int {
	switch {
	case a.ms < b.ms:
		return -1
	case a.ms > b.ms:
		return 1
	}
	if c := strings.Compare(a.account, b.account); c != 0 {
		return c
	}
	return strings.Compare(a.id, b.id)
}

// staleQuery asks for the members of an account's stale index with a score
// in [min, max], at most limit of them (limit <= 0: all).
type staleQuery struct {
	account, min, max string
	limit             int
}

// staleRange runs the queries in pipelines and returns the members each
// found.
func (s *Store) staleRange(ctx context.Context, queries []staleQuery) ([][]staleCand, error) {
	out := make([][]staleCand, len(queries))
	for start := 0; start < len(queries); start += pipelineBatch {
		end := min(start+pipelineBatch, len(queries))
		pipe := s.client.Pipeline()
		cmds := make([]*goredis.ZSliceCmd, 0, end-start)
		for _, q := range queries[start:end] {
			by := &goredis.ZRangeBy{Min: q.min, Max: q.max}
			if q.limit > 0 {
				by.Count = int64(q.limit)
			}
			cmds = append(cmds, pipe.ZRangeByScoreWithScores(ctx, s.keys(q.account).stale(), by))
		}
		if _, err := pipe.Exec(ctx); err != nil {
			return nil, fmt.Errorf("redis store: reading stale indexes: %w", err)
		}
		for i, cmd := range cmds {
			acc := queries[start+i].account
			for _, z := range cmd.Val() {
				id, _ := z.Member.(string)
				out[start+i] = append(out[start+i], staleCand{
					account: acc, id: id, ms: z.Score,
					score: strconv.FormatFloat(z.Score, 'f', -1, 64),
				})
			}
		}
	}
	return out, nil
}

// appendNew appends the candidates of more that are not in cands.
func appendNew(cands, more []staleCand) []staleCand {
	n := len(cands)
	for _, m := range more {
		if !slices.ContainsFunc(cands[:n], func(c staleCand) bool { return c.id == m.id }) {
			cands = append(cands, m)
		}
	}
	return cands
}

// readOpps reads the opportunities named by cands, in pipelines, leaving
// out those that no longer exist.
func (s *Store) readOpps(ctx context.Context, cands []staleCand) ([]record.Opportunity, error) {
	out := make([]record.Opportunity, 0, len(cands))
	for start := 0; start < len(cands); start += pipelineBatch {
		end := min(start+pipelineBatch, len(cands))
		pipe := s.client.Pipeline()
		cmds := make([]*goredis.SliceCmd, 0, end-start)
		for _, c := range cands[start:end] {
			cmds = append(cmds, pipe.HMGet(ctx, s.keys(c.account).opp(c.id), "v", "d"))
		}
		if _, err := pipe.Exec(ctx); err != nil {
			return nil, fmt.Errorf("redis store: reading opportunities: %w", err)
		}
		for i, cmd := range cmds {
			c := cands[start+i]
			vals := cmd.Val()
			o, err := decodeOpp(vals[0], vals[1], c.account, c.id)
			if err != nil {
				if isNotFound(err) {
					continue
				}
				return nil, err
			}
			out = append(out, o)
		}
	}
	return out, nil
}

// pipelineBatch bounds the commands sent in one pipeline.
const pipelineBatch = 1000

func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }
