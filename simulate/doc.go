// Package simulate is the dry run (SPEC §6): it loads a data file into an
// in-memory store, processes events in order exactly as the worker would
// (the same engine), runs the stale scanner before each event at that
// event's time and once more at the end, and reports a trace per processed
// event and the final state. It writes nothing anywhere else.
package simulate
