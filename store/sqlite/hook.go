package sqlite

import (
	"context"
	"database/sql"

	"github.com/followflow/followflow/store"
)

// CommitHook is work that a caller adds to the write transactions of its
// commits. Commit and CommitBatch, given a context from WithCommitHook, run
// it in their transaction once the changesets are written and before the
// COMMIT, with the changesets that were written (refused ones are left
// out; the hook is not called when none was written). conn is the write
// connection, inside the transaction: what the hook's statements write is
// committed with the changesets or not at all. An error rolls the whole
// transaction back, and the commit fails as a whole. done, when not nil, is
// called once the transaction has committed.
//
// The embedded queue uses it to acknowledge messages in the transaction
// that commits their events (sqlitequeue.Config.InCommit).
type CommitHook func(ctx context.Context, conn *sql.Conn, committed []*store.Changeset) (done func(), err error)

type hookKey struct{}

// WithCommitHook returns a context under which this package's commits run
// h in their write transaction.
func WithCommitHook(ctx context.Context, h CommitHook) context.Context {
	return context.WithValue(ctx, hookKey{}, h)
}

func hookOf(ctx context.Context) CommitHook {
	h, _ := ctx.Value(hookKey{}).(CommitHook)
	return h
}
