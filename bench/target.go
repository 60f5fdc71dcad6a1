package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/followflow/followflow/backend"
	"github.com/followflow/followflow/queue"
)

// Target is the backend a run measures, and where its data goes. Every run
// starts from nothing: fresh database files or an unused key prefix.
type Target struct {
	// RedisURL, when set (redis://host:port/db), runs on Redis; otherwise
	// on the embedded SQLite backend.
	RedisURL string
	// Prefix starts every Redis key of the run: the engine's store and
	// queue use it (Prefix:<label> in a sweep) and the baseline's stream is
	// Prefix:[<label>:]baseline. No key may exist under it yet. It must not
	// contain '{', '}' or glob characters. Default: "followflow-bench-" and
	// 8 random hex digits.
	Prefix string
	// DBPath is the SQLite database file of the engine; it must not exist.
	// The baseline uses DBPath with "-baseline" before the extension, a
	// sweep adds "-<label>". Default: files in a new temporary directory.
	DBPath string
	// Partitions is the number of queue partitions. Default
	// queue.DefaultPartitions.
	Partitions int
	// LeaseTTL is the partition lease duration. Default 10s.
	LeaseTTL time.Duration
	// Keep keeps the database files or Redis keys of the run; by default
	// they are deleted when it ends.
	Keep bool
}

// IsRedis reports whether the target is Redis.
func (t Target) IsRedis() bool { return t.RedisURL != "" }

// site is an opened Target: what every phase of a run (or of a sweep)
// shares.
type site struct {
	t       Target
	tempDir string          // SQLite: the temporary directory, if any
	client  *goredis.Client // Redis: for the baseline, cleanup and INFO
	addr    string
	created []string // SQLite files created, for cleanup
}

func openSite(ctx context.Context, t Target) (*site, error) {
	if t.Partitions == 0 {
		t.Partitions = queue.DefaultPartitions
	}
	if t.LeaseTTL == 0 {
		t.LeaseTTL = 10 * time.Second
	}
	s := &site{t: t}
	if !t.IsRedis() {
		if t.DBPath == "" {
			dir, err := os.MkdirTemp("", "followflow-bench-")
			if err != nil {
				return nil, err
			}
			s.tempDir = dir
			s.t.DBPath = filepath.Join(dir, "engine.db")
		}
		return s, nil
	}
	if s.t.Prefix == "" {
		var b [4]byte
		_, _ = rand.Read(b[:])
		s.t.Prefix = "followflow-bench-" + hex.EncodeToString(b[:])
	}
	if strings.ContainsAny(s.t.Prefix, "{}*?[]\\") {
		return nil, fmt.Errorf("prefix %q: must not contain '{', '}' or glob characters", s.t.Prefix)
	}
	opts, err := goredis.ParseURL(t.RedisURL)
	if err != nil {
		return nil, fmt.Errorf("--redis %q: %w", t.RedisURL, err)
	}
	// The same client settings as backend.Open's.
	opts.ContextTimeoutEnabled = true
	s.client, s.addr = goredis.NewClient(opts), opts.Addr
	if err := s.client.Ping(ctx).Err(); err != nil {
		s.client.Close()
		return nil, fmt.Errorf("connecting to Redis at %s: %w", opts.Addr, err)
	}
	used, err := s.anyKey(ctx, s.t.Prefix+":*")
	if err != nil {
		s.client.Close()
		return nil, err
	}
	if used != "" {
		s.client.Close()
		return nil, fmt.Errorf("keys under the prefix %q exist already (%s): choose an unused --prefix", s.t.Prefix, used)
	}
	return s, nil
}

// where describes the target for the report.
func (s *site) where() string {
	if s.client != nil {
		return fmt.Sprintf("redis %s, prefix %s", s.addr, s.t.Prefix)
	}
	if s.tempDir != "" && !s.t.Keep {
		return "sqlite, files in a temporary directory"
	}
	return "sqlite " + s.t.DBPath
}

// backendName is "redis" or "sqlite".
func (s *site) backendName() string {
	if s.client != nil {
		return "redis"
	}
	return "sqlite"
}

