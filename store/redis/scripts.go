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
// score is its stale-index score, or "" when it is not a stale candidate.
const luaPutOpp = `
local function put_opp(base, key, stale, ids, id, newv, oldc, contact, score, json)
  redis.call('HSET', key, 'v', newv, 'c', contact, 'd', json)
  if oldc == false then
    redis.call('SADD', ids, id)
  end
  if oldc ~= contact then
    if oldc then
      redis.call('SREM', base .. 'contact-opps:' .. oldc, id)
    end
    redis.call('SADD', base .. 'contact-opps:' .. contact, id)
  end
  if score == '' then
    redis.call('ZREM', stale, id)
  else
    redis.call('ZADD', stale, score, id)
  end
end
`

// commitScript applies a changeset. It checks everything before it writes
// anything, so an error reply means nothing was written.
//
// KEYS: 1 fences, 2 the event's ledger entry (any account key when there is
// no event), 3 stale, 4 opps, 5 contacts, then the keys of the reads, of the
// written opportunities, of the written contacts, and the history lists of
// the history entries.
//
// ARGV: 1 base, 2 fence partition ("" when none), 3 fence epoch, 4 "1" when
// there is an event, 5 the ledger value, 6 the ledger TTL in ms (0: none),
// 7 "1" when a written record is over the follower limit, 8-11 the numbers
// of reads, opportunities, contacts and history entries; then per read its
// version; per opportunity version, new version, id, contact id, stale
// score, JSON; per contact version, new version, id, JSON; per history
// entry its JSON.
var commitScript = goredis.NewScript(luaPutOpp + `
local base = ARGV[1]
local partition, epoch = ARGV[2], ARGV[3]
local newest = false
if partition ~= '' then
  newest = redis.call('HGET', KEYS[1], partition)
  if newest and tonumber(newest) > tonumber(epoch) then
    return redis.error_reply('FFFENCED ' .. newest)
  end
end
local has_event = ARGV[4] == '1'
if has_event and redis.call('EXISTS', KEYS[2]) == 1 then
  return redis.error_reply('FFPROCESSED')
end

local nr, no, nc, nh = tonumber(ARGV[8]), tonumber(ARGV[9]), tonumber(ARGV[10]), tonumber(ARGV[11])
local kr, ar = 5, 11
for i = 1, nr do
  local v = redis.call('HGET', KEYS[kr + i], 'v') or '0'
  if v ~= ARGV[ar + i] then
    return redis.error_reply('FFCONFLICT ' .. (i - 1) .. ' ' .. v)
  end
end
local ko, ao = kr + nr, ar + nr
local oldc = {}
for i = 1, no do
  local cur = redis.call('HMGET', KEYS[ko + i], 'v', 'c')
  local v = cur[1] or '0'
  if v ~= ARGV[ao + 6 * (i - 1) + 1] then
    return redis.error_reply('FFCONFLICT ' .. (nr + i - 1) .. ' ' .. v)
  end
  oldc[i] = cur[1] and (cur[2] or '') or false
end
local kc, ac = ko + no, ao + 6 * no
local newc = {}
for i = 1, nc do
  local v = redis.call('HGET', KEYS[kc + i], 'v')
  newc[i] = not v
  if (v or '0') ~= ARGV[ac + 4 * (i - 1) + 1] then
    return redis.error_reply('FFCONFLICT ' .. (nr + no + i - 1) .. ' ' .. (v or '0'))
  end
end
if ARGV[7] == '1' then
  return redis.error_reply('FFLIMIT')
end

if partition ~= '' and (not newest or tonumber(newest) < tonumber(epoch)) then
  redis.call('HSET', KEYS[1], partition, epoch)
end
if has_event then
  local ttl = tonumber(ARGV[6])
  if ttl > 0 then
    redis.call('SET', KEYS[2], ARGV[5], 'PX', ttl)
  else
    redis.call('SET', KEYS[2], ARGV[5])
  end
end
for i = 1, no do
  local j = ao + 6 * (i - 1)
  put_opp(base, KEYS[ko + i], KEYS[3], KEYS[4], ARGV[j + 3], ARGV[j + 2], oldc[i], ARGV[j + 4], ARGV[j + 5], ARGV[j + 6])
end
for i = 1, nc do
  local j = ac + 4 * (i - 1)
  redis.call('HSET', KEYS[kc + i], 'v', ARGV[j + 2], 'd', ARGV[j + 4])
  if newc[i] then
    redis.call('SADD', KEYS[5], ARGV[j + 3])
  end
end
local kh, ah = kc + nc, ac + 4 * nc
for i = 1, nh do
  redis.call('RPUSH', KEYS[kh + i], ARGV[ah + i])
end
return 'OK'
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
  put_opp(base, key, KEYS[4], KEYS[5], ARGV[j + 1], newv, oldc, ARGV[j + 2], ARGV[j + 3], ARGV[j + 4])
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
