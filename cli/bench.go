package cli

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/followflow/followflow/bench"
)

func (e *env) benchCmd() *cobra.Command {
	var (
		w                bench.Workload
		mix              string
		cfg              bench.Config
		redisURL, db     string
		prefix           string
		partitions       int
		leaseTTL         time.Duration
		noBaseline, keep bool
		format           string
		svgPath, sweep   string
		cpuProfile       string
	)
	c := &cobra.Command{
		Use:   "bench",
		Short: "Measure the pipeline on a backend against a bare-queue baseline",
		Long: `Generates a workload (accounts, users, opportunities, workflows, events), loads
the data into a fresh store, pushes the events onto the queue from a producer
and lets a worker consume, process and acknowledge them, then measures a
baseline in the same run: the queue alone with the same producer, consumers
and batch size (Redis: bare XADD, XREADGROUP, XACK on a stream of its own;
SQLite: sqlitequeue Push, Fetch, Ack in a fresh database file).

It reports events/s (applied events over the time from the first push to the
last commit), push-to-commit latency percentiles, CPU time per event and peak
RSS, for both, and their ratio engine/baseline.

The run starts from nothing and cleans up after itself: SQLite files in a
temporary directory (or --db FILE, which must not exist), or Redis keys under
a fresh prefix (or --prefix P, under which no key may exist yet), deleted
with SCAN and UNLINK at the end.

--svg FILE runs a sweep (--sweep workers=1,2,4 or batch=10,100,500) and draws
the throughput of engine and baseline at each point.`,
		Example: `  followflow bench
  followflow bench --redis redis://127.0.0.1:6379/0 --workers 2
  followflow bench --rate 2000 --events 20000       # latency at 2,000 events/s
  followflow bench --svg docs/bench-sqlite-workers.svg --sweep workers=1,2,4
  followflow bench --cpuprofile cpu.pprof --no-baseline && go tool pprof -top -cum cpu.pprof
  followflow bench stale --store sqlite`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			ctx := c.Context()
			var err error
			if w.Mix, err = bench.ParseMix(mix); err != nil {
				return usageError{fmt.Errorf("--mix: %w", err)}
			}
			if format != "text" && format != "json" {
				return usageError{fmt.Errorf("--format must be text or json, not %q", format)}
			}
			for _, f := range []struct {
				name   string
				v, min int
			}{
				{"accounts", w.Accounts, 1}, {"users", w.Users, 1}, {"opportunities", w.Opportunities, 1},
				{"workflows", w.Workflows, 0}, {"events", w.Events, 1}, {"workers", cfg.Workers, 1},
				{"batch", cfg.Batch, 1}, {"partitions", partitions, 1},
			} {
				if f.v < f.min {
					return usageError{fmt.Errorf("--%s must be at least %d, not %d", f.name, f.min, f.v)}
				}
			}
			if cfg.Rate < 0 {
				return usageError{fmt.Errorf("--rate must not be negative")}
			}
			cfg.NoBaseline = noBaseline
			cfg.Target = bench.Target{RedisURL: redisURL, Prefix: prefix, DBPath: db, Partitions: partitions, LeaseTTL: leaseTTL, Keep: keep}
			if err := w.Validate(); err != nil {
				return usageError{err}
			}
			if err := cfg.WithDefaults().Validate(); err != nil {
				return usageError{err}
			}
			var sw bench.SweepSpec
			if svgPath != "" {
				if sw, err = bench.ParseSweep(sweep); err != nil {
					return usageError{fmt.Errorf("--sweep: %w", err)}
				}
				if cpuProfile != "" {
					return usageError{fmt.Errorf("--cpuprofile profiles one run: leave out --svg")}
				}
			}
			cfg.Progress = terminal(e.stderr)
			if cpuProfile != "" {
				f, err := os.Create(cpuProfile)
				if err != nil {
					return err
				}
				defer f.Close()
				cfg.CPUProfile = f
			}
			g, err := bench.Generate(w)
			if err != nil {
				return err
			}
			if svgPath == "" {
				rep, err := bench.Run(ctx, cfg, g)
				if err != nil {
					return err
				}
				if format == "json" {
					return rep.WriteJSON(e.stdout)
				}
				return rep.WriteText(e.stdout)
			}
			sr, err := bench.Sweep(ctx, cfg, g, sw)
			if err != nil {
				return err
			}
			f, err := os.Create(svgPath)
			if err != nil {
				return err
			}
			if err := sr.WriteSVG(f); err != nil {
				f.Close()
				return err
			}
			if err := f.Close(); err != nil {
				return err
			}
			if format == "json" {
				return sr.WriteJSON(e.stdout)
			}
			if err := sr.WriteText(e.stdout); err != nil {
				return err
			}
			_, err = fmt.Fprintf(e.stdout, "chart written to %s\n", svgPath)
			return err
		},
	}
	fl := c.Flags()
	fl.IntVar(&w.Accounts, "accounts", bench.DefaultAccounts, "accounts")
	fl.IntVar(&w.Users, "users", bench.DefaultUsers, "users per account")
	fl.IntVar(&w.Opportunities, "opportunities", bench.DefaultOpportunities, "opportunities per account, loaded before the run (and a quarter as many contacts)")
	fl.IntVar(&w.Workflows, "workflows", bench.DefaultWorkflows, "workflows, spread over the accounts")
	fl.IntVar(&w.Events, "events", bench.DefaultEvents, "events pushed")
	fl.StringVar(&mix, "mix", bench.DefaultMix, "event mix, kind=weight,... with kinds "+strings.Join(bench.MixKinds(), ", "))
	fl.Uint64Var(&w.Seed, "seed", 1, "seed of the generated workload")
	fl.IntVar(&cfg.Workers, "workers", bench.DefaultWorkers, "consumers (the worker's --consumers, and the baseline's)")
	fl.IntVar(&cfg.Batch, "batch", bench.DefaultBatch, "most messages one fetch reads (the worker's --batch, the baseline's COUNT)")
	fl.Float64Var(&cfg.Rate, "rate", 0, "push at this many events/s (0: as fast as possible)")
	fl.BoolVar(&noBaseline, "no-baseline", false, "skip the baseline")
	fl.StringVar(&db, "db", "", "SQLite database file to create (must not exist; the baseline's gets -baseline before the extension); default: a temporary directory")
	fl.StringVar(&redisURL, "redis", "", "Redis URL (redis://host:port/db): run on Redis instead of SQLite")
	fl.StringVar(&prefix, "prefix", "", "Redis key prefix; no key may exist under it (default: followflow-bench- and random hex)")
	fl.IntVar(&partitions, "partitions", 16, "queue partitions")
	fl.DurationVar(&leaseTTL, "lease-ttl", 10*time.Second, "partition lease duration")
	fl.BoolVar(&keep, "keep", false, "keep the database files or Redis keys of the run")
	fl.StringVar(&format, "format", "text", "output format: text or json")
	fl.StringVar(&svgPath, "svg", "", "run a sweep and draw engine and baseline throughput in this SVG file")
	fl.StringVar(&sweep, "sweep", "workers=1,2,4", "with --svg: the setting and values to sweep, workers=N,... or batch=N,...")
	fl.StringVar(&cpuProfile, "cpuprofile", "", "write a pprof CPU profile of the engine phase (first push to last commit) to this file")
	c.AddCommand(e.benchStaleCmd())
	return c
}

