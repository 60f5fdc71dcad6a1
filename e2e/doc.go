// Package e2e holds followflow's end-to-end tests: the real commands, the
// real backends (embedded SQLite and Redis) and worker processes that are
// killed, stopped and resumed. It has no code of its own.
package e2e
