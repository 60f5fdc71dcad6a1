package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/followflow/followflow/record"
)

// ErrNotFound is returned by a read for a record that does not exist.
var ErrNotFound = errors.New("not found")

// ErrConflict is returned by Commit when a record the changeset read has
// changed since (its version moved on). The caller re-runs the event on
// fresh state.
var ErrConflict = errors.New("conflict: a record changed since it was read")

// ErrAlreadyProcessed is returned by Commit when the changeset's event id is
// already in the processed-event ledger. Nothing was written.
var ErrAlreadyProcessed = errors.New("event already processed")

// ErrFenced is returned by Commit when the changeset's fence epoch is older
// than one already committed for the same account and partition: the
// committer lost its lease to a newer worker. Nothing was written.
var ErrFenced = errors.New("fenced: a newer lease holder has committed")

// ErrFollowerLimit is returned by Commit when a written record would have
// more than record.MaxFollowers followers. Nothing was written.
var ErrFollowerLimit = errors.New("follower limit exceeded")

// Reader is the read side of a store. Every read sees committed state.
type Reader interface {
	// Accounts returns every account loaded into the store, in order of id.
	Accounts(ctx context.Context) ([]record.Account, error)
	// Account returns the account, or ErrNotFound.
	Account(ctx context.Context, id string) (record.Account, error)
	// User returns the user of the account, or ErrNotFound (also for a
	// user of another account).
	User(ctx context.Context, accountID, userID string) (record.User, error)
	// UserByEmail finds a user of the account by email, compared without
	// regard to case, or returns ErrNotFound.
	UserByEmail(ctx context.Context, accountID, email string) (record.User, error)
	// Opportunity returns the opportunity with its Version, or ErrNotFound.
	Opportunity(ctx context.Context, accountID, id string) (record.Opportunity, error)
	// Contact returns the contact with its Version, or ErrNotFound.
	Contact(ctx context.Context, accountID, id string) (record.Contact, error)
	// OpportunitiesByContact returns the opportunities of the account whose
	// contact_id is contactID, in order of id; none for "", which names no
	// contact.
	OpportunitiesByContact(ctx context.Context, accountID, contactID string) ([]record.Opportunity, error)
	// Processed reports whether the event id is in the processed-event
	// ledger of the account.
	Processed(ctx context.Context, accountID, eventID string) (bool, error)
}

// Store is a backend: records, the processed-event ledger, follower history
// and the stale index. Implementations are safe for concurrent use.
type Store interface {
	Reader

	// Commit applies a changeset atomically: all of it or nothing. It
	// checks, in this order, and returns the first failure: ErrFenced when
	// cs.Fence is older than the newest fence epoch committed for its
	// account and partition; ErrAlreadyProcessed when cs.EventID is already
	// in the account's ledger; ErrConflict when any version in cs.Reads or
	// of a written record is not the stored one (0: the record must not
	// exist); ErrFollowerLimit when a written record has more than
	// record.MaxFollowers followers. A refused commit records nothing, not
	// even its fence epoch. On success each written record's version is
	// bumped by one, history entries are appended with increasing Seq per
	// record, the event id (if any) enters the ledger, and cs.Fence's epoch
	// becomes the newest for its account and partition. Commit does not
	// change cs, and may keep the slices of its records (callers never
	// change a record's slices in place). A changeset that crosses accounts
	// or writes one record twice is invalid and refused with an error that
	// is none of these.
	Commit(ctx context.Context, cs *Changeset) error

	// History returns the history of one record, oldest first.
	History(ctx context.Context, accountID string, kind record.Kind, id string) ([]record.HistoryEntry, error)

	// StaleCandidates returns the open, owned opportunities whose
	// last_owner_activity_at is at or before cutoff, in order of
	// (last_owner_activity_at, account, id), at most limit of them (limit <= 0:
	// no limit). Its cost grows with the number returned, not with the
	// number of opportunities stored.
	StaleCandidates(ctx context.Context, cutoff time.Time, limit int) ([]record.Opportunity, error)

	// Load imports a dataset: accounts and users are upserted; records are
	// upserted with their followers, each written record's version bumped.
	// The dataset must have passed record.Dataset.Check.
	Load(ctx context.Context, d *record.Dataset) error

	// Export returns every record of the store, sorted (record.Dataset.Sort),
	// with Version zero.
	Export(ctx context.Context) (*record.Dataset, error)

	// Close releases the store's resources.
	Close() error
}

// Ref names a record and the version a changeset read it at (0: the record
// did not exist).
type Ref struct {
	Kind      record.Kind
	AccountID string
	ID        string
	Version   int64
}

// Changeset is the effect of one event (or one manual change): the records
// it writes, the history it appends and the ledger entry that marks the
// event processed, committed together or not at all.
type Changeset struct {
	// AccountID is the account of every record the changeset reads or
	// writes; a changeset never crosses accounts.
	AccountID string
	// Fence, when set, is the lease under which the changeset's event was
	// processed; see Store.Commit and ErrFenced.
	Fence *Fence
	// EventID enters the processed-event ledger; empty for a manual change.
	EventID string
	// ProcessedAt is when the event was processed (ledger metadata).
	ProcessedAt time.Time
	// Reads are records the changeset's decisions depend on but does not
	// write; their versions must still be current at commit.
	Reads []Ref
	// Opportunities and Contacts are the new full states of the written
	// records. Their Version is the version they were read at (0 for a new
	// record) and must still be current at commit.
	Opportunities []record.Opportunity
	Contacts      []record.Contact
	// History entries to append; Seq is assigned by the store.
	History []record.HistoryEntry
}

