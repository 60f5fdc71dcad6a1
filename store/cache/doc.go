// Package cache is a read-through record cache in front of any store.Store.
//
// New wraps a backend; the result is itself a store.Store (and a
// store.BatchCommitter) that the engine uses in place of the backend. It
// makes the engine's reads of opportunities, contacts and users nearly free
// on backends where a read costs a query (store/sqlite) or a network round
// trip (store/redis), and stays correct when many workers, each with a
// cache of its own, commit to one backend: every commit still goes to the
// backend, which checks the version of every record the changeset read or
// wrote.
//
// # What is cached
//
//   - Opportunity and Contact: positive answers only, with their Version,
//     until evicted or invalidated. A record that is not found is not
//     cached: another worker may create it at any moment. At most
//     Config.MaxRecords records are kept; a CLOCK sweep (an approximation of
//     least recently used that costs a hit no lock write) picks the victim.
//   - User and UserByEmail: positive and negative answers, for
//     Config.UserTTL. Users change only through Load, so UserTTL bounds how
//     long after another process's Load (a user deactivated, say) this cache
//     may still answer from the earlier data. A Load through this Store
//     drops every cached user at once. Emails are cached as given: two
//     spellings of one address are two entries, each answered by the
//     backend's own comparison.
//   - Nothing else: Accounts, Account, OpportunitiesByContact, Processed,
//     History, StaleCandidates and Export always go to the backend.
//
// # How it stays correct
//
// A cached record may be older than the backend's when another worker has
// committed since. The engine puts the version of every record it read into
// its changeset, so such a commit fails with store.ErrConflict; the cache
// then drops every record that changeset read or wrote, and the engine's
// re-run reads them fresh. After any failed commit (conflict, fenced,
// already processed, follower limit, an I/O error) the same happens. After
// a successful commit each written record is cached as the backend now
// holds it: the changeset's copy with its version plus one.
//
// Within one Store, the cache never goes back in time: a record is replaced
// only by a higher version, and an answer read from the backend before an
// invalidation (or a Load) is not cached after it. So a worker always reads
// back its own commits.
//
// # Sharing of slices
//
// As with store/memory, a record returned by a read may share its Tags and
// Followers with the cache and with other readers, and Commit keeps the
// slices of the records it is given: callers must not change them in place
// (record's copy-on-write helpers never do). Cached slices have no spare
// capacity, so an append always copies.
//
// # What it does not do
//
// It does not share anything between processes or Stores (no global state),
// it does not make a backend's times more precise (a record is read back
// as it was committed until it is evicted, then as the backend stores it),
// and it adds no check of its own to Commit.
package cache
