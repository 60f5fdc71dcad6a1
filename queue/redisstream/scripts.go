package redisstream

import (
	"context"
	"errors"

	goredis "github.com/redis/go-redis/v9"
)

// replyLeaseLost is the error code of a script run without the lease it
// needs ("FFLEASE lease lost": a reply without a space after its code
// would get the code ERR). No Redis error uses it.
const replyLeaseLost = "FFLEASE"

func isLeaseLost(err error) bool {
	return err != nil && goredis.HasErrorPrefix(err, replyLeaseLost)
}

// luaIDLess defines id_less(a, b): whether stream id a is smaller than b,
// comparing both numbers of "<ms>-<seq>" without converting them (they may
// exceed the 53 bits a Lua number holds exactly).
const luaIDLess = `
local function num_less(a, b)
  if #a ~= #b then return #a < #b end
  return a < b
end
local function id_less(a, b)
  local ams, aseq = string.match(a, '^(%d+)-(%d+)$')
  local bms, bseq = string.match(b, '^(%d+)-(%d+)$')
  if ams ~= bms then return num_less(ams, bms) end
  return num_less(aseq, bseq)
end
`

// luaAdvance defines advance(lease, cursor, owner, to, ttl), the router's
// step forward: if owner holds the lease, it moves the cursor to the stream
// id to (never back), renews the lease for ttl ms and returns 1; else 0.
// It needs luaIDLess.
const luaAdvance = `
local function advance(lease, cursor, owner, to, ttl)
  if redis.call('GET', lease) ~= owner then return 0 end
  local cur = redis.call('GET', cursor)
  if not cur or id_less(cur, to) then
    redis.call('SET', cursor, to)
  end
  redis.call('PEXPIRE', lease, ttl)
  return 1
end
`

// luaReadNew defines read_new(stream, group, owner, count): up to count
// entries never delivered, read for owner, and "" — or, when there are
// none, no entries and the stream's tip, the id of its newest entry ("0-0"
// when it is empty), from which a wait for new entries starts.
const luaReadNew = `
local function read_new(stream, group, owner, count)
  local r = redis.call('XREADGROUP', 'GROUP', group, owner, 'COUNT', count, 'STREAMS', stream, '>')
  if r and #r[1][2] > 0 then
    return r[1][2], ''
  end
  local last = redis.call('XREVRANGE', stream, '+', '-', 'COUNT', 1)
  if #last > 0 then
    return {}, last[1][1]
  end
  return {}, '0-0'
end
`

// luaCheckLease defines check_lease(lease, owner, epoch, ttl): whether
// owner holds the partition lease with that epoch, renewing it if so.
const luaCheckLease = `
local function check_lease(lease, owner, epoch, ttl)
  local cur = redis.call('HMGET', lease, 'owner', 'epoch')
  if cur[1] ~= owner or cur[2] ~= epoch then
    return false
  end
  redis.call('PEXPIRE', lease, ttl)
  return true
end
`

// acquireScript takes a partition lease that is free (or expired, which in
// Redis is the same: the key is gone), bumping the epoch, and makes sure the
// partition's stream and consumer group exist. A lease the owner already
// holds is renewed and keeps its epoch. It returns the epoch, or 0 when
// another owner holds the lease.
//
// KEYS: 1 lease, 2 epoch, 3 stream. ARGV: 1 owner token, 2 consumer id,
// 3 TTL in ms, 4 group.
var acquireScript = goredis.NewScript(`
local owner = redis.call('HGET', KEYS[1], 'owner')
local epoch
if owner == ARGV[1] then
  epoch = tonumber(redis.call('HGET', KEYS[1], 'epoch'))
elseif owner then
  return 0
else
  epoch = redis.call('INCR', KEYS[2])
  redis.call('HSET', KEYS[1], 'owner', ARGV[1], 'id', ARGV[2], 'epoch', epoch)
end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
-- BUSYGROUP (the group exists) is the usual answer; ignore it.
redis.pcall('XGROUP', 'CREATE', KEYS[3], ARGV[4], '0', 'MKSTREAM')
return epoch
`)

// renewScript renews a partition lease. It returns 1, or 0 when the owner
// no longer holds it with that epoch.
//
// KEYS: 1 lease. ARGV: 1 owner token, 2 epoch, 3 TTL in ms.
var renewScript = goredis.NewScript(luaCheckLease + `
if check_lease(KEYS[1], ARGV[1], ARGV[2], ARGV[3]) then return 1 end
return 0
`)

