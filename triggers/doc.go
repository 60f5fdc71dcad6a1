// Package triggers holds the trigger kinds workflows can use (one per event
// type, each with its filters), the compiled Trigger that decides whether an
// event matches and says why not, and the Index that finds, for one event,
// only the workflows that can match it.
//
// It does not load YAML (package workflow) or run steps (package actions).
package triggers
