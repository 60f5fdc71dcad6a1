// Package memory is the in-memory store.Store: records, the processed-event
// ledger, follower history, fences and the stale index, behind one
// sync.RWMutex. The simulator and the engine benchmarks use it; nothing
// outlives the Store value, and Close does nothing.
//
// It is built for speed, which in memory means few cache misses:
//
//   - records and ledger entries are found by a 128-bit hash of (account,
//     id) in open-addressing tables, one cache line a look-up and no visit
//     to the stored strings (two pairs share a hash with probability about
//     n²/2¹²⁹ for n pairs); the ledger keeps only those hashes, 16 bytes an
//     event, in 256 shards that grow on their own;
//   - a record's slot holds the record, its history log and its place in
//     the stale index, so a commit finds all three in one look-up;
//   - history entries of all records go into one append-only log (64 bytes
//     an entry that the garbage collector never scans, plus the event id
//     and detail in a byte arena, the other strings interned), each linked
//     to its record's previous entry;
//   - the stale index keeps slots in one-minute buckets of owner activity,
//     so an owner's activity moves a slot from one bucket to another.
//
// A read is a look-up and a copy of the record, a Commit a handful of
// look-ups under the lock; neither allocates except when the store grows.
// Errors are the bare store sentinels (no wrapping, so a miss allocates
// nothing); callers add context.
//
// # Sharing of slices
//
// To stay fast the store copies records but not their slices:
//
//   - a record returned by a read (Opportunity, Contact,
//     OpportunitiesByContact, StaleCandidates) may share its Tags and
//     Followers with the store and with other readers. Callers must not
//     change a returned record's slices in place; the helpers of package
//     record (AddFollower, RemoveFollower, AddTag, RemoveTag) are
//     copy-on-write and never do.
//   - Commit takes ownership of the slices of the records in the changeset:
//     the caller must not change them in place afterwards
//     (store.Changeset.Reset does not).
//
// Load copies the dataset it is given; Export and History return copies the
// caller may change freely.
//
// # Beyond the store.Store contract
//
//   - Commit refuses, with an error that is none of the store sentinels, a
//     changeset that writes a record twice or names a record, a read or a
//     history entry of another account than its own.
//   - Commit keeps no ProcessedAt: nothing reads it back.
//   - History returns times in UTC (the same instants), and no entries and
//     no error for a record without history, stored or not.
//   - UserByEmail compares emails after strings.ToLower; an empty email
//     finds no user.
//
// It holds no queue and no business rule beyond the checks of Commit.
package memory
