package queue

import (
	"context"
	"errors"
	"hash/fnv"
	"time"

	"github.com/followflow/followflow/event"
	"github.com/followflow/followflow/store"
)

// DefaultPartitions is the default number of partitions.
const DefaultPartitions = 16

// ErrLeaseLost is returned by Consumer methods when the consumer no longer
// holds the batch's partition.
var ErrLeaseLost = errors.New("partition lease lost")

// Partition returns the partition of a record: FNV-1a (32 bit) of the
// account id, a zero byte and the record id, modulo n. It is stable across
// versions and languages, so a producer may compute it itself.
func Partition(accountID, recordID string, n int) int {
	h := fnv.New32a()
	h.Write([]byte(accountID))
	h.Write([]byte{0})
	h.Write([]byte(recordID))
	return int(h.Sum32() % uint32(n))
}

// PartitionOf returns the partition of an event: that of the record it
// concerns (its opportunity, or its contact for contact events).
func PartitionOf(ev *event.Event, n int) int {
	_, id := ev.RecordKey()
	return Partition(ev.AccountID, id, n)
}

// Message is one queued event.
type Message struct {
	// ID is the backend's id of the message (a stream entry id, a row id).
	ID string
	// Body is the event's JSON as pushed.
	Body []byte
	// Deliveries counts the deliveries of this message, this one included.
	Deliveries int
	// EnqueuedAt is when the message was pushed: an event's default
	// occurred_at.
	EnqueuedAt time.Time
}

// Batch is messages of one partition, in push order, read under a lease.
type Batch struct {
	Partition int
	// Fence is the lease the batch was read under; commits carry it.
	Fence    store.Fence
	Messages []Message
}

// DeadLetter is a message that could not be processed, with why.
type DeadLetter struct {
	ID         string    `json:"id"`
	Body       []byte    `json:"-"`
	Reason     string    `json:"reason"`
	Partition  int       `json:"partition"`
	Deliveries int       `json:"deliveries"`
	FailedAt   time.Time `json:"failed_at"`
}

// PartitionStats describes one partition for monitoring.
type PartitionStats struct {
	Partition int
	// Lag is the number of messages not yet acknowledged.
	Lag int64
	// Owner is the consumer holding the lease, if any.
	Owner string
}

// Queue is a durable, partitioned event queue. Implementations are safe for
// concurrent use.
type Queue interface {
	// Push appends event bodies in order, atomically: all or none. Each body
	// must be a valid event (the caller decoded it); ev gives its partition.
	Push(ctx context.Context, events []*event.Event, bodies [][]byte) error
	// Consumer returns a new consumer (one worker) with a unique id.
	Consumer(ctx context.Context, id string) (Consumer, error)
	// DeadLetters lists up to limit dead letters, oldest first (limit <= 0:
	// all).
	DeadLetters(ctx context.Context, limit int) ([]DeadLetter, error)
	// Replay pushes the named dead letters (all when ids is empty) back onto
	// the queue and removes them from the dead letters. It returns how many.
	Replay(ctx context.Context, ids []string) (int, error)
	// Purge removes the named dead letters (all when ids is empty).
	Purge(ctx context.Context, ids []string) (int, error)
	// Stats describes every partition.
	Stats(ctx context.Context) ([]PartitionStats, error)
	// Partitions returns the number of partitions.
	Partitions() int
	// Close releases the queue's resources.
	Close() error
}

// Consumer reads batches of the partitions it holds. It is used by one
// goroutine at a time.
type Consumer interface {
	// Fetch returns up to max messages of one partition the consumer holds,
	// in order, waiting up to block for some; it returns nil when there are
	// none. It acquires and renews leases as needed (a partition taken over
	// from a dead consumer first yields the messages that consumer had not
	// acknowledged). Messages stay pending until acknowledged.
	Fetch(ctx context.Context, max int, block time.Duration) (*Batch, error)
	// Ack acknowledges messages of b that were processed.
	Ack(ctx context.Context, b *Batch, ids []string) error
	// DeadLetter moves a message of b to the dead letters with its reason
	// and acknowledges it.
	DeadLetter(ctx context.Context, b *Batch, m Message, reason string) error
	// Close releases the consumer's leases; unacknowledged messages are
	// handed back for the next holder.
	Close(ctx context.Context) error
}

// CommitAcker is implemented by consumers that can acknowledge messages in
// the transaction that commits their events (the embedded queue, whose
// tables are in the store's database): a crash can then not fall between
// the commit and the acknowledgement, and the acknowledgement needs no
// transaction of its own.
type CommitAcker interface {
	// AckOnCommit returns a context under which the store's commits of
	// evs, the events of msgs (messages of b, in order), acknowledge each
	// committed event's message in the commit's transaction, as Ack would,
	// if the consumer still holds b's lease. Ack of b then leaves out the
	// messages already acknowledged that way. An event given twice is
	// acknowledged with its first message; a later one is a duplicate, for
	// Ack.
	AckOnCommit(ctx context.Context, b *Batch, evs []*event.Event, msgs []Message) context.Context
}
