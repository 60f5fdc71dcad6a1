package redis

import goredis "github.com/redis/go-redis/v9"

// Error replies of the scripts. Each starts with a code that no Redis error
// uses, so that it maps to exactly one store error.
const (
	replyFenced    = "FFFENCED"    // "FFFENCED <newest epoch>"
	replyProcessed = "FFPROCESSED" // "FFPROCESSED"
	replyConflict  = "FFCONFLICT"  // "FFCONFLICT <index> <stored version>"
	replyLimit     = "FFLIMIT"     // "FFLIMIT"
)

// luaPutOpp writes an opportunity and keeps the account's indexes in step.
// oldc is the stored contact id, or false when the opportunity is new;
// score is its stale-index score, or "" when it is not a stale candidate;
// olds is the stored score (field s), or false when unknown, in which case
// the stale index is written whatever it holds. An opportunity without a
// contact ("") is in no contact-opps set.
//
// The stale index is lazy: a score that moves later (an owner's activity,
// the most common change) stays where it was, since an index that says
// "stale sooner" than the record loses nothing: StaleCandidates reads the
// record, leaves it out, and moves its score then. Field s holds the score
// in the index. A score that moves earlier, appears or goes is written.
const luaPutOpp = `
local function put_opp(base, key, stale, ids, id, newv, oldc, contact, score, olds, json)
  local keep = olds and olds ~= '' and score ~= '' and tonumber(olds) <= tonumber(score)
  if keep then
    score = olds
  end
  redis.call('HSET', key, 'v', newv, 'c', contact, 's', score, 'd', json)
  if oldc == false then
    redis.call('SADD', ids, id)
  end
  if oldc ~= contact then
    if oldc and oldc ~= '' then
      redis.call('SREM', base .. 'contact-opps:' .. oldc, id)
    end
    if contact ~= '' then
      redis.call('SADD', base .. 'contact-opps:' .. contact, id)
    end
  end
  if olds ~= score then
    if score == '' then
      if oldc ~= false then
        redis.call('ZREM', stale, id)
      end
    else
      redis.call('ZADD', stale, score, id)
    end
  end
end
`

// rescoreScript moves an opportunity's score in the stale index to the
// one its record has, unless the record changed since it was read (its
// version is no longer ARGV[2]). It returns 1 when it moved it.
//
// KEYS: 1 the opportunity, 2 the stale index. ARGV: 1 id, 2 version read,
// 3 score.
var rescoreScript = goredis.NewScript(`
if redis.call('HGET', KEYS[1], 'v') ~= ARGV[2] then
  return 0
end
redis.call('HSET', KEYS[1], 's', ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
return 1
`)

