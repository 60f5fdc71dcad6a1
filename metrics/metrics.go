package metrics

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/followflow/followflow/engine"
	"github.com/followflow/followflow/event"
	"github.com/followflow/followflow/queue"
	"github.com/followflow/followflow/store"
)

// Metrics holds the worker's collectors.
type Metrics struct {
	registry     *prometheus.Registry
	processed    *prometheus.CounterVec
	failed       *prometheus.CounterVec
	deadLettered prometheus.Counter
	followers    *prometheus.CounterVec
	latency      prometheus.Histogram
}

// New registers the collectors; q, when set, is asked for the lag of each
// partition at every scrape.
func New(q queue.Queue) *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		processed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "followflow_events_processed_total",
			Help: "Events processed, by type and result (applied or duplicate).",
		}, []string{"type", "result"}),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "followflow_events_failed_total",
			Help: "Failed processing attempts (each is retried or dead-lettered).",
		}, []string{"reason"}),
		deadLettered: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "followflow_events_dead_lettered_total",
			Help: "Messages moved to the dead-letter queue.",
		}),
		followers: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "followflow_follower_outcomes_total",
			Help: "Follower action outcomes recorded in history (added, removed, limit_reached, ...).",
		}, []string{"outcome"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "followflow_event_processing_seconds",
			Help:    "Time to process one event, commit included.",
			Buckets: prometheus.ExponentialBuckets(0.00005, 2, 16),
		}),
	}
	m.registry.MustRegister(m.processed, m.failed, m.deadLettered, m.followers, m.latency,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if q != nil {
		m.registry.MustRegister(&lagCollector{q: q, desc: prometheus.NewDesc(
			"followflow_queue_lag", "Unacknowledged messages per partition.", []string{"partition"}, nil)})
	}
	return m
}

// Processed implements worker.Metrics.
func (m *Metrics) Processed(ev *event.Event, res engine.Result, took time.Duration) {
	result := "applied"
	if res.Duplicate {
		result = "duplicate"
	}
	m.processed.WithLabelValues(ev.Type, result).Inc()
	m.latency.Observe(took.Seconds())
}

// Failed implements worker.Metrics.
func (m *Metrics) Failed(reason string) { m.failed.WithLabelValues(reason).Inc() }

// DeadLettered implements worker.Metrics.
func (m *Metrics) DeadLettered(string) { m.deadLettered.Inc() }

// OnCommit counts the follower outcomes of a commit; use it as
// engine.Config.OnCommit.
func (m *Metrics) OnCommit(cs *store.Changeset) {
	for i := range cs.History {
		m.followers.WithLabelValues(string(cs.History[i].Outcome)).Inc()
	}
}

// Handler serves /metrics and /healthz.
func (m *Metrics) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte("ok\n"))
	})
	return mux
}

// Serve serves Handler on addr until ctx is cancelled. It returns the
// listener's address once listening (useful with port 0) through ready.
func (m *Metrics) Serve(ctx context.Context, addr string, ready func(net.Addr)) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	if ready != nil {
		ready(ln.Addr())
	}
	srv := &http.Server{Handler: m.Handler(), ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

type lagCollector struct {
	q    queue.Queue
	desc *prometheus.Desc
}

func (c *lagCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *lagCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	stats, err := c.q.Stats(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.desc, err)
		return
	}
	for _, s := range stats {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(s.Lag), strconv.Itoa(s.Partition))
	}
}
