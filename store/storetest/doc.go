// Package storetest is the conformance suite of store.Store: the definition
// of a correct backend. Every backend runs it from its own tests,
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store { return memory.New() })
//	}
//
// and a backend is done when the suite is green on it.
//
// The suite checks every clause of the store.Store documentation: Load and
// Export, the reads and their ErrNotFound, Commit with its versions,
// ledger, fences and follower limit (and that a refused commit writes
// nothing: records, versions, history, ledger, fences, stale index),
// history, the stale index, the precision kept for times, and commits from
// many goroutines at once.
//
// What a backend must provide beyond the interface documentation:
//   - Commit checks in the order the documentation lists its errors: a
//     changeset that is fenced and already processed and stale gets
//     ErrFenced; already processed and stale, ErrAlreadyProcessed; stale
//     and over the follower limit, ErrConflict.
//   - Times keep their instant to at least the millisecond, whatever their
//     location; the suite compares times with time.Time.Equal. Fixtures use
//     whole seconds except in the Times tests, which use milliseconds.
//   - Export leaves every Version zero: versions are not part of the data
//     file.
//   - Emails compare without regard to ASCII case (the suite uses no other
//     letters), with no pattern matching (an SQL LIKE would take _ and % as
//     wildcards), and the empty email finds no user.
//   - A refused commit records no fence epoch either ("all of it or
//     nothing"), and an empty changeset under a fence records its epoch.
//   - Concurrent commits to different records never conflict.
//
// What the suite does not assume, so that backends may differ:
//   - whether a read returns slices shared with the store or copies (the
//     suite never changes a returned slice in place, and never changes a
//     committed changeset's slices afterwards);
//   - whether Commit changes the changeset it is given (the suite reads
//     versions and Seq back from the store);
//   - nil versus empty slices (compared as equal);
//   - the values of Seq beyond being positive and increasing within one
//     record's history;
//   - the Location of returned times;
//   - whether History of a record that was never stored is empty or
//     ErrNotFound.
//
// Each subtest calls newStore for a store of its own and runs in parallel
// with the other subtests of its group (t.Parallel), so newStore must be
// safe to call from several goroutines and stores must not share state (a
// Redis backend gives each a unique key prefix). Run closes every store it
// gets with t.Cleanup and fails the subtest when Close returns an error;
// newStore must not close it, but may register cleanups of its own (they
// run after Close).
//
// The package's own tests check the suite itself: they run it against
// wrappers of the memory store that each carry one plausible bug (ignoring
// fences, a ledger shared by accounts, a non-atomic commit, a stale index
// that misses commits, a check-then-act race, …) and expect the named
// subtests to fail, and against a wrapper that differs in every way listed
// above as allowed, and expect it to pass.
//
// This package holds test code only; it is not imported outside tests.
package storetest