// Fence is a queue partition lease: the partition and the lease's epoch,
// which grows by one each time the partition changes hands.
type Fence struct {
	Partition int
	Epoch     int64
}

// Reset empties the changeset for reuse, keeping its allocations.
func (cs *Changeset) Reset() {
	cs.AccountID = ""
	cs.Fence = nil
	cs.EventID = ""
	cs.ProcessedAt = time.Time{}
	cs.Reads = cs.Reads[:0]
	clear(cs.Opportunities)
	cs.Opportunities = cs.Opportunities[:0]
	clear(cs.Contacts)
	cs.Contacts = cs.Contacts[:0]
	clear(cs.History)
	cs.History = cs.History[:0]
}

// Empty reports whether the changeset writes nothing at all, ledger included.
func (cs *Changeset) Empty() bool {
	return cs.EventID == "" && len(cs.Opportunities) == 0 && len(cs.Contacts) == 0 && len(cs.History) == 0
}

// BatchCommitter is implemented by stores that can commit many changesets
// in one round trip (one SQLite transaction, one Redis pipeline). Each
// changeset is still applied all or nothing, in order, each seeing the ones
// before it: errs[i] is what Commit(css[i]) would have returned at that
// point. err reports a failure of the batch itself (nothing is known to be
// committed then; the caller re-runs every changeset).
type BatchCommitter interface {
	CommitBatch(ctx context.Context, css []*Changeset) (errs []error, err error)
}

// EventReader is implemented by stores that read an event's opportunity
// and whether the event is already in the ledger in one call (in memory,
// two look-ups whose cache misses overlap). The opportunity is as
// Reader.Opportunity returns it, or ErrNotFound. processed is a hint: the
// ledger check of Commit still decides.
type EventReader interface {
	OpportunityForEvent(ctx context.Context, accountID, opportunityID, eventID string) (o record.Opportunity, processed bool, err error)
}

// UsersVersioner is implemented by stores that tell cheaply whether any
// user changed: UsersVersion returns a number that changes with every
// change of users, to one no store of the process returned before. A
// caller may keep users it read while the number stays the same, reading
// it before the users.
type UsersVersioner interface {
	UsersVersion() uint64
}

// Key names a record of an account.
type Key struct {
	AccountID string
	ID        string
}

// MultiReader is implemented by stores that read many opportunities in one
// round trip. found[i] reports whether keys[i] exists; when it does, opps[i]
// is it, with its Version.
type MultiReader interface {
	ReadOpportunities(ctx context.Context, keys []Key) (opps []record.Opportunity, found []bool, err error)
}

// Check refuses a changeset that is invalid whatever is stored: one that
// names a record, a read or a history entry of another account than
// cs.AccountID, writes one record twice, or reads or has history of a kind
// of record without followers. Backends call it first; its error is none
// of the sentinels above.
func (cs *Changeset) Check() error {
	for i := range cs.Opportunities {
		o := &cs.Opportunities[i]
		if o.AccountID != cs.AccountID {
			return fmt.Errorf("changeset of account %q writes opportunity %q of account %q", cs.AccountID, o.ID, o.AccountID)
		}
		for j := range i {
			if cs.Opportunities[j].ID == o.ID {
				return fmt.Errorf("changeset writes opportunity %q twice", o.ID)
			}
		}
	}
	for i := range cs.Contacts {
		c := &cs.Contacts[i]
		if c.AccountID != cs.AccountID {
			return fmt.Errorf("changeset of account %q writes contact %q of account %q", cs.AccountID, c.ID, c.AccountID)
		}
		for j := range i {
			if cs.Contacts[j].ID == c.ID {
				return fmt.Errorf("changeset writes contact %q twice", c.ID)
			}
		}
	}
	for i := range cs.Reads {
		r := &cs.Reads[i]
		if r.AccountID != cs.AccountID {
			return fmt.Errorf("changeset of account %q reads %s %q of account %q", cs.AccountID, r.Kind, r.ID, r.AccountID)
		}
		if r.Kind != record.KindOpportunity && r.Kind != record.KindContact {
			return fmt.Errorf("changeset reads %q of unknown kind %q", r.ID, r.Kind)
		}
	}
	for i := range cs.History {
		h := &cs.History[i]
		if h.AccountID != cs.AccountID {
			return fmt.Errorf("changeset of account %q has history for %s %q of account %q", cs.AccountID, h.Kind, h.RecordID, h.AccountID)
		}
		if h.Kind != record.KindOpportunity && h.Kind != record.KindContact {
			return fmt.Errorf("changeset has history for %q of unknown kind %q", h.RecordID, h.Kind)
		}
	}
	return nil
}
