// Package bench measures followflow end to end on a real backend: it
// generates a workload (accounts, users, opportunities, contacts,
// workflows and a stream of events in a chosen mix), loads the data with
// Store.Load, pushes the events with Queue.Push from a producer goroutine
// (as fast as possible or at a given rate) and lets worker.Worker consume,
// process and acknowledge them. It reports throughput (applied events per
// second from the first push to the last commit), push-to-commit latency
// percentiles, CPU time per event and peak RSS.
//
// In the same run and with the same client settings it measures a
// baseline, the queue with no engine behind it: on Redis a bare XADD,
// XREADGROUP, XACK loop on a stream of its own; on SQLite the same rows
// through sqlitequeue (Push, Fetch, Ack) in a fresh database file. The
// ratio engine / baseline says how much of the transport's capacity the
// engine keeps. Sweep runs both at several worker counts or batch sizes
// and SVG draws the result.
//
// Stale measures one stale scan (engine.StaleEvents) over stores of
// different sizes holding the same number of stale opportunities: its cost
// must follow the stale ones, not all of them.
//
// The command line is `followflow bench` (package cli); this package
// writes nothing but its report, and deletes what it created (database
// files, Redis keys under its prefix) unless told to keep it.
package bench
