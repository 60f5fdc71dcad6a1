package engine

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/followflow/followflow/conditions"
	"github.com/followflow/followflow/event"
	"github.com/followflow/followflow/record"
)

const day = 24 * time.Hour

// StaleEventID is the deterministic id of the opportunity.stale event for an
// opportunity, a threshold and an episode (SPEC §5). An episode is named by
// the owner and the time the owner-activity clock last restarted, so it
// ends when the owner acts or changes. Any scanner computes the same id, and
// the ledger keeps each stale event single.
func StaleEventID(o *record.Opportunity, days int) string {
	id := fmt.Sprintf("stale:%s:%s:%dd:%s:%d", o.AccountID, o.ID, days, o.OwnerID, o.LastOwnerActivityAt.UnixMilli())
	if len(id) > event.MaxIDLength {
		sum := sha256.Sum256([]byte(id))
		id = "stale:" + hex.EncodeToString(sum[:])
	}
	return id
}

// StaleEvents returns the opportunity.stale events due at now that are not
// processed yet: for each open, owned opportunity and each stale threshold
// of its account's enabled workflows with now - last_owner_activity_at >=
// threshold days. They come in order of opportunity id, then threshold.
// The cost grows with the number of stale opportunities (the store's stale
// index), not with the number of opportunities.
func (e *Engine) StaleEvents(ctx context.Context, now time.Time) ([]*event.Event, error) {
	thresholds := e.set.Load().StaleThresholds()
	if len(thresholds) == 0 {
		return nil, nil
	}
	minDays := 0
	for _, ds := range thresholds {
		if minDays == 0 || ds[0] < minDays {
			minDays = ds[0]
		}
	}
	st := e.cfg.Store
	cands, err := st.StaleCandidates(ctx, now.Add(-time.Duration(minDays)*day), 0)
	if err != nil {
		return nil, fmt.Errorf("scanning for stale opportunities: %w", err)
	}
	var out []*event.Event
	for i := range cands {
		o := &cands[i]
		for _, days := range thresholds[o.AccountID] {
			if now.Sub(o.LastOwnerActivityAt) < time.Duration(days)*day {
				break // thresholds ascend
			}
			id := StaleEventID(o, days)
			done, err := st.Processed(ctx, o.AccountID, id)
			if err != nil {
				return nil, fmt.Errorf("scanning for stale opportunities: %w", err)
			}
			if done {
				continue
			}
			out = append(out, &event.Event{
				ID: id, Type: event.OpportunityStale, AccountID: o.AccountID,
				OccurredAt: now, OpportunityID: o.ID, ContactID: o.ContactID,
				Data: event.Data{
					Days:         days,
					DaysInactive: conditions.DaysBetween(o.LastOwnerActivityAt, now),
					Since:        o.LastOwnerActivityAt,
				},
			})
		}
	}
	slices.SortStableFunc(out, func(a, b *event.Event) int {
		if c := strings.Compare(a.OpportunityID, b.OpportunityID); c != 0 {
			return c
		}
		if c := strings.Compare(a.AccountID, b.AccountID); c != 0 {
			return c
		}
		return cmp.Compare(a.Data.Days, b.Data.Days)
	})
	return out, nil
}
