package redis_test

import (
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/followflow/followflow/internal/redistest"
	"github.com/followflow/followflow/record"
	"github.com/followflow/followflow/store"
	"github.com/followflow/followflow/store/redis"
)

// counter is a go-redis hook that records the round trips a client makes:
// one per command, one per pipeline.
type counter struct {
	mu    sync.Mutex
	trips []string
}

func (c *counter) DialHook(next goredis.DialHook) goredis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) { return next(ctx, network, addr) }
}

func (c *counter) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		c.mu.Lock()
		c.trips = append(c.trips, cmd.Name())
		c.mu.Unlock()
		return next(ctx, cmd)
	}
}

func (c *counter) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		c.mu.Lock()
		c.trips = append(c.trips, "pipeline")
		c.mu.Unlock()
		return next(ctx, cmds)
	}
}

// take returns the round trips made since the last call.
func (c *counter) take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.trips
	c.trips = nil
	return t
}

// TestOneRoundTrip checks that a commit, once its account is known and its
// script loaded, and every read, cost one round trip.
func TestOneRoundTrip(t *testing.T) {
	ctx := t.Context()
	client, prefix := redistest.Shared(t)
	hook := &counter{}
	client.AddHook(hook)
	s, err := redis.New(client, redis.Config{Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	if err := s.Load(ctx, &record.Dataset{
		Accounts: []record.Account{{ID: "acme", Name: "Acme"}},
		Users:    []record.User{{ID: "u", AccountID: "acme", Email: "u@acme.test", Role: record.RoleUser, Active: true}},
	}); err != nil {
		t.Fatal(err)
	}
	// Warm up: the first run of each script on a server may need EVAL after
	// EVALSHA, and the first commit of an account adds it to the global set.
	commit := func(eventID string, version int64) {
		t.Helper()
		cs := &store.Changeset{AccountID: "acme", EventID: eventID, Opportunities: []record.Opportunity{{
			ID: "o", AccountID: "acme", Status: record.StatusOpen, OwnerID: "u", ContactID: "c",
			CreatedAt: t0, LastOwnerActivityAt: t0, Version: version,
		}}, History: []record.HistoryEntry{{AccountID: "acme", Kind: record.KindOpportunity, RecordID: "o", Outcome: record.Added, UserID: "u"}}}
		if err := s.Commit(ctx, cs); err != nil {
			t.Fatal(err)
		}
	}
	commit("e1", 0)
	_, _ = s.UserByEmail(ctx, "acme", "u@acme.test")
	_, _ = s.OpportunitiesByContact(ctx, "acme", "c")
	hook.take()

	for _, c := range []struct {
		name string
		do   func()
	}{
		{"Commit", func() { commit("e2", 1) }},
		{"Account", func() { _, _ = s.Account(ctx, "acme") }},
		{"User", func() { _, _ = s.User(ctx, "acme", "u") }},
		{"UserByEmail", func() { _, _ = s.UserByEmail(ctx, "acme", "U@acme.test") }},
		{"Opportunity", func() { _, _ = s.Opportunity(ctx, "acme", "o") }},
		{"Contact", func() { _, _ = s.Contact(ctx, "acme", "c") }},
		{"OpportunitiesByContact", func() { _, _ = s.OpportunitiesByContact(ctx, "acme", "c") }},
		{"Processed", func() { _, _ = s.Processed(ctx, "acme", "e1") }},
		{"History", func() { _, _ = s.History(ctx, "acme", record.KindOpportunity, "o") }},
	} {
		c.do()
		if trips := hook.take(); len(trips) != 1 {
			t.Errorf("%s made %d round trips (%s), want 1", c.name, len(trips), strings.Join(trips, ", "))
		}
	}
}

func TestLedgerTTL(t *testing.T) {
	ctx := t.Context()
	client, prefix := redistest.Shared(t)
	s, err := redis.New(client, redis.Config{Prefix: prefix, LedgerTTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(ctx, &store.Changeset{AccountID: "acme", EventID: "e1"}); err != nil {
		t.Fatal(err)
	}
	ttl, err := client.PTTL(ctx, prefix+":{acme}:ledger:e1").Result()
	if err != nil {
		t.Fatal(err)
	}
	if ttl <= 59*time.Minute || ttl > time.Hour {
		t.Errorf("ledger entry TTL = %v, want about 1h", ttl)
	}
	if ok, err := s.Processed(ctx, "acme", "e1"); err != nil || !ok {
		t.Errorf("Processed = %v, %v; want true", ok, err)
	}
	if err := client.PExpire(ctx, prefix+":{acme}:ledger:e1", time.Millisecond).Err(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond)
	if ok, err := s.Processed(ctx, "acme", "e1"); err != nil || ok {
		t.Errorf("Processed after expiry = %v, %v; want false", ok, err)
	}
	if err := s.Commit(ctx, &store.Changeset{AccountID: "acme", EventID: "e1"}); err != nil {
		t.Errorf("Commit of an expired event: %v, want nil", err)
	}
}
