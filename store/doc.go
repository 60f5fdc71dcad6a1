// Package store defines how followflow keeps its records: the Store
// interface every backend implements, the Changeset that carries one event's
// effects into a single atomic commit, and the errors a backend returns.
//
// Backends live in sub-packages (store/memory, store/sqlite, store/redis) and
// all pass the same conformance suite, store/storetest. This package holds
// no backend and no business rule beyond what a commit must check.
package store
