// Package redisstream is the Redis Streams queue.Queue: a durable,
// partitioned event queue in Redis (a single server, a failover group or a
// Redis Cluster), shared by many workers on many machines.
//
// # Producers
//
// A producer in any language pushes an event with one command:
//
//	XADD <prefix>:inbox * event '<the event JSON>'
//
// (the prefix is Config.Prefix, default "followflow"). Nothing else is
// asked of it. Push does the same, all of a batch in one MULTI/EXEC, on a
// Redis Cluster. On a single server it runs one script instead, which
// adds the batch straight to the partition streams, as the router would,
// when the inbox holds nothing the router has yet to route (its newest
// entry is not above the router's cursor), and to the inbox otherwise: a
// record's events keep the order of their pushes either way, and a push
// to a caught-up queue costs no routing.
//
// A high-volume producer may skip the inbox and add to the partition stream
// of the event's record directly, with the same single field "event":
//
//	XADD <prefix>:{p<N>}:stream * event '<the event JSON>'
//
// where N is the record's partition (queue.Partition): the FNV-1a 32-bit
// hash of the event's account_id, one zero byte and the record id (the
// contact_id for contact.* events, the opportunity_id otherwise), modulo
// the number of partitions (<prefix>:partitions, default 16). Such a
// producer must write all of a record's events to the partition stream
// (never some to the inbox) for their order to hold, and its events are
// validated only by the worker. An entry without an "event" field is
// dead-lettered whole (its fields as a JSON object).
//
// # Keys
//
// Every key starts with the prefix P. The keys of partition N carry the hash
// tag {pN}, so that each script touches one Redis Cluster hash slot; the
// router's keys carry {router}. Every other command touches one key.
//
//	key                  type    holds
//	P:inbox              STREAM  pushed events: field event (and enqueued_at when replayed); trimmed behind the router
//	P:{router}:lease     STRING  the router lease: the owner's token, with a TTL
//	P:{router}:cursor    STRING  the id of the last inbox entry routed
//	P:{pN}:stream        STREAM  partition N: field event, and inbox_id (and enqueued_at) when routed; consumer group "workers"
//	P:{pN}:lease         HASH    the partition lease, with a TTL: owner (token), id (the consumer's id), epoch
//	P:{pN}:epoch         STRING  the last epoch of partition N; INCR on every acquisition
//	P:{pN}:routed        STRING  the id of the last inbox entry routed to partition N
//	P:consumers          ZSET    live consumers' tokens, scored by their last heartbeat (server time, ms)
//	P:partitions         STRING  the number of partitions, fixed by the first queue
//	P:dlq                STREAM  dead letters: body, reason, partition (-1: never routed), deliveries, failed_at, message_id, enqueued_at
//
// # Router
//
// The first Consumer of a Queue starts the Queue's router, a goroutine
// that runs until Close (a Queue used only to push or to manage dead
// letters routes nothing). Of all the routers sharing the prefix, the one
// holding the router lease (SET NX PX, renewed by owner-checked scripts)
// reads the inbox after its cursor, RouterBatch entries at a time (XREAD
// BLOCK, so it wakes when a producer pushes), decodes each event
// (event.Decode: an entry that is not valid JSON, has an unknown type or
// misses a required field goes to the dead letters with the reason, and
// the entries behind it move on), and appends it to its partition's stream
// with a script that skips inbox ids not above the partition's routed id,
// so that routing again after a crash appends nothing twice. Then it
// advances the cursor and trims the inbox behind it (on a single server,
// one script does all of it; on a Cluster, the routing scripts, then the
// advance and the trim, in two round trips). Per-record order
// therefore holds from the XADD to the inbox. An invalid entry routed
// twice (a crash between the dead-lettering and the cursor) appears twice
// in the dead letters.
//
// # Consumers
//
// A consumer holds partition leases (a hash with a TTL; acquisition bumps
// the partition's epoch, which fences the holder's commits: Batch.Fence).
// Consumers heartbeat in P:consumers, and each takes its fair share,
// ceil(partitions / live consumers), acquiring free or expired leases and
// handing back extras when workers join; a dead worker's leases expire
// after Config.LeaseTTL. On acquiring a partition, a consumer first claims
// the group's pending entries (XAUTOCLAIM: a dead or departed holder's
// unacknowledged messages, in order, with their delivery counts from
// XPENDING), then reads new entries (XREADGROUP >). Reads, acknowledgements
// (XACK) and renewals are scripts that check the lease's owner and epoch,
// so a holder whose lease expired can read or acknowledge nothing more
// (queue.ErrLeaseLost). A batch not wholly acknowledged by the next Fetch
// was abandoned: its partition is recovered again, so its messages come
// first. DeadLetter adds to P:dlq, then acknowledges: two slots, two
// commands in that order, at least once. The acknowledgement that ends a
// batch reads the partition's next batch in the same script (under the
// same lease check), so that a busy partition costs one round trip a
// batch besides the commit. A consumer returns batches read ahead before
// reading again, but reads again after as many batches as it holds
// partitions, so that busy partitions do not starve quiet ones. With a
// *redis.Client, a consumer runs the fetch script only on the partitions
// that have entries after their tip (the newest entry its last read
// found, or the last one it read): its wait (below) says which, or else
// one XREAD in the pipeline of its reads, so that quiet partitions cost
// it nothing per batch; with nothing else to read, it goes straight to
// the wait, whose XREAD returns at once if something is there.
//
// # Waiting
//
// With a *redis.Client (a server or a failover group), a Fetch that finds
// nothing waits on all its partitions with one XREAD BLOCK on a connection
// of its own: XREAD, not XREADGROUP, so waiting takes no entry, and a
// holder whose lease expired while it waited cannot take entries from the
// next holder; what it finds is then read under the lease. go-redis does
// not interrupt a blocked command when its context is cancelled (with or
// without ContextTimeoutEnabled), so a cancelled Fetch, or Queue.Close,
// sends CLIENT UNBLOCK for that connection: the wait ends at once, and the
// client needs no special options (but an ACL user needs CLIENT UNBLOCK,
// or a cancelled wait lasts until its block, at most LeaseTTL/4). A
// *redis.ClusterClient cannot wait on keys of several hash slots in one
// command: its consumers poll every Config.PollInterval (the router, with
// one key, still blocks). Waits never outlast LeaseTTL/4, so leases are
// renewed in time.
//
// It needs Redis 7.0 or later (XAUTOCLAIM that drops deleted entries,
// XINFO GROUPS lag).
//
// Redis must keep its data across restarts (appendonly yes) for the queue
// to be durable; with appendfsync everysec a crash of the server loses up
// to a second of writes, which may hand out a lease epoch again.
//
// This package does not process events (package worker) and holds no
// store (store/redis); it does not own the Redis client it is given.
package redisstream
