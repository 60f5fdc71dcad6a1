package sqlite

import (
	"fmt"
	"runtime"
	"strings"
	"time"
)

// Config tunes a Store. The zero value is usable: Open applies WithDefaults.
type Config struct {
	// BusyTimeout is how long a statement waits for a lock held by another
	// connection (another process on the same file, typically) before it
	// fails with SQLITE_BUSY; it is rounded up to the millisecond. Default
	// 5s.
	BusyTimeout time.Duration

	// Synchronous is SQLite's synchronous setting, "NORMAL" or "FULL".
	// With the WAL journal, NORMAL loses no committed transaction when the
	// process crashes, but the last transactions before an operating-system
	// crash or a power loss may roll back (the database stays consistent).
	// FULL also keeps those, at the price of an fsync per commit. Default
	// "NORMAL".
	Synchronous string

	// MaxOpenConns caps the connections that serve reads. Write
	// transactions, one at a time per Store (and across processes, one at a
	// time by SQLite's write lock), have one more connection of their own.
	// Default max(4, GOMAXPROCS).
	MaxOpenConns int

	// CacheSizeKiB is SQLite's page cache per connection, in KiB, filled as
	// needed (so up to MaxOpenConns+1 times this in all). Default 16384
	// (16 MiB).
	CacheSizeKiB int

	// CheckpointInterval is the shortest time between two passes of the
	// background checkpointer, which copies the WAL back into the database
	// file after commits so that commits do not do it themselves (see
	// checkpoint.go). Each pass copies every page changed since the last,
	// once, so rarer passes copy less in all. Negative: no background
	// checkpoints; commits then checkpoint every 16 MiB of WAL. Default
	// 200ms.
	CheckpointInterval time.Duration
}

// WithDefaults returns c with every zero field set to its default.
func (c Config) WithDefaults() Config {
	if c.BusyTimeout == 0 {
		c.BusyTimeout = 5 * time.Second
	}
	if c.Synchronous == "" {
		c.Synchronous = "NORMAL"
	}
	if c.MaxOpenConns == 0 {
		c.MaxOpenConns = max(4, runtime.GOMAXPROCS(0))
	}
	if c.CacheSizeKiB == 0 {
		c.CacheSizeKiB = 16384
	}
	if c.CheckpointInterval == 0 {
		c.CheckpointInterval = 200 * time.Millisecond
	}
	return c
}

// Validate reports the first field of c that holds a bad value.
func (c Config) Validate() error {
	switch {
	case c.BusyTimeout < 0:
		return fmt.Errorf("sqlite config: BusyTimeout %v is negative", c.BusyTimeout)
	case !strings.EqualFold(c.Synchronous, "NORMAL") && !strings.EqualFold(c.Synchronous, "FULL"):
		return fmt.Errorf("sqlite config: Synchronous %q is not NORMAL or FULL", c.Synchronous)
	case c.MaxOpenConns < 1:
		return fmt.Errorf("sqlite config: MaxOpenConns %d is less than 1", c.MaxOpenConns)
	case c.CacheSizeKiB < 0:
		return fmt.Errorf("sqlite config: CacheSizeKiB %d is negative", c.CacheSizeKiB)
	}
	return nil
}
