package engine

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/followflow/followflow/actions"
	"github.com/followflow/followflow/conditions"
	"github.com/followflow/followflow/event"
	"github.com/followflow/followflow/record"
	"github.com/followflow/followflow/store"
	"github.com/followflow/followflow/trace"
	"github.com/followflow/followflow/workflow"
)

// ErrTooManyConflicts is returned when an event's commit kept conflicting
// with concurrent changes after Config.MaxConflictRetries re-runs.
var ErrTooManyConflicts = errors.New("too many conflicting concurrent changes")

// Config configures an Engine.
type Config struct {
	// Store holds the records. Required.
	Store store.Store
	// Clock gives the time for expressions' now, the ledger and manual
	// changes. Default time.Now; the simulator sets its own.
	Clock func() time.Time
	// Logger receives debug logs. Default: a disabled logger.
	Logger zerolog.Logger
	// Trace makes Process describe what it did (Result.Trace): every
	// workflow of the event's account and type with why it did or did not
	// match, every step and outcome. Default false (the worker's hot path).
	Trace bool
	// MaxConflictRetries bounds re-runs of one event after ErrConflict.
	// Default 20.
	MaxConflictRetries int
	// OnCommit, when set, is called after each successful commit with the
	// changeset (valid only during the call), e.g. to count outcomes.
	OnCommit func(cs *store.Changeset)
}

// WithDefaults returns the config with defaults filled in.
func (c Config) WithDefaults() Config {
	if c.Clock == nil {
		c.Clock = time.Now
	}
	if c.MaxConflictRetries == 0 {
		c.MaxConflictRetries = 20
	}
	return c
}

// Validate names the first bad field.
func (c Config) Validate() error {
	if c.Store == nil {
		return errors.New("engine config: Store is required")
	}
	if c.MaxConflictRetries < 0 {
		return errors.New("engine config: MaxConflictRetries must not be negative")
	}
	return nil
}

// Engine processes events against a store and a workflow set. It is safe
// for concurrent use; events of one record must still be given to it in
// order (the queue's job).
type Engine struct {
	cfg   Config
	set   atomic.Pointer[workflow.Set]
	procs sync.Pool
}

// New returns an engine running the workflows of set.
func New(cfg Config, set *workflow.Set) (*Engine, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if set == nil {
		set = workflow.NewSet(nil)
	}
	e := &Engine{cfg: cfg}
	e.set.Store(set)
	e.procs.New = func() any { return new(proc) }
	return e, nil
}

// SetWorkflows swaps the workflow set; events already in flight finish with
// the set they started with.
func (e *Engine) SetWorkflows(set *workflow.Set) { e.set.Store(set) }

// Workflows returns the current workflow set.
func (e *Engine) Workflows() *workflow.Set { return e.set.Load() }

// Store returns the engine's store.
func (e *Engine) Store() store.Store { return e.cfg.Store }

// Result is what processing one event did.
type Result struct {
	// Duplicate: the event id was already processed; nothing ran.
	Duplicate bool
	// Workflows is the number of workflows that matched and ran.
	Workflows int
	// Trace describes the processing when Config.Trace is set.
	Trace *trace.Event
}

// proc is the reusable state of one Process call.
type proc struct {
	applied applied
	tx      tx
	run     actions.Run
	eval    conditions.Evaluator
	matched []*workflow.Workflow
}

// Process applies the event and runs its workflows, committing atomically.
// A duplicate event changes nothing.
func (e *Engine) Process(ctx context.Context, ev *event.Event) (Result, error) {
	return e.process(ctx, ev, nil)
}

// ProcessFenced is Process under a queue partition lease: the commit is
// refused (store.ErrFenced) when a newer lease holder has committed.
func (e *Engine) ProcessFenced(ctx context.Context, ev *event.Event, fence store.Fence) (Result, error) {
	return e.process(ctx, ev, &fence)
}

// process runs the event and commits it. There is no ledger look-up
// before: the commit checks the ledger atomically anyway, and a duplicate
// (rare: a redelivery) is only run in memory and then refused.
func (e *Engine) process(ctx context.Context, ev *event.Event, fence *store.Fence) (Result, error) {
	p := e.procs.Get().(*proc)
	defer e.procs.Put(p)
	set := e.set.Load()
	for attempt := 0; ; attempt++ {
		res, err := e.runOnce(ctx, p, set, ev, fence)
		switch {
		case err == nil:
			return res, nil
		case errors.Is(err, store.ErrAlreadyProcessed):
			return e.duplicate(ev), nil
		case errors.Is(err, store.ErrConflict) && attempt < e.cfg.MaxConflictRetries:
			e.cfg.Logger.Debug().Str("event_id", ev.ID).Int("attempt", attempt+1).Msg("commit conflict; re-running the event on fresh state")
			continue
		case errors.Is(err, store.ErrConflict):
			return Result{}, fmt.Errorf("processing event %q: %w", ev.ID, ErrTooManyConflicts)
		default:
			return Result{}, fmt.Errorf("processing event %q: %w", ev.ID, err)
		}
	}
}