// commitScript applies changesets, each all or nothing, in order, each
// seeing the ones before it: it checks everything of a changeset before it
// writes any of it, and a changeset that fails a check writes nothing. It
// returns one reply per changeset, in order: "OK" or an error reply
// (replyFenced and so on).
//
// The changesets come in groups, one per account: KEYS[g] is the fences
// hash of group g (which routes the call on a Redis Cluster, where a call
// holds one group: every key of an account shares its hash slot), ARGV[1]
// the ledger TTL in ms (0: the ledger set, kept forever), ARGV[2] the
// groups, MessagePack: an array of one array per group, in the order of
// KEYS, of base, the number of changesets, then per changeset fence
// partition ("" when none), fence epoch, event id ("" when none), ledger
// value ("" with the ledger set), 1 when a written record is over the
// follower limit (else 0), the numbers of reads, opportunities, contacts
// and history lists; per read the key (after base) and version; per opportunity id,
// version, new version, contact id, stale score, JSON; per contact id,
// version, new version, JSON; per history list the key (after base), the
// number of entries and each entry's JSON.
//
// What the changesets of a group share is read once, at its start: the
// ledger entries of all their events (one SMISMEMBER) and each fence
// partition's epoch. Each changeset's writes, its ledger entry and fence
// included, are made with it, so that should the script stop half way (a
// command failing), every changeset before is whole, and is found in the
// ledger when the batch is run again. With a ledger TTL, entries are keys
// of their own (SET PX, with the ledger value), looked up one by one as
// well.
var commitScript = goredis.NewScript(luaPutOpp + `
local ttl = tonumber(ARGV[1])
local groups = cmsgpack.unpack(ARGV[2])
local out = {}
local oldc, olds, newc = {}, {}, {}
for g = 1, #KEYS do
  local a = groups[g]
  local fences, base = KEYS[g], a[1]
  local stale, opps, contacts, ledger = base .. 'stale', base .. 'opps', base .. 'contacts', base .. 'ledger'
  local newest = {}  -- partition -> newest epoch (string) or false
  local done = {}    -- event ids in the ledger (true) or not (false)
  -- A first pass finds where each changeset starts and reads the ledger
  -- entries of all their events at once.
  local starts, evs = {}, {}
  local i = 3
  for c = 1, a[2] do
    starts[c] = i
    if a[i + 2] ~= '' then
      evs[#evs + 1] = a[i + 2]
    end
    local k = i + 9 + 2 * a[i + 5] + 6 * a[i + 6] + 4 * a[i + 7]
    for _ = 1, a[i + 8] do
      k = k + 2 + a[k + 1]
    end
    i = k
  end
  for j = 1, #evs, 1000 do
    local last = math.min(j + 999, #evs)
    local got = redis.call('SMISMEMBER', ledger, unpack(evs, j, last))
    for x = j, last do
      done[evs[x]] = got[x - j + 1] == 1
    end
  end
  for c = 1, a[2] do
    local i = starts[c]
    local part, epoch, ev, over = a[i], a[i + 1], a[i + 2], a[i + 4]
    local nr, no, nc, nh = a[i + 5], a[i + 6], a[i + 7], a[i + 8]
    local r0 = i + 9
    local o0 = r0 + 2 * nr
    local c0 = o0 + 6 * no
    local h0 = c0 + 4 * nc
    local err
    local cur
    if part ~= '' then
      cur = newest[part]
      if cur == nil then
        cur = redis.call('HGET', fences, part)
        newest[part] = cur
      end
      if cur and tonumber(cur) > tonumber(epoch) then
        err = 'FFFENCED ' .. cur
      end
    end
    if not err and ev ~= '' then
      if done[ev] or (ttl > 0 and redis.call('EXISTS', base .. 'ledger:' .. ev) == 1) then
        err = 'FFPROCESSED'
      end
    end
    if not err then
      for j = 0, nr - 1 do
        local v = redis.call('HGET', base .. a[r0 + 2 * j], 'v') or '0'
        if v ~= a[r0 + 2 * j + 1] then
          err = 'FFCONFLICT ' .. j .. ' ' .. v
          break
        end
      end
    end
    if not err then
      for j = 0, no - 1 do
        local k = o0 + 6 * j
        local st = redis.call('HMGET', base .. 'opp:' .. a[k], 'v', 'c', 's')
        local v = st[1] or '0'
        if v ~= a[k + 1] then
          err = 'FFCONFLICT ' .. (nr + j) .. ' ' .. v
          break
        end
        oldc[j] = st[1] and (st[2] or '') or false
        olds[j] = st[3] or false
      end
    end
    if not err then
      for j = 0, nc - 1 do
        local k = c0 + 4 * j
        local v = redis.call('HGET', base .. 'contact:' .. a[k], 'v')
        newc[j] = not v
        if (v or '0') ~= a[k + 1] then
          err = 'FFCONFLICT ' .. (nr + no + j) .. ' ' .. (v or '0')
          break
        end
      end
    end
    if not err and over == 1 then
      err = 'FFLIMIT'
    end

    if err then
      out[#out + 1] = err
    else
      if part ~= '' and (not cur or tonumber(cur) < tonumber(epoch)) then
        newest[part] = epoch
        redis.call('HSET', fences, part, epoch)
      end
      if ev ~= '' then
        done[ev] = true
        if ttl > 0 then
          redis.call('SET', base .. 'ledger:' .. ev, a[i + 3], 'PX', ttl)
        else
          redis.call('SADD', ledger, ev)
        end
      end
      for j = 0, no - 1 do
        local k = o0 + 6 * j
        put_opp(base, base .. 'opp:' .. a[k], stale, opps, a[k], a[k + 2], oldc[j], a[k + 3], a[k + 4], olds[j], a[k + 5])
      end
      for j = 0, nc - 1 do
        local k = c0 + 4 * j
        redis.call('HSET', base .. 'contact:' .. a[k], 'v', a[k + 2], 'd', a[k + 3])
        if newc[j] then
          redis.call('SADD', contacts, a[k])
        end
      end
      local k = h0
      for _ = 1, nh do
        local n = a[k + 1]
        redis.call('RPUSH', base .. a[k], unpack(a, k + 2, k + 1 + n))
        k = k + 2 + n
      end
      out[#out + 1] = 'OK'
    end
  end
end
return out
`)

