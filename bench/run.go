package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"runtime/pprof"
	"sync"
	"time"
)

// Config configures a run.
type Config struct {
	// Target is the backend and where the run's data goes.
	Target Target
	// Workers is the number of consumers: the worker's Consumers, and the
	// baseline's consumers. Default 2.
	Workers int
	// Batch is the most messages one fetch reads: the worker's BatchSize,
	// and the baseline's COUNT. Default 100.
	Batch int
	// Rate paces the producer at this many events per second; 0 pushes
	// as fast as the queue takes them.
	Rate float64
	// PushChunk is the most events one Queue.Push (one baseline pipeline)
	// carries. Default 500, as `followflow push`.
	PushChunk int
	// NoBaseline skips the baseline.
	NoBaseline bool
	// Progress, when set, shows a progress bar (a terminal's stderr).
	Progress io.Writer
	// CPUProfile, when set, receives a pprof CPU profile of the engine
	// phase (from the first push to the last commit). Not with Sweep.
	CPUProfile io.Writer
	// StallTimeout aborts a phase in which events wait and none was applied
	// for this long. Default 30s.
	StallTimeout time.Duration
}

// Defaults of Config.
const (
	DefaultWorkers   = 2
	DefaultBatch     = 100
	DefaultPushChunk = 500
)

// WithDefaults returns c with every zero field set to its default.
func (c Config) WithDefaults() Config {
	if c.Workers == 0 {
		c.Workers = DefaultWorkers
	}
	if c.Batch == 0 {
		c.Batch = DefaultBatch
	}
	if c.PushChunk == 0 {
		c.PushChunk = DefaultPushChunk
	}
	if c.StallTimeout == 0 {
		c.StallTimeout = 30 * time.Second
	}
	return c
}

// Validate names the first bad field.
func (c Config) Validate() error {
	switch {
	case c.Workers < 1:
		return errors.New("bench config: Workers must be at least 1")
	case c.Batch < 1:
		return errors.New("bench config: Batch must be at least 1")
	case c.Rate < 0:
		return errors.New("bench config: Rate must not be negative")
	case c.PushChunk < 1:
		return errors.New("bench config: PushChunk must be at least 1")
	case c.StallTimeout < 0:
		return errors.New("bench config: StallTimeout must not be negative")
	}
	return nil
}

// Run measures the engine, then the baseline, on the generated workload.
func Run(ctx context.Context, cfg Config, g *Generated) (*Report, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s, err := openSite(ctx, cfg.Target)
	if err != nil {
		return nil, err
	}
	rep, err := s.run(ctx, cfg, g, "")
	return rep, errors.Join(err, s.close())
}

// run measures one point: the engine, then the baseline.
func (s *site) run(ctx context.Context, cfg Config, g *Generated, label string) (*Report, error) {
	rep := newReport(s, cfg, g)
	eng, err := s.runEngine(ctx, cfg, g, label)
	if err != nil {
		return nil, fmt.Errorf("engine run: %w", err)
	}
	rep.Engine = eng
	if !cfg.NoBaseline {
		base, err := s.runBaseline(ctx, cfg, g, label)
		if err != nil {
			return nil, fmt.Errorf("baseline run: %w", err)
		}
		rep.Baseline = &base
		rep.Ratio = ratios(&rep.Engine, rep.Baseline)
	}
	return rep, nil
}

// phase is what measure needs of the engine or a baseline.
type phase struct {
	name string
	// push pushes events lo to hi-1.
	push func(ctx context.Context, lo, hi int) error
	// consumers stops when the consumers stop on their own (they must run
	// until their context is cancelled).
	consumers *stopper
	profile   io.Writer
}

