// Package backend opens the store and queue a command runs on: the
// embedded SQLite database (one file, no server; the default) or Redis
// (shared by many workers on many machines). It holds no logic of its own.
package backend