// releaseScript deletes a partition lease if the owner holds it. It returns
// 1 when it did.
//
// KEYS: 1 lease. ARGV: 1 owner token.
var releaseScript = goredis.NewScript(`
if redis.call('HGET', KEYS[1], 'owner') == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`)

// fetchScript reads up to count entries of a partition under its lease
// (FFLEASE without it) and renews the lease. It returns {entries, delivery
// counts, cursor, tip}.
//
// While the partition is being recovered (cursor is not ""), it first
// claims the group's pending entries, whoever they were delivered to, in
// id order from the cursor (XAUTOCLAIM with min-idle 0: the lease makes
// them ours), with their delivery counts (XPENDING); the cursor it returns
// is where to go on, "0-0" when the claim went through the whole pending
// list. Then it forgets the group's other consumers that have nothing
// pending. Once nothing is left to claim, it tops the entries up with new
// ones (XREADGROUP >, delivered once), which all come after the pending
// ones. tip is the id of the stream's newest entry when nothing new was
// read ("0-0" for an empty stream), from which a wait for new entries
// starts, or "" otherwise.
//
// KEYS: 1 lease, 2 stream. ARGV: 1 owner token (the group's consumer name),
// 2 epoch, 3 TTL in ms, 4 group, 5 count, 6 cursor.
var fetchScript = goredis.NewScript(luaCheckLease + luaReadNew + `
local lease, stream = KEYS[1], KEYS[2]
local owner, group, count, cursor = ARGV[1], ARGV[4], tonumber(ARGV[5]), ARGV[6]
if not check_lease(lease, owner, ARGV[2], ARGV[3]) then
  return redis.error_reply('FFLEASE lease lost')
end
local entries, counts = {}, {}
if cursor ~= '' then
  local r = redis.call('XAUTOCLAIM', stream, group, owner, 0, cursor, 'COUNT', count)
  entries, cursor = r[2], r[1]
  if #entries > 0 then
    local seen = {}
    local p = redis.call('XPENDING', stream, group, entries[1][1], entries[#entries][1], #entries, owner)
    for _, e in ipairs(p) do seen[e[1]] = e[4] end
    for i, e in ipairs(entries) do counts[i] = seen[e[1]] or 1 end
  end
  if cursor ~= '0-0' then
    return {entries, counts, cursor, ''}
  end
  for _, c in ipairs(redis.call('XINFO', 'CONSUMERS', stream, group)) do
    local name, pending
    for i = 1, #c, 2 do
      if c[i] == 'name' then name = c[i + 1] elseif c[i] == 'pending' then pending = c[i + 1] end
    end
    if name ~= owner and pending == 0 then
      redis.call('XGROUP', 'DELCONSUMER', stream, group, name)
    end
  end
end
local tip = ''
if #entries < count then
  local got
  got, tip = read_new(stream, group, owner, count - #entries)
  for _, e in ipairs(got) do
    entries[#entries + 1] = e
    counts[#counts + 1] = 1
  end
end
return {entries, counts, cursor, tip}
`)

// statsScript describes a partition at one instant: {lag, owner id,
// routed}, where lag counts the entries not acknowledged (pending, and not
// delivered yet; all of them without a group), owner is the lease's
// consumer id ("" when free) and routed is the last inbox id routed to it
// ("" if none).
//
// KEYS: 1 stream, 2 lease, 3 routed. ARGV: 1 group.
var statsScript = goredis.NewScript(`
local len = redis.call('XLEN', KEYS[1])
local lag = len
if len > 0 then
  for _, g in ipairs(redis.call('XINFO', 'GROUPS', KEYS[1])) do
    local name, pending, l
    for i = 1, #g, 2 do
      if g[i] == 'name' then name = g[i + 1]
      elseif g[i] == 'pending' then pending = g[i + 1]
      elseif g[i] == 'lag' then l = g[i + 1] end
    end
    if name == ARGV[1] then
      -- An unknown lag (entries deleted in the middle): every entry, an
      -- upper bound.
      if l then lag = pending + l end
    end
  end
end
return {lag, redis.call('HGET', KEYS[2], 'id') or '', redis.call('GET', KEYS[3]) or ''}
`)