// dbPath returns the SQLite file of a phase: the engine's (baseline false)
// or the baseline's, of the sweep point label ("" outside a sweep).
func (s *site) dbPath(label string, baseline bool) string {
	ext := filepath.Ext(s.t.DBPath)
	p := strings.TrimSuffix(s.t.DBPath, ext)
	if label != "" {
		p += "-" + label
	}
	if baseline {
		p += "-baseline"
	}
	return p + ext
}

// prefix returns the Redis key prefix of the engine of a sweep point.
func (s *site) prefix(label string) string {
	if label == "" {
		return s.t.Prefix
	}
	return s.t.Prefix + ":" + label
}

// streamKey returns the Redis stream of the baseline of a sweep point.
func (s *site) streamKey(label string) string { return s.prefix(label) + ":baseline" }

// openBackend opens a fresh backend for a phase.
func (s *site) openBackend(ctx context.Context, label string, baseline bool) (*backend.Backend, error) {
	o := backend.Options{Partitions: s.t.Partitions, LeaseTTL: s.t.LeaseTTL}
	if s.client != nil {
		o.RedisURL, o.Prefix = s.t.RedisURL, s.prefix(label)
		return backend.Open(ctx, o)
	}
	o.DBPath = s.dbPath(label, baseline)
	if _, err := os.Stat(o.DBPath); err == nil {
		return nil, fmt.Errorf("%s exists already: the bench writes a fresh database (remove it or choose another --db)", o.DBPath)
	}
	s.created = append(s.created, o.DBPath)
	return backend.Open(ctx, o)
}

// drop deletes what a phase created, unless the target keeps it.
func (s *site) drop(ctx context.Context, label string, baseline bool) error {
	if s.t.Keep {
		return nil
	}
	if s.client != nil {
		if baseline {
			return s.client.Unlink(ctx, s.streamKey(label)).Err()
		}
		return s.deleteKeys(ctx, s.prefix(label)+":*")
	}
	return removeDB(s.dbPath(label, baseline))
}

func removeDB(path string) error {
	var errs []error
	for _, p := range []string{path, path + "-wal", path + "-shm", path + "-journal"} {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// close deletes what is left of the run (unless kept) and closes the
// Redis client.
func (s *site) close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var errs []error
	if s.client != nil {
		if !s.t.Keep {
			errs = append(errs, s.deleteKeys(ctx, s.t.Prefix+":*"))
		}
		errs = append(errs, s.client.Close())
	}
	if !s.t.Keep {
		for _, p := range s.created {
			errs = append(errs, removeDB(p))
		}
		if s.tempDir != "" {
			errs = append(errs, os.RemoveAll(s.tempDir))
		}
	}
	return errors.Join(errs...)
}

// anyKey returns a key matching the pattern, or "" when there is none.
func (s *site) anyKey(ctx context.Context, pattern string) (string, error) {
	var cursor uint64
	for {
		keys, next, err := s.client.Scan(ctx, cursor, pattern, 1000).Result()
		if err != nil {
			return "", err
		}
		if len(keys) > 0 {
			return keys[0], nil
		}
		if next == 0 {
			return "", nil
		}
		cursor = next
	}
}

// deleteKeys unlinks every key matching the pattern (SCAN + UNLINK; never
// FLUSHALL: the server may be shared).
func (s *site) deleteKeys(ctx context.Context, pattern string) error {
	var cursor uint64
	for {
		keys, next, err := s.client.Scan(ctx, cursor, pattern, 1000).Result()
		if err != nil {
			return fmt.Errorf("deleting keys %s: %w", pattern, err)
		}
		if len(keys) > 0 {
			if err := s.client.Unlink(ctx, keys...).Err(); err != nil {
				return fmt.Errorf("deleting keys %s: %w", pattern, err)
			}
		}
		if next == 0 {
			return nil
		}
		cursor = next
	}
}

// serverCPU returns the Redis server's CPU time so far (INFO cpu), or
// false when it cannot be read or the target is not Redis.
func (s *site) serverCPU(ctx context.Context) (time.Duration, bool) {
	if s.client == nil {
		return 0, false
	}
	info, err := s.client.Info(ctx, "cpu").Result()
	if err != nil {
		return 0, false
	}
	var total float64
	found := 0
	for line := range strings.SplitSeq(info, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		if ok && (k == "used_cpu_user" || k == "used_cpu_sys") {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return 0, false
			}
			total += f
			found++
		}
	}
	return time.Duration(total * float64(time.Second)), found == 2
}
