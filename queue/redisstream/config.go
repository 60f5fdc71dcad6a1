package redisstream

import (
	"fmt"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/followflow/followflow/queue"
)

// DefaultPrefix is the key prefix used when Config.Prefix is empty.
const DefaultPrefix = "followflow"

// MaxPartitions bounds Config.Partitions.
const MaxPartitions = 4096

// Config configures a Queue. The zero value is valid: every field has a
// default (see WithDefaults).
type Config struct {
	// Prefix starts every key of the queue, followed by a colon (see the
	// package documentation for the keys). Queues with different prefixes
	// share a server without seeing each other. It must not contain '{' or
	// '}', which would change the keys' Redis Cluster hash slot.
	// Default: "followflow".
	Prefix string

	// Partitions is the number of partition streams, 1 to MaxPartitions.
	// It is recorded under <Prefix>:partitions by the first queue to run,
	// and New refuses another number: changing it would move records to
	// other partitions and break their order. Default:
	// queue.DefaultPartitions.
	Partitions int

	// LeaseTTL is how long a lease (of a partition, or of the router) lasts
	// without renewal: how soon a dead worker's partitions are taken over,
	// and how long a consumer that stopped fetching still counts towards the
	// fair share. A consumer renews its leases on every Fetch, Ack and
	// DeadLetter and at least every LeaseTTL/4 while it fetches, so one
	// batch must be processed within LeaseTTL. At least 10ms. Default: 10s.
	LeaseTTL time.Duration

	// MaxLen, when positive, bounds each partition stream approximately:
	// when an acknowledgement finds the stream longer than MaxLen entries,
	// its acknowledged entries are trimmed (XTRIM MINID ~ the oldest entry
	// still pending or undelivered). Entries not yet acknowledged are never
	// trimmed, so a stream with a backlog may be longer. 0 keeps
	// acknowledged entries (nothing is trimmed). The inbox is trimmed behind
	// the router whatever MaxLen says. Default: 0.
	MaxLen int64

	// RouterBatch is the most inbox entries the router moves at once, 1 to
	// 100000. Default: 500.
	RouterBatch int

	// PollInterval is how often a waiting Fetch looks for new entries when
	// the client cannot wait on several streams in one command (a Redis
	// Cluster client, whose partitions live in different hash slots; any
	// client other than a *redis.Client), and how often the router looks at
	// the inbox when it cannot block on it. Default: 50ms.
	PollInterval time.Duration

	// Logger receives what the router does in the background (its errors,
	// dead-lettered inbox entries). Default: disabled.
	Logger zerolog.Logger
}

// WithDefaults returns a copy of c with every zero field set to its
// default.
func (c Config) WithDefaults() Config {
	if c.Prefix == "" {
		c.Prefix = DefaultPrefix
	}
	if c.Partitions == 0 {
		c.Partitions = queue.DefaultPartitions
	}
	if c.LeaseTTL == 0 {
		c.LeaseTTL = 10 * time.Second
	}
	if c.RouterBatch == 0 {
		c.RouterBatch = 500
	}
	if c.PollInterval == 0 {
		c.PollInterval = 50 * time.Millisecond
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
	return fmt.Sprintf("redisstream config: %s: %s", e.Field, e.Problem)
}

// Validate reports the first bad field of c as a *ConfigError. Call it on
// c.WithDefaults(); New does both.
func (c Config) Validate() error {
	bad := func(field, format string, args ...any) error {
		return &ConfigError{Field: field, Problem: fmt.Sprintf(format, args...)}
	}
	switch {
	case c.Prefix == "":
		return bad("Prefix", "must not be empty")
	case strings.ContainsAny(c.Prefix, "{}"):
		return bad("Prefix", "%q must not contain '{' or '}' (they choose the Redis Cluster hash slot)", c.Prefix)
	case c.Partitions < 1 || c.Partitions > MaxPartitions:
		return bad("Partitions", "%d is not between 1 and %d", c.Partitions, MaxPartitions)
	case c.LeaseTTL < 10*time.Millisecond:
		return bad("LeaseTTL", "%v is shorter than 10ms", c.LeaseTTL)
	case c.MaxLen < 0:
		return bad("MaxLen", "%d is negative (0 trims nothing)", c.MaxLen)
	case c.RouterBatch < 1 || c.RouterBatch > 100000:
		return bad("RouterBatch", "%d is not between 1 and 100000", c.RouterBatch)
	case c.PollInterval <= 0:
		return bad("PollInterval", "%v is not positive", c.PollInterval)
	}
	return nil
}