// ackScript acknowledges entries under the partition lease (FFLEASE
// without it), renews the lease, and when maxlen is positive and the
// stream is longer, trims the entries older than the oldest one pending
// (or, with none pending, than the last one delivered). Then, when ahead
// is positive, it reads up to ahead new entries (XREADGROUP >, delivered
// once, as fetchScript does): the consumer's next batch of the partition,
// read in the same round trip. It returns {acknowledged, entries, tip},
// where tip is the id of the stream's newest entry ("0-0" for an empty
// stream) when the read found nothing, and "" otherwise (or when it did
// not read).
//
// KEYS: 1 lease, 2 stream. ARGV: 1 owner token, 2 epoch, 3 TTL in ms,
// 4 group, 5 maxlen, 6 ahead, 7... entry ids.
var ackScript = goredis.NewScript(luaCheckLease + luaReadNew + `
local lease, stream, owner, group = KEYS[1], KEYS[2], ARGV[1], ARGV[4]
if not check_lease(lease, owner, ARGV[2], ARGV[3]) then
  return redis.error_reply('FFLEASE lease lost')
end
local n = 0
local ids = {}
for i = 7, #ARGV do
  ids[#ids + 1] = ARGV[i]
  if #ids == 1000 or i == #ARGV then
    n = n + redis.call('XACK', stream, group, unpack(ids))
    ids = {}
  end
end
local maxlen = tonumber(ARGV[5])
if maxlen > 0 and redis.call('XLEN', stream) > maxlen then
  local minid = redis.call('XPENDING', stream, group)[2]
  if not minid then
    for _, g in ipairs(redis.call('XINFO', 'GROUPS', stream)) do
      local name, last
      for i = 1, #g, 2 do
        if g[i] == 'name' then name = g[i + 1] elseif g[i] == 'last-delivered-id' then last = g[i + 1] end
      end
      if name == group then minid = last end
    end
  end
  if minid then
    redis.call('XTRIM', stream, 'MINID', '~', minid)
  end
end
local ahead = tonumber(ARGV[6])
local entries, tip = {}, ''
if ahead > 0 then
  entries, tip = read_new(stream, group, owner, ahead)
end
return {n, entries, tip}
`)

// luaRoute defines route(stream, routedKey, a, count): it appends count
// inbox entries, ARGV[a] on (triples of inbox id, event JSON and
// enqueued_at, "" for none, in inbox order), to a partition stream,
// skipping those already routed (an id not above the partition's routed
// id), so that routing again after a crash adds nothing twice, and
// returns how many it appended. The ids come in increasing order, so that
// once one is above the routed id, so are the rest, without comparing
// them. It needs luaIDLess.
const luaRoute = `
local function route(stream, routedKey, a, count)
  local routed = redis.call('GET', routedKey)
  local above = not routed
  local n = 0
  for i = a, a + 3 * count - 1, 3 do
    local id = ARGV[i]
    above = above or id_less(routed, id)
    if above then
      if ARGV[i + 2] == '' then
        redis.call('XADD', stream, '*', 'event', ARGV[i + 1], 'inbox_id', id)
      else
        redis.call('XADD', stream, '*', 'event', ARGV[i + 1], 'inbox_id', id, 'enqueued_at', ARGV[i + 2])
      end
      routed = id
      n = n + 1
    end
  end
  if n > 0 then
    redis.call('SET', routedKey, routed)
  end
  return n
end
`

// routeScript routes inbox entries to one partition stream (luaRoute) and
// returns how many it appended.
//
// KEYS: 1 stream, 2 routed. ARGV: the entries' triples, in inbox order.
var routeScript = goredis.NewScript(luaIDLess + luaRoute + `
return route(KEYS[1], KEYS[2], 1, #ARGV / 3)
`)

// routeAllScript does what routeScript does for several partitions, then
// what routerAdvanceScript does, then trims the inbox behind the cursor:
// the router's whole step in one round trip. Its keys lie in several hash
// slots, so it runs only on a single server (not a Redis Cluster). It
// returns 1, or 0 when the owner lost the router lease (the entries are
// routed all the same: routing is idempotent).
//
// KEYS: 1 router lease, 2 cursor, 3 inbox, then for each partition its
// stream and its routed key. ARGV: 1 owner token, 2 new cursor, 3 TTL in
// ms, 4 the inbox's new first id (trim before it), then for each
// partition, in the order of KEYS, the number of entries and their
// triples as routeScript takes them.
var routeAllScript = goredis.NewScript(luaIDLess + luaAdvance + luaRoute + `
local a = 5
for k = 4, #KEYS, 2 do
  local count = tonumber(ARGV[a])
  route(KEYS[k], KEYS[k + 1], a + 1, count)
  a = a + 1 + 3 * count
end
redis.call('XTRIM', KEYS[3], 'MINID', ARGV[4])
return advance(KEYS[1], KEYS[2], ARGV[1], ARGV[2], ARGV[3])
`)

