package redistest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// AddrEnv names the environment variable holding the address of the shared
// test server used by Shared.
const AddrEnv = "FOLLOWFLOW_TEST_REDIS_ADDR"

// DefaultSharedAddr is the shared test server's address when AddrEnv is unset.
const DefaultSharedAddr = "127.0.0.1:6379"

// startTimeout bounds how long a private server may take to answer PING.
const startTimeout = 10 * time.Second

// stopTimeout bounds a graceful stop before the server is killed.
const stopTimeout = 10 * time.Second

// Option configures a server started by Start.
type Option func(*options)

type options struct {
	aof     bool
	cluster bool
}

// WithAOF turns on the append-only file with appendfsync everysec, so that
// the data of a server survives Restart, and Kill once the write has reached
// the file (see Server.WaitAOF).
func WithAOF() Option { return func(o *options) { o.aof = true } }

// WithCluster starts the server in cluster mode as a one-node Redis Cluster
// that serves all 16384 hash slots, so that a test sees the cluster's rules
// (a multi-key command or script whose keys are not in one slot fails with
// CROSSSLOT). Reach it with Server.ClusterClient. It needs Redis 7 or later.
func WithCluster() Option { return func(o *options) { o.cluster = true } }

// Server is a private redis-server process owned by one test.
type Server struct {
	t    testing.TB
	opts options
	dir  string
	port int
	bus  int // cluster bus port, with WithCluster

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
}

// unavailable skips the test, or fails it when CI is "true".
func unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("CI") == "true" {
		t.Fatalf("redistest: %s (CI=true: Redis integration tests must run, not skip)", msg)
	}
	t.Skipf("redistest: %s; install Redis to run this test (apt-get install redis-server, or brew install redis)", msg)
}

// Start starts a private redis-server on a free 127.0.0.1 port with its
// working directory in t.TempDir(), waits until it answers PING and stops
// it when the test ends. It skips the test (fails it under CI=true) when
// redis-server is not on PATH.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		unavailable(t, "redis-server is not on PATH")
	}
	s := &Server{t: t, dir: t.TempDir()}
	for _, o := range opts {
		o(&s.opts)
	}
	t.Cleanup(func() { s.kill() })

	var lastErr error
	for range 5 {
		port, err := freePort()
		if err != nil {
			t.Fatalf("redistest: finding a free port: %v", err)
		}
		s.port = port
		if s.opts.cluster {
			if s.bus, err = freePort(); err != nil {
				t.Fatalf("redistest: finding a free port: %v", err)
			}
		}
		if lastErr = s.start(bin); lastErr == nil {
			return s
		}
		// Most likely another process took the port in between: try another.
		s.kill()
	}
	t.Fatalf("redistest: starting redis-server: %v", lastErr)
	return nil
}

// Addr returns the server's address, host:port.
func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// Dir returns the server's working directory (where its AOF and log live).
func (s *Server) Dir() string { return s.dir }

