package cli

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"github.com/followflow/followflow/engine"
	"github.com/followflow/followflow/event"
	"github.com/followflow/followflow/metrics"
	"github.com/followflow/followflow/worker"
	"github.com/followflow/followflow/workflow"
)

func (e *env) runCmd() *cobra.Command {
	var (
		bf                      backendFlags
		workflows               []string
		consumers, batch, tries int
		staleEvery              time.Duration
		httpAddr                string
		logFormat, logLevel     string
		workerID                string
		traceLog                bool
	)
	c := &cobra.Command{
		Use:   "run --workflows PATH",
		Short: "The worker: consume the queue, apply events, run workflows and the stale scanner",
		Long: `The worker consumes the queue until SIGINT or SIGTERM, then finishes or hands
back its in-flight events and releases its partitions. Workflows are files or
directories, reloaded on SIGHUP; a bad reload keeps the old set and logs why.
Every flag can also be set with FOLLOWFLOW_<FLAG> (FOLLOWFLOW_REDIS_URL for
--redis). With no backend flag the embedded SQLite database followflow.db in
the working directory holds store and queue.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			ctx := c.Context()
			log, err := e.logger(logFormat, logLevel)
			if err != nil {
				return err
			}
			set, diags := workflow.Load(workflows, workflow.Options{})
			if diags.HasErrors() {
				e.printDiags(diags, "text", e.stderr)
				return fmt.Errorf("workflows have errors; the worker did not start")
			}
			for _, d := range diags {
				log.Warn().Str("diagnostic", d.String()).Msg("workflow warning")
			}
			b, err := bf.open(ctx)
			if err != nil {
				return err
			}
			defer b.Close()
			m := metrics.New(b.Queue)
			eng, err := engine.New(engine.Config{Store: b.Store, Logger: log, OnCommit: m.OnCommit, Trace: traceLog}, set)
			if err != nil {
				return err
			}
			afterCommit, afterFetch, err := failpoint(e.getenv("FOLLOWFLOW_FAILPOINT"), log)
			if err != nil {
				return err
			}
			w, err := worker.New(worker.Config{
				Engine: eng, Queue: b.Queue, ID: workerID, Consumers: consumers, BatchSize: batch,
				MaxDeliveries: tries, StaleInterval: staleEvery, Logger: log, Metrics: m, AfterCommit: afterCommit,
				AfterFetch: afterFetch,
			})
			if err != nil {
				return usageError{err}
			}
			if httpAddr != "" {
				go func() {
					err := m.Serve(ctx, httpAddr, func(a net.Addr) {
						log.Info().Str("addr", a.String()).Msg("serving /metrics and /healthz")
					})
					if err != nil {
						log.Error().Err(err).Msg("metrics server stopped")
					}
				}()
			}
			// Listen before saying the worker started: a SIGHUP before
			// Notify would kill the process (its default action).
			hup := make(chan os.Signal, 1)
			signal.Notify(hup, syscall.SIGHUP)
			defer signal.Stop(hup)
			go e.reloadOnHUP(ctx, hup, eng, workflows, log)
			log.Info().Str("backend", b.Name).Int("workflows", set.Len()).Msg("starting")
			return w.Run(ctx)
		},
	}
	fl := c.Flags()
	bf.register(fl)
	fl.StringSliceVar(&workflows, "workflows", nil, "workflow files or directories (repeat or comma-separate)")
	fl.IntVar(&consumers, "consumers", 2, "consumers in this process (each holds its own partitions)")
	fl.IntVar(&batch, "batch", 100, "most messages read at once")
	fl.IntVar(&tries, "max-deliveries", 5, "deliveries of a failing message before it is dead-lettered")
	fl.DurationVar(&staleEvery, "stale-interval", time.Minute, "how often the stale scanner runs (negative: never)")
	fl.StringVar(&httpAddr, "http-addr", "", "serve /metrics and /healthz on this address (e.g. :9090)")
	fl.StringVar(&logFormat, "log-format", "json", "log format: json or console")
	fl.StringVar(&logLevel, "log-level", "info", "log level: debug, info, warn, error")
	fl.StringVar(&workerID, "worker-id", "", "this worker's id in leases and logs (default: random)")
	fl.BoolVar(&traceLog, "trace", false, "log each event's trace (as simulate --format json shows it) at debug level")
	_ = c.MarkFlagRequired("workflows")
	return c
}

func (e *env) logger(format, level string) (zerolog.Logger, error) {
	lvl, err := zerolog.ParseLevel(level)
	if err != nil {
		return zerolog.Logger{}, usageError{fmt.Errorf("--log-level: %w", err)}
	}
	var log zerolog.Logger
	switch format {
	case "json":
		log = zerolog.New(e.stderr)
	case "console":
		log = zerolog.New(zerolog.ConsoleWriter{Out: e.stderr, TimeFormat: time.RFC3339})
	default:
		return log, usageError{fmt.Errorf("--log-format must be json or console, not %q", format)}
	}
	return log.Level(lvl).With().Timestamp().Logger(), nil
}

// reloadOnHUP reloads the workflows at each signal on hup (SIGHUP); a set
// with errors is logged and the running set kept.
func (e *env) reloadOnHUP(ctx context.Context, hup <-chan os.Signal, eng *engine.Engine, paths []string, log zerolog.Logger) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
		}
		set, diags := workflow.Load(paths, workflow.Options{})
		if diags.HasErrors() {
			for _, d := range diags {
				log.Error().Str("diagnostic", d.String()).Msg("reload refused")
			}
			log.Error().Int("workflows", eng.Workflows().Len()).Msg("workflows have errors; keeping the running set")
			continue
		}
		eng.SetWorkflows(set)
		log.Info().Int("workflows", set.Len()).Msg("workflows reloaded")
	}
}

// failpoint parses FOLLOWFLOW_FAILPOINT, which tests use to make a worker
// fail on purpose:
//   - crash-after-commit:N kills the process with SIGKILL right after its
//     Nth commit, before the acknowledgement (on SQLite, which acknowledges
//     in the commit's transaction, after both): nothing may be lost and
//     nothing applied twice;
//   - delay-after-commit:D sleeps D after every commit, so that a test can
//     stop and resume a worker mid-stream;
//   - delay-after-fetch:D sleeps D after every fetch that returned
//     messages, before processing them, so that a test can stop a worker
//     that holds a batch it has not committed yet; it logs "failpoint
//     delay-after-fetch" (debug) as each sleep starts, for the test to
//     stop the worker then.
func failpoint(spec string, log zerolog.Logger) (afterCommit func(*event.Event), afterFetch func(), err error) {
	if spec == "" {
		return nil, nil, nil
	}
	name, arg, _ := strings.Cut(spec, ":")
	switch name {
	case "crash-after-commit":
		count, err := strconv.Atoi(arg)
		if err != nil || count < 1 {
			break
		}
		var commits atomic.Int64
		return func(*event.Event) {
			if commits.Add(1) == int64(count) {
				syscall.Kill(os.Getpid(), syscall.SIGKILL)
				select {} // never returns; the kill is on its way
			}
		}, nil, nil
	case "delay-after-commit", "delay-after-fetch":
		d, err := time.ParseDuration(arg)
		if err != nil || d <= 0 {
			break
		}
		if name == "delay-after-fetch" {
			return nil, func() {
				log.Debug().Dur("sleep", d).Msg("failpoint delay-after-fetch")
				time.Sleep(d)
			}, nil
		}
		return func(*event.Event) { time.Sleep(d) }, nil, nil
	}
	return nil, nil, usageError{fmt.Errorf("FOLLOWFLOW_FAILPOINT=%q: want crash-after-commit:N, delay-after-commit:DURATION or delay-after-fetch:DURATION", spec)}
}