// measure pushes every event and waits until each is applied (rec is fed
// by the phase's consumers), measuring time, CPU and memory.
func (s *site) measure(ctx context.Context, cfg Config, n int, rec *recorder, ph phase) (Phase, error) {
	// Return what earlier phases left to the system, so that the peak is
	// this phase's.
	debug.FreeOSMemory()
	peakScoped := resetPeakRSS()
	startRSS, _ := currentRSS()
	cpu0, cpuOK := cpuTime()
	srv0, srvOK := s.serverCPU(ctx)
	if ph.profile != nil {
		if err := pprof.StartCPUProfile(ph.profile); err != nil {
			return Phase{}, fmt.Errorf("starting the CPU profile: %w", err)
		}
	}
	stopProfile := func() {
		if ph.profile != nil {
			pprof.StopCPUProfile()
			ph.profile = nil
		}
	}
	defer stopProfile()

	pctx, cancelPush := context.WithCancel(ctx)
	pushed := make(chan error, 1)
	pushing := true
	defer func() {
		// Never leave the producer running on a backend about to close.
		cancelPush()
		if pushing {
			<-pushed
		}
	}()
	var pushTook time.Duration
	go func() {
		start := time.Now()
		err := produce(pctx, cfg, n, rec, ph.push)
		pushTook = time.Since(start)
		pushed <- err
	}()

	bar := newProgress(cfg.Progress, ph.name, n)
	defer bar.finish()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	last, lastChange := int64(0), time.Now()
wait:
	for {
		select {
		case <-rec.complete:
			break wait
		case <-ctx.Done():
			return Phase{}, ctx.Err()
		case err := <-pushed:
			pushing, pushed = false, nil
			if err != nil {
				return Phase{}, fmt.Errorf("pushing: %w", err)
			}
		case <-ph.consumers.done:
			if err := ph.consumers.err; err != nil {
				return Phase{}, err
			}
			return Phase{}, errors.New("the consumers stopped")
		case <-tick.C:
			done := rec.done.Load()
			bar.set(int(done))
			// Stalled: events are waiting and none was applied for a while.
			if done != last || rec.sent.Load() <= done {
				last, lastChange = done, time.Now()
			} else if cfg.StallTimeout > 0 && time.Since(lastChange) > cfg.StallTimeout {
				return Phase{}, fmt.Errorf("stalled: no event applied for %v (%d of %d applied or dead-lettered, %d transient failures)",
					cfg.StallTimeout, done, n, rec.failed.Load())
			}
		}
	}
	cpu1, _ := cpuTime()
	srv1, _ := s.serverCPU(ctx)
	stopProfile()
	bar.set(n)
	if pushing {
		pushing = false
		if err := <-pushed; err != nil {
			return Phase{}, fmt.Errorf("pushing: %w", err)
		}
	}
	applied, wall, lat := rec.result()
	p := Phase{
		Events: n, Applied: applied, DeadLettered: int(rec.dead.Load()), TransientFailures: int(rec.failed.Load()),
		Seconds: wall.Seconds(), PushSeconds: pushTook.Seconds(),
		Latency: latencyMS(lat),
	}
	if wall > 0 {
		p.EventsPerSec = float64(applied) / wall.Seconds()
	}
	if cpuOK {
		p.CPUSeconds = (cpu1 - cpu0).Seconds()
		if applied > 0 {
			p.CPUSecondsPerEvent = p.CPUSeconds / float64(applied)
		}
	}
	if srvOK {
		v := (srv1 - srv0).Seconds()
		p.ServerCPUSeconds = &v
	}
	p.StartRSSBytes = startRSS
	if rss, ok := peakRSS(); ok {
		p.PeakRSSBytes = rss
		p.PeakRSSScope = "process"
		if peakScoped {
			p.PeakRSSScope = "phase"
		}
	}
	return p, nil
}

// produce pushes events [0, n) in chunks, as fast as possible or paced at
// cfg.Rate, recording each event's push time just before its chunk's push.
func produce(ctx context.Context, cfg Config, n int, rec *recorder, push func(ctx context.Context, lo, hi int) error) error {
	start := time.Now()
	for lo := 0; lo < n; {
		hi := min(lo+cfg.PushChunk, n)
		if cfg.Rate > 0 {
			due := int(cfg.Rate*time.Since(start).Seconds()) + 1
			if due <= lo {
				next := start.Add(time.Duration(float64(lo) / cfg.Rate * float64(time.Second)))
				if err := sleepUntil(ctx, next); err != nil {
					return err
				}
				continue
			}
			hi = min(hi, due)
		}
		rec.push(lo, hi)
		if err := push(ctx, lo, hi); err != nil {
			return fmt.Errorf("events %d-%d: %w", lo, hi-1, err)
		}
		lo = hi
	}
	return nil
}

// stopper records why something stopped, once.
type stopper struct {
	once sync.Once
	done chan struct{}
	err  error // set before done is closed
}

func newStopper() *stopper { return &stopper{done: make(chan struct{})} }

func (s *stopper) stop(err error) {
	s.once.Do(func() {
		s.err = err
		close(s.done)
	})
}

func sleepUntil(ctx context.Context, t time.Time) error {
	d := time.Until(t)
	if d <= 0 {
		return nil
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-tm.C:
		return nil
	}
}
