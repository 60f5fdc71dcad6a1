// Package sqlitequeue is the embedded, default backend of queue.Queue: the
// queue lives in tables of the SQLite database file that also holds the
// store (store/sqlite), so one machine needs no server. Several processes
// on that machine (a `followflow push` and any number of `followflow run`
// workers) may share the file: leases, takeover and fencing go through the
// database, in write transactions that take SQLite's write lock at their
// first statement and wait for it under busy_timeout.
//
// Tables, all named queue_*: queue_messages holds the messages not yet
// acknowledged, keyed by (partition, seq), seq numbering them in push order
// from a counter in queue_meta; an acknowledgement deletes them. Keyed so,
// a partition's messages sit together and a batch touches few pages.
// queue_leases holds one lease per partition: owner, epoch (one more on
// every acquisition: the batches' store.Fence), expiry, and the largest seq
// delivered, which implies each message's first delivery without writing
// the message. queue_consumers registers live consumers by heartbeat, so
// that each takes its fair share, ceil(partitions / live consumers),
// acquiring free or expired leases and handing extras back.
// queue_dead_letters holds dead letters. queue_meta keeps the schema
// version, the number of partitions and the seq counter; the store's PRAGMA
// user_version is left alone.
//
// A Fetch renews and rebalances the consumer's leases every LeaseTTL/3,
// picks a held partition with messages (they take turns), and reads its
// oldest messages (before its write transaction, which only claims them),
// counting a delivery for each, under the lease: a new
// holder starts from the oldest message not acknowledged, so what a dead or
// closed holder left comes first. Ack and DeadLetter check the lease in
// their transaction and return queue.ErrLeaseLost when it has changed
// hands. With Config.InCommit (backend.Open sets it), consumers are
// queue.CommitAckers: the worker's commits acknowledge their events'
// messages in their own transaction, with the same lease check, and Ack
// is left with the rest. A blocked Fetch is woken at once by pushes through the same
// *Queue and polls for those of other processes every PollInterval.
//
// This package does not open the database (store/sqlite does) nor process
// messages (package worker).
package sqlitequeue
