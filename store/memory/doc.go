// Package memory is the in-memory store.Store: records, the processed-event
// ledger, follower history, fences and the stale index, held in Go maps and
// B-trees behind one sync.RWMutex. The simulator and the engine benchmarks
// use it; nothing outlives the Store value, and Close does nothing.
//
// It is built for speed: a read is a map lookup and a copy of the record, a
// Commit is a handful of map operations under the lock, and neither
// allocates except when the store grows. Errors are the bare store
// sentinels (no wrapping, so a miss allocates nothing); callers add context.
// The store keeps everything for its whole life, compactly: a ledger entry
// is a 128-bit hash of the account and event id (16 bytes; two events
// collide with probability about n²/2¹²⁹ for n events), a history entry 56
// bytes plus its event id and detail, neither scanned by the garbage
// collector.
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
