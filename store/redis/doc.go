// Package redis is the Redis store.Store: records, the processed-event
// ledger, follower history and the stale index kept in Redis (a single
// server, a failover group or a Redis Cluster), shared by many workers on
// many machines.
//
// # Keys
//
// Every key starts with Config.Prefix (P below, default "followflow").
// Every key of an account A carries the hash tag {A}, so that all of an
// account's keys live in one Redis Cluster hash slot and one script can
// check and write them atomically. An account id containing '%', '{' or '}'
// is percent-encoded inside the tag (%25, %7B, %7D), so that the tag always
// ends right after it; other ids are used as they are.
//
//	key                          type    holds
//	P:accounts                   SET     ids of every account with data (the only key without a tag)
//	P:{A}:account                STRING  the account, JSON
//	P:{A}:users                  SET     ids of the account's users
//	P:{A}:user:<id>              HASH    e: lower-cased email; d: the user, JSON
//	P:{A}:emails                 HASH    lower-cased email -> user id
//	P:{A}:opps                   SET     ids of the account's opportunities
//	P:{A}:opp:<id>               HASH    v: version; c: contact id; s: stale score ("" when none); d: the opportunity, JSON
//	P:{A}:contacts               SET     ids of the account's contacts
//	P:{A}:contact:<id>           HASH    v: version; d: the contact, JSON
//	P:{A}:contact-opps:<cid>     SET     ids of the opportunities whose contact_id is cid (not ""; versions before kept those without one under P:{A}:contact-opps:, now unused)
//	P:{A}:stale                  ZSET    open, owned opportunity ids, scored by last_owner_activity_at in unix ms, or earlier (lazy)
//	P:{A}:ledger                 SET     ids of the processed events (Config.LedgerTTL 0)
//	P:{A}:ledger:<event id>      STRING  with Config.LedgerTTL set: when the event was processed (RFC 3339), expiring after the TTL
//	P:{A}:fences                 HASH    partition -> newest committed lease epoch
//	P:{A}:history:opp:<id>       LIST    history entries of an opportunity, JSON, oldest first
//	P:{A}:history:contact:<id>   LIST    history entries of a contact, JSON, oldest first
//
// Records are hashes whose version sits beside the JSON, so that a commit
// checks a version without decoding anything; an opportunity also keeps its
// contact id and stale score beside it, so that a commit moves it between
// contact-opps sets without decoding the old JSON, and writes the stale
// index only when the score changed. The stale index is lazy: a score that
// moves later, as every owner's activity moves it, is left where it was
// (field s keeps the score in the index); StaleCandidates finds such a
// record early, leaves it out and moves its score then. An index that says
// "stale sooner" than the record misses nothing, and the commonest write
// of the index, a ZADD per activity, is gone. A history entry's Seq is not
// stored: it is the entry's position in its list, from 1.
//
// The ledger is one set per account (one member per event, no key of its
// own) unless entries must expire, which set members cannot on Redis 7.0:
// with Config.LedgerTTL they are keys. Versions before the set kept every
// entry as a key; reads (Processed) still see those, but commits look only
// in the set, so stop the workers of such a version (their in-flight events
// acknowledged) before starting this one on the same data.
//
// # Operations
//
// Commit and CommitBatch are one Lua script call (EVALSHA, falling back to
// EVAL) per batch of changesets on one server, or per account of the
// batch on a Redis Cluster (and behind a proxy that refuses a script over
// several hash slots with CROSSSLOT, once it has), all in one round trip. The script takes its
// arguments as MessagePack (cmsgpack), and for each changeset checks the
// fence, the ledger, every version and the follower limit before it writes
// anything, then writes the records, the indexes, the history, the ledger
// entry and the fence; the ledger and fence reads that the changesets of
// one account share are made once per account. Each read is
// one command, or one script that follows an index
// (UserByEmail, OpportunitiesByContact), or one pipeline (Processed).
// StaleCandidates reads at
// most limit members of each account's stale index (ZRANGEBYSCORE up to
// the cutoff) and merges them; Export walks the id sets. Nothing here uses
// SCAN or KEYS, so everything works on a Redis Cluster.
//
// The global set of accounts is written outside the account scripts, before
// an account's first write in a process, so that it may name an account
// with no data but never misses one that has data.
//
// This package holds no business rule beyond what store.Store demands, and
// no queue (see queue/redisstream); it does not own the Redis client it is
// given.
package redis
