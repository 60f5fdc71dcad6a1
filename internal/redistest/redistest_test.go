package redistest_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/followflow/followflow/internal/redistest"
)

func TestStartAnswersAndStopsOnCleanup(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var addr string
	t.Run("server", func(t *testing.T) {
		s := redistest.Start(t)
		addr = s.Addr()
		if !strings.HasPrefix(addr, "127.0.0.1:") {
			t.Fatalf("Addr() = %q, want 127.0.0.1:port", addr)
		}
		c := s.Client(t)
		if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
			t.Fatal(err)
		}
		if got := c.Get(ctx, "k").Val(); got != "v" {
			t.Fatalf("GET k = %q, want v", got)
		}
	})
	// The subtest's cleanup has stopped the server.
	c := goredis.NewClient(&goredis.Options{Addr: addr, MaxRetries: -1})
	defer c.Close()
	pctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	if err := c.Ping(pctx).Err(); err == nil {
		t.Fatalf("server on %s still answers after its test ended", addr)
	}
}

func TestKillStopsTheServer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := redistest.Start(t)
	c := goredis.NewClient(&goredis.Options{Addr: s.Addr(), MaxRetries: -1})
	defer c.Close()
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	s.Kill()
	if err := c.Ping(ctx).Err(); err == nil {
		t.Fatal("PING succeeded after Kill")
	}
	s.Kill() // a second Kill is harmless
}

func TestRestartWithoutAOFLosesData(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := redistest.Start(t)
	c := s.Client(t)
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	s.Restart()
	if err := c.Get(ctx, "k").Err(); !errors.Is(err, goredis.Nil) {
		t.Fatalf("GET k after restart without AOF: err = %v, want redis.Nil", err)
	}
}

func TestAOFKeepsDataAcrossRestart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		name string
		stop func(*testing.T, *redistest.Server)
	}{
		{"graceful stop", func(_ *testing.T, s *redistest.Server) { s.Stop() }},
		{"kill after AOF write", func(t *testing.T, s *redistest.Server) {
			if err := s.WaitAOF(ctx); err != nil {
				t.Fatal(err)
			}
			s.Kill()
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := redistest.Start(t, redistest.WithAOF())
			addr := s.Addr()
			c := s.Client(t)
			if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
				t.Fatal(err)
			}
			tt.stop(t, s)
			s.Restart()
			if s.Addr() != addr {
				t.Fatalf("Addr() after restart = %q, want %q", s.Addr(), addr)
			}
			got, err := c.Get(ctx, "k").Result()
			if err != nil || got != "v" {
				t.Fatalf("GET k after restart = %q, %v; want v", got, err)
			}
		})
	}
}

func TestSharedPrefixIsUniqueAndCleanedUp(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var prefixes []string
	for _, name := range []string{"a", "b"} {
		t.Run(name, func(t *testing.T) {
			c, prefix := redistest.Shared(t)
			prefixes = append(prefixes, prefix)
			for _, k := range []string{prefix, prefix + ":x", prefix + ":{acct}:y"} {
				if err := c.Set(ctx, k, "v", 0).Err(); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
	if prefixes[0] == prefixes[1] {
		t.Fatalf("two tests got the same prefix %q", prefixes[0])
	}
	c, _ := redistest.Shared(t)
	for _, p := range prefixes {
		keys, _, err := c.Scan(ctx, 0, p+"*", 1000).Result()
		if err != nil {
			t.Fatal(err)
		}
		// One SCAN call may not cover the keyspace; iterate to be sure.
		for cursor := uint64(1); len(keys) == 0 && cursor != 0; {
			var more []string
			more, cursor, err = c.Scan(ctx, cursor, p+"*", 1000).Result()
			if err != nil {
				t.Fatal(err)
			}
			keys = append(keys, more...)
		}
		if len(keys) > 0 {
			t.Errorf("keys under %q left after cleanup: %v", p, keys)
		}
	}
}

func TestClusterServesEverySlot(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := redistest.Start(t, redistest.WithCluster(), redistest.WithAOF())
	c := s.ClusterClient(t)
	if err := c.Set(ctx, "{a}:x", "1", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.Set(ctx, "{b}:y", "2", 0).Err(); err != nil {
		t.Fatal(err)
	}
	// The cluster's rules hold: keys of different slots in one command fail.
	if err := c.Do(ctx, "MGET", "{a}:x", "{b}:y").Err(); err == nil || !strings.Contains(err.Error(), "CROSSSLOT") {
		t.Fatalf("MGET across slots: err = %v, want CROSSSLOT", err)
	}
	if got := c.MGet(ctx, "{a}:x", "{a}:z").Val(); len(got) != 2 || got[0] != "1" {
		t.Fatalf("MGET in one slot = %v", got)
	}
	s.Restart()
	if got, err := c.Get(ctx, "{b}:y").Result(); err != nil || got != "2" {
		t.Fatalf("GET after restart = %q, %v; want 2", got, err)
	}
}
