// Package memory is the in-memory store.Store: records, the processed-event
// ledger, follower history, fences and the stale index held in Go maps and
// B-trees behind one sync.RWMutex. The simulator and the engine benchmarks
// use it; nothing survives the process.
//
// It is built for speed: a read is a map lookup and a copy, and a Commit of
// a typical changeset (one record, a history entry, a ledger entry) takes a
// few hundred nanoseconds and allocates only when a map or a history log
// grows.
//
// # Sharing of slices
//
// To stay fast, the store copies records but not their slices:
//
//   - a record returned by a read (Opportunity, Contact,
//     OpportunitiesByContact, StaleCandidates) may share its Tags and
//     Followers with the store and with other readers. Callers must not
//     change a returned record's slices in place; the helpers of package
//     record (AddFollower, RemoveFollower, AddTag, RemoveTag) are
//     copy-on-write and never do.
//   - Commit takes ownership of the slices of the records in the changeset:
//     the caller must not change them in place afterwards.
//
// Load copies the dataset it is given and Export and History return copies
// the caller may change freely.
//
// It does not hold a queue, business rules beyond those Commit checks (see
// store.Store), or any persistence: Close discards nothing and the data lives
// as long as the Store value.
package memory