// Client returns a new client of the server, closed when the test ends.
func (s *Server) Client(t testing.TB) *goredis.Client {
	t.Helper()
	c := goredis.NewClient(&goredis.Options{Addr: s.Addr()})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// ClusterClient returns a new cluster client of a server started
// WithCluster, closed when the test ends.
func (s *Server) ClusterClient(t testing.TB) *goredis.ClusterClient {
	t.Helper()
	if !s.opts.cluster {
		t.Fatalf("redistest: ClusterClient of a server started without WithCluster")
	}
	c := goredis.NewClusterClient(&goredis.ClusterOptions{Addrs: []string{s.Addr()}})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// Kill kills the server with SIGKILL, as a crash would, and waits until it
// is gone. Data not yet written to the AOF is lost.
func (s *Server) Kill() {
	s.t.Helper()
	s.kill()
}

// Stop stops the server gracefully (SIGTERM: Redis flushes its AOF and
// exits), killing it if it does not exit within 10 seconds.
func (s *Server) Stop() {
	s.t.Helper()
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(stopTimeout):
		s.t.Logf("redistest: redis-server on %s did not stop within %v; killing it", s.Addr(), stopTimeout)
	}
	s.kill()
}

// Restart stops the server gracefully if it is running, then starts it again
// on the same port and in the same directory, so that with WithAOF its data
// survives. It waits until the server answers PING.
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		s.t.Fatalf("redistest: redis-server: %v", err)
	}
	// The port may linger for a moment after the old process exits.
	deadline := time.Now().Add(startTimeout)
	for {
		err := s.start(bin)
		if err == nil {
			return
		}
		s.kill()
		if time.Now().After(deadline) {
			s.t.Fatalf("redistest: restarting redis-server on %s: %v", s.Addr(), err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// WaitAOF waits until every write the server has acknowledged is in its
// append-only file (in the kernel's hands, so that it survives Kill, though
// not a machine crash).
func (s *Server) WaitAOF(ctx context.Context) error {
	c := goredis.NewClient(&goredis.Options{Addr: s.Addr()})
	defer c.Close()
	for {
		info, err := c.Info(ctx, "persistence").Result()
		if err != nil {
			return err
		}
		if infoField(info, "aof_enabled") != "1" {
			return errors.New("redistest: AOF is not enabled (use WithAOF)")
		}
		if infoField(info, "aof_buffer_length") == "0" && infoField(info, "aof_rewrite_in_progress") == "0" {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func infoField(info, name string) string {
	for line := range strings.Lines(info) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), name+":"); ok {
			return v
		}
	}
	return ""
}

func (s *Server) args() []string {
	a := []string{
		"--port", strconv.Itoa(s.port),
		"--bind", "127.0.0.1",
		"--dir", s.dir,
		"--logfile", filepath.Join(s.dir, "redis.log"),
		"--daemonize", "no",
		"--protected-mode", "no",
		"--save", "",
	}
	if s.opts.aof {
		a = append(a, "--appendonly", "yes", "--appendfsync", "everysec")
	} else {
		a = append(a, "--appendonly", "no")
	}
	if s.opts.cluster {
		a = append(a,
			"--cluster-enabled", "yes",
			"--cluster-config-file", filepath.Join(s.dir, "nodes.conf"),
			"--cluster-port", strconv.Itoa(s.bus),
		)
	}
	return a
}

// start runs the process and waits for PING. On failure the process may
// still be running; the caller kills it.
func (s *Server) start(bin string) error {
	cmd := exec.Command(bin, s.args()...)
	cmd.Dir = s.dir
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	s.mu.Lock()
	s.cmd, s.done = cmd, done
	s.mu.Unlock()

	c := goredis.NewClient(&goredis.Options{Addr: s.Addr(), MaxRetries: -1, DialTimeout: time.Second})
	defer c.Close()
	deadline := time.Now().Add(startTimeout)
	for {
		select {
		case <-done:
			return fmt.Errorf("redis-server exited at start: %s", s.logTail())
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := c.Ping(ctx).Err()
		if err == nil && s.opts.cluster {
			err = clusterReady(ctx, c)
		}
		cancel()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("redis-server on %s did not get ready within %v (%v): %s", s.Addr(), startTimeout, err, s.logTail())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// clusterReady assigns every slot to the node when none is (a new cluster;
// a restarted one keeps its slots in nodes.conf) and reports whether the
// cluster state is ok.
func clusterReady(ctx context.Context, c *goredis.Client) error {
	info, err := c.ClusterInfo(ctx).Result()
	if err != nil {
		return err
	}
	if infoField(info, "cluster_slots_assigned") == "0" {
		if err := c.Do(ctx, "CLUSTER", "ADDSLOTSRANGE", 0, 16383).Err(); err != nil {
			return fmt.Errorf("assigning slots: %w", err)
		}
	}
	if state := infoField(info, "cluster_state"); state != "ok" {
		return fmt.Errorf("cluster_state is %q", state)
	}
	return nil
}

// kill sends SIGKILL to the server's process group and waits for it to exit.
func (s *Server) kill() {
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.cmd, s.done = nil, nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	killGroup(cmd)
	<-done
}

func (s *Server) logTail() string {
	b, err := os.ReadFile(filepath.Join(s.dir, "redis.log"))
	if err != nil {
		return "(no log)"
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > 10 {
		lines = lines[len(lines)-10:]
	}
	return "log: " + strings.Join(lines, " | ")
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Shared returns a client of the shared test server (AddrEnv, default
// 127.0.0.1:6379) and a key prefix unique to this test ("fftest:" and 16 hex
// digits, no trailing colon). Every key that starts with the prefix is
// deleted (SCAN + UNLINK) when the test ends. It skips the test (fails it
// under CI=true) when the server does not answer.
func Shared(t testing.TB) (*goredis.Client, string) {
	t.Helper()
	addr := os.Getenv(AddrEnv)
	if addr == "" {
		addr = DefaultSharedAddr
	}
	c := goredis.NewClient(&goredis.Options{Addr: addr})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	err := c.Ping(ctx).Err()
	cancel()
	if err != nil {
		_ = c.Close()
		unavailable(t, "no Redis server answers on %s (%v); set %s to use another one", addr, err, AddrEnv)
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	prefix := "fftest:" + hex.EncodeToString(b[:])
	t.Cleanup(func() { _ = c.Close() })
	// Registered after the Close above, so it runs before it.
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := DeletePrefix(ctx, c, prefix); err != nil {
			t.Errorf("redistest: deleting keys under %q: %v", prefix, err)
		}
	})
	return c, prefix
}

// DeletePrefix unlinks every key that starts with prefix, which must not
// contain glob characters (* ? [ ] \).
func DeletePrefix(ctx context.Context, c *goredis.Client, prefix string) error {
	if strings.ContainsAny(prefix, `*?[]\`) {
		return fmt.Errorf("redistest: prefix %q contains a glob character", prefix)
	}
	var cursor uint64
	for {
		keys, next, err := c.Scan(ctx, cursor, prefix+"*", 1000).Result()
		if err != nil {
			return err
		}
		if len(keys) > 0 {
			if err := c.Unlink(ctx, keys...).Err(); err != nil {
				return err
			}
		}
		if next == 0 {
			return nil
		}
		cursor = next
	}
}
