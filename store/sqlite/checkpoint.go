package sqlite

import (
	"context"
	"database/sql"
	"time"
)

// The WAL is copied back into the database file (checkpointed) mostly by a
// goroutine of the Store, on a connection of its own, so that commits do
// not wait for it: a checkpoint reads every page the WAL holds, writes it
// into the file and fsyncs both files, which on the commit path (SQLite's
// automatic checkpoint, inside the COMMIT that crosses the threshold) held
// every writer of the process for tens of milliseconds. The background
// pass is PASSIVE: it takes no write lock and runs beside the writers.
//
// What it cannot do alone under a steady stream of commits is let the WAL
// start over from its beginning: SQLite rewinds the WAL only once every
// frame is in the database file, and new commits keep adding frames while
// a pass runs. SQLite's automatic checkpoint, at autocheckpointFrames, still
// does that: by then the background passes have copied all but the frames
// of the last interval, so it is short.

// Frames (pages) of WAL after which a commit checkpoints: 128 MiB of 4 KiB
// pages with the background checkpointer (the WAL file grows to a little
// over that under a steady load), 16 MiB without.
const (
	autocheckpointFrames   = 32000
	noBackgroundCheckpoint = 4000
)

// checkpointLoop runs PASSIVE checkpoints on conn after commits, at most
// one per interval, until the Store is closed; then it closes conn.
func (s *Store) checkpointLoop(conn *sql.Conn, interval time.Duration) {
	defer close(s.ckptDone)
	defer conn.Close()
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-s.closed:
			return
		case <-s.ckptKick:
		}
		// A failure (the file busy with another process's checkpoint,
		// say) is left for the next pass or the commit path's checkpoint.
		conn.ExecContext(context.Background(), "PRAGMA wal_checkpoint(PASSIVE)")
		t.Reset(interval)
		select {
		case <-s.closed:
			return
		case <-t.C:
		}
	}
}

// kickCheckpoint tells the checkpointer that a write transaction committed.
func (s *Store) kickCheckpoint() {
	if s.ckptKick == nil {
		return
	}
	select {
	case s.ckptKick <- struct{}{}:
	default:
	}
}
