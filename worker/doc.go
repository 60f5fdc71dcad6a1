// Package worker is the followflow service loop: consumers read batches
// from the queue's partitions, decode each event (a bad one goes to the
// dead letters with its reason), process it with the engine under the
// batch's lease, and acknowledge only after the commit (or in it, when the
// queue is a queue.CommitAcker). Transient failures
// are retried with backoff in place, keeping the partition's order; after
// MaxDeliveries the message is dead-lettered and the partition moves on.
// The worker also runs the stale scanner on an interval, pushing what it
// finds onto the queue.
//
// It does not decide what an event does (package engine) nor how the queue
// stores messages (package queue and its backends).
package worker
