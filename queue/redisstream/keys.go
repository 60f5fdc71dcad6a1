package redisstream

import "strconv"

// Group is the consumer group of every partition stream.
const Group = "workers"

// Field names of stream entries.
const (
	// fieldEvent holds the event's JSON, in the inbox and in partition
	// streams: the one field a producer writes.
	fieldEvent = "event"
	// fieldInboxID is the id of the inbox entry a partition entry was
	// routed from.
	fieldInboxID = "inbox_id"
	// fieldEnqueuedAt, optional, is when the event was first pushed (RFC
	// 3339), when that is not the time in the entry's id: set by Replay,
	// and copied by the router.
	fieldEnqueuedAt = "enqueued_at"
)

// Fields of a dead-letter entry.
const (
	dlqBody       = "body"
	dlqReason     = "reason"
	dlqPartition  = "partition"
	dlqDeliveries = "deliveries"
	dlqFailedAt   = "failed_at"
	dlqMessageID  = "message_id"
	dlqEnqueuedAt = "enqueued_at"
)

// keys names the keys of one queue (see the package documentation).
type keys struct {
	prefix string
	parts  []partKeys
}

// partKeys are the keys of one partition. They share the hash tag {p<N>},
// so that one script may touch them all on a Redis Cluster.
type partKeys struct {
	stream, lease, epoch, routed string
}

func newKeys(prefix string, partitions int) keys {
	k := keys{prefix: prefix, parts: make([]partKeys, partitions)}
	for n := range partitions {
		base := prefix + ":{p" + strconv.Itoa(n) + "}:"
		k.parts[n] = partKeys{
			stream: base + "stream",
			lease:  base + "lease",
			epoch:  base + "epoch",
			routed: base + "routed",
		}
	}
	return k
}

func (k keys) inbox() string        { return k.prefix + ":inbox" }
func (k keys) dlq() string          { return k.prefix + ":dlq" }
func (k keys) consumers() string    { return k.prefix + ":consumers" }
func (k keys) partitions() string   { return k.prefix + ":partitions" }
func (k keys) routerLease() string  { return k.prefix + ":{router}:lease" }
func (k keys) routerCursor() string { return k.prefix + ":{router}:cursor" }
