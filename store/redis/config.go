package redis

import (
	"fmt"
	"strings"
	"time"
)

// DefaultPrefix is the key prefix used when Config.Prefix is empty.
const DefaultPrefix = "followflow"

// Config configures a Store. The zero value is valid: every field has a
// default.
type Config struct {
	// Prefix starts every key the store writes, followed by a colon:
	// "<Prefix>:{<account>}:opp:<id>" and so on (see the package
	// documentation). Stores with different prefixes share a server without
	// seeing each other's data. It must not contain '{' or '}', which would
	// change the keys' Redis Cluster hash slot. Default: "followflow".
	Prefix string

	// LedgerTTL is how long an entry of the processed-event ledger is kept:
	// an event redelivered after that is processed again. It should exceed
	// the longest time an event can wait in the queue. 0 keeps entries
	// forever; a positive value must be at least a millisecond.
	// Default: 0.
	LedgerTTL time.Duration
}

// WithDefaults returns a copy of c with the defaults filled in.
func (c Config) WithDefaults() Config {
	if c.Prefix == "" {
		c.Prefix = DefaultPrefix
	}
	return c
}

// ConfigError is a bad Config field.
type ConfigError struct {
	// Field is the name of the bad field, as in the Config struct.
	Field string
	// Problem says what is wrong with it.
	Problem string
}

func (e *ConfigError) Error() string {
	return fmt.Sprintf("redis store config: %s: %s", e.Field, e.Problem)
}

// Validate reports the first bad field of c as a *ConfigError. Call it on
// c.WithDefaults(); New does both.
func (c Config) Validate() error {
	switch {
	case c.Prefix == "":
		return &ConfigError{Field: "Prefix", Problem: "must not be empty"}
	case strings.ContainsAny(c.Prefix, "{}"):
		return &ConfigError{Field: "Prefix", Problem: fmt.Sprintf("%q must not contain '{' or '}' (they choose the Redis Cluster hash slot)", c.Prefix)}
	case c.LedgerTTL < 0:
		return &ConfigError{Field: "LedgerTTL", Problem: fmt.Sprintf("%v is negative (0 keeps ledger entries forever)", c.LedgerTTL)}
	case c.LedgerTTL > 0 && c.LedgerTTL < time.Millisecond:
		return &ConfigError{Field: "LedgerTTL", Problem: fmt.Sprintf("%v is less than a millisecond, the unit Redis expires keys in", c.LedgerTTL)}
	}
	return nil
}
