package sqlitequeue

import (
	"time"

	"github.com/followflow/followflow/queue"
)

// PollOf returns how long c's next blocked Fetch waits before it looks
// for messages of other processes.
func PollOf(c queue.Consumer) time.Duration { return c.(*consumer).poll }