// loadScript upserts a batch of one account's data, bumping record
// versions and keeping the indexes in step.
//
// KEYS: 1 account, 2 users, 3 emails, 4 stale, 5 opps, 6 contacts, then the
// keys of the users, opportunities and contacts.
//
// ARGV: 1 base, 2 the account's JSON ("" to leave it), 3-5 the numbers of
// users, opportunities and contacts; then per user id, lower-cased email,
// JSON; per opportunity id, contact id, stale score, JSON; per contact id,
// JSON.
var loadScript = goredis.NewScript(luaPutOpp + `
local base = ARGV[1]
if ARGV[2] ~= '' then
  redis.call('SET', KEYS[1], ARGV[2])
end
local nu, no, nc = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local k, a = 6, 5
for i = 1, nu do
  local key, j = KEYS[k + i], a + 3 * (i - 1)
  local id, email = ARGV[j + 1], ARGV[j + 2]
  local old = redis.call('HGET', key, 'e')
  if old and old ~= '' and old ~= email and redis.call('HGET', KEYS[3], old) == id then
    redis.call('HDEL', KEYS[3], old)
  end
  redis.call('HSET', key, 'e', email, 'd', ARGV[j + 3])
  redis.call('SADD', KEYS[2], id)
  if email ~= '' then
    redis.call('HSET', KEYS[3], email, id)
  end
end
k, a = k + nu, a + 3 * nu
for i = 1, no do
  local key, j = KEYS[k + i], a + 4 * (i - 1)
  local cur = redis.call('HMGET', key, 'v', 'c')
  local newv = string.format('%d', (tonumber(cur[1]) or 0) + 1)
  local oldc = cur[1] and (cur[2] or '') or false
  put_opp(base, key, KEYS[4], KEYS[5], ARGV[j + 1], newv, oldc, ARGV[j + 2], ARGV[j + 3], false, ARGV[j + 4])
end
k, a = k + no, a + 4 * no
for i = 1, nc do
  local key, j = KEYS[k + i], a + 2 * (i - 1)
  local v = redis.call('HGET', key, 'v')
  redis.call('HSET', key, 'v', string.format('%d', (tonumber(v) or 0) + 1), 'd', ARGV[j + 2])
  redis.call('SADD', KEYS[6], ARGV[j + 1])
end
return 'OK'
`)

// userByEmailScript returns the JSON of the user whose lower-cased email is
// ARGV[1], or nil. KEYS: 1 emails. ARGV: 1 email, 2 the user key prefix
// (base .. "user:").
var userByEmailScript = goredis.NewScript(`
local id = redis.call('HGET', KEYS[1], ARGV[1])
if not id then
  return false
end
return redis.call('HGET', ARGV[2] .. id, 'd')
`)

// oppsByContactScript returns version, JSON, version, JSON, ... of the
// opportunities linked to a contact. KEYS: 1 the contact's contact-opps
// set. ARGV: 1 the opportunity key prefix (base .. "opp:").
var oppsByContactScript = goredis.NewScript(`
local out = {}
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local r = redis.call('HMGET', ARGV[1] .. id, 'v', 'd')
  if r[1] and r[2] then
    out[#out + 1] = r[1]
    out[#out + 1] = r[2]
  end
end
return out
`)
