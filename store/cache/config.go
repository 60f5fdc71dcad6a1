package cache

import (
	"errors"
	"fmt"
	"time"
)

// Defaults of Config.
const (
	// DefaultMaxRecords is the default of Config.MaxRecords.
	DefaultMaxRecords = 100_000
	// DefaultMaxUsers is the default of Config.MaxUsers.
	DefaultMaxUsers = 10_000
	// DefaultUserTTL is the default of Config.UserTTL.
	DefaultUserTTL = 5 * time.Second
)

// Config configures a Store.
type Config struct {
	// MaxRecords bounds the number of opportunities and contacts cached
	// together. When full, a cached record not read recently is evicted
	// (CLOCK, per shard). Default DefaultMaxRecords (100,000); must not be
	// negative.
	MaxRecords int
	// MaxUsers bounds the number of user answers cached (by id and by
	// email, found or not). When full, an expired entry or else an
	// arbitrary one is evicted. Default DefaultMaxUsers (10,000); must not
	// be negative.
	MaxUsers int
	// UserTTL is how long an answer of User or UserByEmail, found or not,
	// is served from the cache. It bounds how soon a change to users loaded
	// by another process (a deactivated user, a new one) is seen here.
	// Default DefaultUserTTL (5s); must not be negative.
	UserTTL time.Duration
	// Clock gives the time for UserTTL. Default time.Now; tests set a fake.
	Clock func() time.Time
}

// WithDefaults returns the config with defaults filled in for zero fields.
func (c Config) WithDefaults() Config {
	if c.MaxRecords == 0 {
		c.MaxRecords = DefaultMaxRecords
	}
	if c.MaxUsers == 0 {
		c.MaxUsers = DefaultMaxUsers
	}
	if c.UserTTL == 0 {
		c.UserTTL = DefaultUserTTL
	}
	if c.Clock == nil {
		c.Clock = time.Now
	}
	return c
}

// Validate names the first bad field of a config that has had its
// defaults filled in.
func (c Config) Validate() error {
	switch {
	case c.MaxRecords <= 0:
		return fmt.Errorf("cache config: MaxRecords must be positive, got %d", c.MaxRecords)
	case c.MaxUsers <= 0:
		return fmt.Errorf("cache config: MaxUsers must be positive, got %d", c.MaxUsers)
	case c.UserTTL <= 0:
		return fmt.Errorf("cache config: UserTTL must be positive, got %v", c.UserTTL)
	case c.Clock == nil:
		return errors.New("cache config: Clock is required")
	}
	return nil
}