// terminal returns w when it is a terminal (a character device), for a
// progress bar, and nil otherwise.
func terminal(w io.Writer) io.Writer {
	f, ok := w.(*os.File)
	if !ok {
		return nil
	}
	fi, err := f.Stat()
	if err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		return nil
	}
	return w
}

func (e *env) benchStaleCmd() *cobra.Command {
	var (
		cfg                  bench.StaleConfig
		sizes                string
		db, redisURL, prefix string
		keep                 bool
		format               string
	)
	c := &cobra.Command{
		Use:   "stale",
		Short: "Time the stale scan at 100k and 1M opportunities with the same stale ones",
		Long: `Loads one fresh store for each of --sizes (default 100,000 and 1,000,000
opportunities), each with the same --stale opportunities (default 1,000)
stale and the others recently active, and times engine.StaleEvents on each:
--repeat scans after an untimed one, the sizes taking turns, reporting the
fastest (the scan's own cost, least disturbed by the rest of the machine)
and the median. The scan's cost must
follow the stale opportunities, not all of them: the target is
1M <= 1.2x 100k.

The store is in memory unless --store sqlite (a fresh file: --db, or a
temporary directory) or --store redis (--redis URL, keys under a fresh
--prefix, deleted at the end).`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if format != "text" && format != "json" {
				return usageError{fmt.Errorf("--format must be text or json, not %q", format)}
			}
			cfg.Sizes = nil
			for s := range strings.SplitSeq(sizes, ",") {
				n, err := strconv.Atoi(strings.TrimSpace(strings.ReplaceAll(s, "_", "")))
				if err != nil || n < 1 {
					return usageError{fmt.Errorf("--sizes: %q is not a positive integer", s)}
				}
				cfg.Sizes = append(cfg.Sizes, n)
			}
			if cfg.Stale < 1 || cfg.Accounts < 1 || cfg.Repeat < 1 {
				return usageError{fmt.Errorf("--stale, --accounts and --repeat must be at least 1")}
			}
			cfg.Target = bench.Target{RedisURL: redisURL, Prefix: prefix, DBPath: db, Keep: keep}
			if err := cfg.WithDefaults().Validate(); err != nil {
				return usageError{err}
			}
			cfg.Progress = terminal(e.stderr)
			rep, err := bench.Stale(c.Context(), cfg)
			if err != nil {
				return err
			}
			if format == "json" {
				return rep.WriteJSON(e.stdout)
			}
			return rep.WriteText(e.stdout)
		},
	}
	fl := c.Flags()
	fl.StringVar(&cfg.Store, "store", "memory", "store: memory, sqlite or redis")
	fl.StringVar(&sizes, "sizes", "100000,1000000", "opportunity counts to scan at, ascending")
	fl.IntVar(&cfg.Stale, "stale", bench.DefaultStale, "stale opportunities (the same at every size)")
	fl.IntVar(&cfg.Accounts, "accounts", bench.DefaultStaleAccounts, "accounts the opportunities are spread over (each with one stale workflow)")
	fl.IntVar(&cfg.Repeat, "repeat", 11, "scans timed at each size, after an untimed one")
	fl.StringVar(&db, "db", "", "with --store sqlite: database file name; each size gets its own file, -<size> before the extension (they must not exist); default: a temporary directory")
	fl.StringVar(&redisURL, "redis", "", "with --store redis: Redis URL")
	fl.StringVar(&prefix, "prefix", "", "with --store redis: key prefix; no key may exist under it (default: followflow-bench- and random hex)")
	fl.BoolVar(&keep, "keep", false, "keep the database file or Redis keys")
	fl.StringVar(&format, "format", "text", "output format: text or json")
	return c
}