func (e *Engine) duplicate(ev *event.Event) Result {
	r := Result{Duplicate: true}
	if e.cfg.Trace {
		r.Trace = newTrace(ev)
		r.Trace.Duplicate = true
	}
	return r
}

func newTrace(ev *event.Event) *trace.Event {
	return &trace.Event{
		EventID: ev.ID, Type: ev.Type, AccountID: ev.AccountID,
		OccurredAt:    ev.OccurredAt.UTC().Format(time.RFC3339Nano),
		OpportunityID: ev.OpportunityID, ContactID: ev.ContactID,
		Workflows: []trace.Workflow{},
	}
}

func (e *Engine) runOnce(ctx context.Context, p *proc, set *workflow.Set, ev *event.Event, fence *store.Fence) (Result, error) {
	res, cs, err := e.prepare(ctx, p, e.cfg.Store, set, ev, fence)
	if err != nil {
		return Result{}, err
	}
	if err := e.cfg.Store.Commit(ctx, cs); err != nil {
		return Result{}, err
	}
	if e.cfg.OnCommit != nil {
		e.cfg.OnCommit(cs)
	}
	return res, nil
}

// prepare applies the event and runs its workflows against st, and returns
// the changeset to commit (valid until p is used again).
func (e *Engine) prepare(ctx context.Context, p *proc, st store.Store, set *workflow.Set, ev *event.Event, fence *store.Fence) (Result, *store.Changeset, error) {
	t := &p.tx
	t.reset(ctx, st, ev.AccountID)
	a := &p.applied
	var err error
	if *a, err = applyEffects(t, ev); err != nil {
		return Result{}, nil, err
	}
	var res Result
	if e.cfg.Trace {
		res.Trace = newTrace(ev)
	}
	p.matched = set.Match(p.matched[:0], ev, &a.before)
	res.Workflows = len(p.matched)
	if len(p.matched) > 0 || res.Trace != nil {
		if err := e.runWorkflows(ctx, p, set, ev, a, res.Trace); err != nil {
			return Result{}, nil, err
		}
	}
	cs := t.changeset(ev.ID, fence)
	cs.ProcessedAt = e.cfg.Clock()
	return res, cs, nil
}

func (e *Engine) runWorkflows(ctx context.Context, p *proc, set *workflow.Set, ev *event.Event, a *applied, tr *trace.Event) error {
	r := &p.run
	r.Ctx, r.State, r.Event, r.Now, r.Eval, r.Trace = ctx, &p.tx, ev, e.cfg.Clock(), &p.eval, tr != nil
	var contact *record.Contact
	if a.contact != nil {
		contact = &a.contact.rec
	} else if a.opp != nil && a.opp.rec.ContactID != "" && needsContact(p.matched) {
		c, err := p.tx.contact(a.opp.rec.ContactID)
		if err != nil {
			return err
		}
		if c != nil {
			contact = &c.rec
		}
	}
	runOne := func(w *workflow.Workflow, out *[]trace.Step) error {
		var opp *record.Opportunity
		if a.opp != nil {
			opp = &a.opp.rec
		}
		r.Reset(w.ID, opp, contact)
		for _, s := range w.Steps {
			cont, err := s.Run(r, out)
			if err != nil {
				return fmt.Errorf("workflow %q, %s step at %s: %w", w.ID, s.Kind(), s.Pos(), err)
			}
			if !cont {
				break
			}
		}
		return nil
	}
	if tr == nil {
		for _, w := range p.matched {
			if err := runOne(w, nil); err != nil {
				return err
			}
		}
		return nil
	}
	for _, c := range set.Explain(ev, &a.before) {
		wt := trace.Workflow{ID: c.Item.ID, Matched: c.Matched, Reason: c.Reason}
		if c.Matched {
			wt.Steps = []trace.Step{}
			if err := runOne(c.Item, &wt.Steps); err != nil {
				return err
			}
		}
		tr.Workflows = append(tr.Workflows, wt)
	}
	return nil
}

func needsContact(wfs []*workflow.Workflow) bool {
	for _, w := range wfs {
		if w.UsesContact {
			return true
		}
	}
	return false
}

var _ actions.State = (*tx)(nil)
