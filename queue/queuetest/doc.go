// Package queuetest is the conformance suite of queue.Queue: every backend
// runs Run in its tests and is done when it passes. The suite checks the
// contract written in package queue's doc comments: push order per
// partition, all-or-none pushes, per-record order under several consumers,
// hand-back of unacknowledged messages (on Close, on an abandoned batch, on
// takeover of a dead consumer), lease epochs and fencing, rebalancing,
// blocking fetches, dead letters, stats and the partition function.
//
// It is a non-test package so that backends' tests can import it; it holds
// no backend and no test of its own.
package queuetest
