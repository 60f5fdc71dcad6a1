// Package queue defines the durable, partitioned event queue followflow
// workers consume: the Queue and Consumer interfaces, the partition
// function, and dead letters. Events of one record always land in one
// partition, and a partition is consumed by one worker at a time under a
// lease whose epoch fences the worker's commits (store.Fence), so events of
// one record are applied in the order they were pushed however many workers
// run.
//
// Backends live in sub-packages: queue/sqlitequeue (embedded, in the same
// SQLite file as the store) and queue/redisstream (Redis Streams). Both pass
// queue/queuetest. This package does not process events (package worker).
package queue
