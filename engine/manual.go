package engine

import (
	"context"
	"errors"
	"fmt"

	"github.com/followflow/followflow/access"
	"github.com/followflow/followflow/actions"
	"github.com/followflow/followflow/record"
	"github.com/followflow/followflow/store"
	"github.com/followflow/followflow/trace"
)

// ErrDenied is matched (errors.Is) by every *DeniedError.
var ErrDenied = errors.New("access denied")

// DeniedError is a manual change the acting user may not make; Reason says
// why in words.
type DeniedError struct {
	Reason string
}

func (e *DeniedError) Error() string { return e.Reason }

// Is makes errors.Is(err, ErrDenied) true.
func (e *DeniedError) Is(target error) bool { return target == ErrDenied }

// ManualChange is a follower change a user makes by hand (CLI, API).
type ManualChange struct {
	AccountID string
	Kind      record.Kind
	RecordID  string
	// ActorID is the user making the change; they must be allowed to
	// manage the record's followers (SPEC §1).
	ActorID string
	// Users to add or remove, by id or email, in order.
	Users []string
	// Remove removes instead of adding.
	Remove bool
}

// ChangeFollowers applies a manual change under the follower rules and the
// access rules, recording history, in one commit (re-run on conflict). It
// returns an outcome per user, or a *DeniedError, or store.ErrNotFound when
// the record or the actor does not exist.
func (e *Engine) ChangeFollowers(ctx context.Context, ch ManualChange) ([]trace.UserOutcome, error) {
	st := e.cfg.Store
	actor, err := st.User(ctx, ch.AccountID, ch.ActorID)
	if err != nil {
		return nil, fmt.Errorf("acting user %q: %w", ch.ActorID, err)
	}
	for attempt := 0; ; attempt++ {
		out, err := e.changeOnce(ctx, &actor, ch)
		if errors.Is(err, store.ErrConflict) && attempt < e.cfg.MaxConflictRetries {
			continue
		}
		return out, err
	}
}

func (e *Engine) changeOnce(ctx context.Context, actor *record.User, ch ManualChange) ([]trace.UserOutcome, error) {
	var t tx
	t.reset(ctx, e.cfg.Store, ch.AccountID)
	var (
		followers *[]string
		mark      func()
		subject   access.Subject
	)
	switch ch.Kind {
	case record.KindOpportunity:
		o, err := t.opportunity(ch.RecordID)
		if err != nil {
			return nil, err
		}
		if o == nil {
			return nil, fmt.Errorf("opportunity %q: %w", ch.RecordID, store.ErrNotFound)
		}
		var c *record.Contact
		if o.rec.ContactID != "" {
			ce, err := t.contact(o.rec.ContactID)
			if err != nil {
				return nil, err
			}
			if ce != nil {
				c = &ce.rec
			}
		}
		subject = access.SubjectOfOpportunity(&o.rec, c)
		followers, mark = &o.rec.Followers, func() { o.dirty = true }
	case record.KindContact:
		c, err := t.contact(ch.RecordID)
		if err != nil {
			return nil, err
		}
		if c == nil {
			return nil, fmt.Errorf("contact %q: %w", ch.RecordID, store.ErrNotFound)
		}
		subject = access.SubjectOfContact(&c.rec)
		followers, mark = &c.rec.Followers, func() { c.dirty = true }
	default:
		return nil, fmt.Errorf("records of kind %q have no followers", ch.Kind)
	}
	if d := access.Decide(actor, subject, access.ManageFollowers); !d.Allowed {
		return nil, &DeniedError{Reason: d.Reason}
	}
	now := e.cfg.Clock()
	var out []trace.UserOutcome
	for _, ref := range ch.Users {
		u, err := t.ResolveUser(ctx, ch.AccountID, &actions.UserRef{Ref: ref})
		if err != nil {
			return nil, err
		}
		id := ref
		if u != nil {
			id = u.ID
		}
		var next []string
		var outcome record.Outcome
		switch {
		case !ch.Remove:
			next, outcome = record.AddFollower(*followers, ch.AccountID, u)
		default:
			next, outcome = record.RemoveFollower(*followers, id)
			if outcome == record.NotFollowing && u == nil {
				outcome = record.UnknownUser
			}
		}
		if outcome.Changed() {
			*followers = next
			mark()
		}
		if outcome != record.AlreadyFollowing && outcome != record.NotFollowing {
			*t.AddHistory() = record.HistoryEntry{
				AccountID: ch.AccountID, Kind: ch.Kind, RecordID: ch.RecordID, At: now,
				ActorID: actor.ID, Step: "manual", UserID: id, Outcome: outcome,
			}
		}
		out = append(out, trace.UserOutcome{User: id, Outcome: outcome})
	}
	cs := t.changeset("", nil)
	cs.ProcessedAt = now
	if cs.Empty() {
		return out, nil
	}
	if err := e.cfg.Store.Commit(ctx, cs); err != nil {
		return nil, err
	}
	return out, nil
}