// pushScript adds events to their partition streams directly when the
// inbox holds nothing the router has yet to route (its newest entry, if
// any, is not above the router's cursor), and to the inbox otherwise, so
// that every event still follows those pushed before it. It returns 1 when
// it added them to the partition streams. Its keys lie in several hash
// slots, so it runs only on a single server (not a Redis Cluster).
//
// KEYS: 1 inbox, 2 router cursor, then partition streams. ARGV: pairs of
// the index in KEYS of the event's partition stream and the event's JSON,
// in push order.
var pushScript = goredis.NewScript(luaIDLess + `
local direct = true
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
if #last > 0 then
  local cur = redis.call('GET', KEYS[2])
  direct = cur and not id_less(cur, last[1][1])
end
for i = 1, #ARGV, 2 do
  local key = KEYS[1]
  if direct then key = KEYS[tonumber(ARGV[i])] end
  redis.call('XADD', key, '*', 'event', ARGV[i + 1])
end
if direct then return 1 end
return 0
`)

// routerAdvanceScript moves the router's cursor forward (never back) and
// renews the router lease, if the owner holds it. It returns 1, or 0 when
// the owner lost the lease.
//
// KEYS: 1 router lease, 2 cursor. ARGV: 1 owner token, 2 new cursor, 3 TTL
// in ms.
var routerAdvanceScript = goredis.NewScript(luaIDLess + luaAdvance + `
return advance(KEYS[1], KEYS[2], ARGV[1], ARGV[2], ARGV[3])
`)

// routerRenewScript renews the router lease if the owner holds it; it
// returns 1, or 0.
//
// KEYS: 1 router lease. ARGV: 1 owner token, 2 TTL in ms.
var routerRenewScript = goredis.NewScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
`)

// routerReleaseScript deletes the router lease if the owner holds it.
//
// KEYS: 1 router lease. ARGV: 1 owner token.
var routerReleaseScript = goredis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`)

// heartbeatScript records that a consumer is alive (scored by the server's
// clock, so that the machines' clocks do not matter), forgets consumers
// silent for longer than the TTL, and returns the live consumers' tokens.
//
// KEYS: 1 consumers. ARGV: 1 owner token, 2 TTL in ms.
var heartbeatScript = goredis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. (now - tonumber(ARGV[2])))
return redis.call('ZRANGE', KEYS[1], 0, -1)
`)

// scriptCall is one script run in a pipeline.
type scriptCall struct {
	script *goredis.Script
	keys   []string
	args   []any
	cmd    *goredis.Cmd
}

// runScripts runs the calls in one pipeline with EVALSHA, then runs again
// with EVAL those the server did not know (after a restart, say): a
// NOSCRIPT reply means the script did not run. Each call's outcome is in
// its cmd.
func runScripts(ctx context.Context, c goredis.UniversalClient, calls []*scriptCall) {
	runScriptsAnd(ctx, c, calls, nil)
}

// runScriptsAnd is runScripts with more commands, which more adds to the
// first pipeline (when more is not nil).
func runScriptsAnd(ctx context.Context, c goredis.UniversalClient, calls []*scriptCall, more func(goredis.Pipeliner)) {
	pipe := c.Pipeline()
	for _, k := range calls {
		k.cmd = k.script.EvalSha(ctx, pipe, k.keys, k.args...)
	}
	if more != nil {
		more(pipe)
	}
	if pipe.Len() == 0 {
		return
	}
	_, _ = pipe.Exec(ctx)
	var retry []*scriptCall
	for _, k := range calls {
		if isNoScript(k.cmd.Err()) {
			retry = append(retry, k)
		}
	}
	if len(retry) == 0 {
		return
	}
	pipe = c.Pipeline()
	for _, k := range retry {
		k.cmd = k.script.Eval(ctx, pipe, k.keys, k.args...)
	}
	_, _ = pipe.Exec(ctx)
}

func isNoScript(err error) bool {
	return err != nil && (errors.Is(err, goredis.ErrNoScript) || goredis.HasErrorPrefix(err, "NOSCRIPT"))
}
