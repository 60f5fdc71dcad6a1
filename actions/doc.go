// Package actions holds the workflow step kinds (condition, if,
// add_followers, remove_followers, find_opportunity): a registry keyed by
// their YAML name, their typed configs decoded and checked at load, and how
// each runs against the state of one event.
//
// Steps do not read or write a store directly: they go through State, which
// the engine implements over the event's working set, so that every change
// of one event commits atomically. Matching triggers is package triggers'.
package actions
