// Package engine processes events: it applies an event's effects to its
// records, runs the workflows the event triggers in order of id, and commits
// everything (records, followers, history, the processed-event ledger) in
// one atomic store commit, re-running the event on fresh state when a
// record it read changed meanwhile. It also holds the stale scanner.
//
// It does not decode events (package event), load workflows (package
// workflow) or consume queues (package worker).
package engine
