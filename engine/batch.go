package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/followflow/followflow/event"
	"github.com/followflow/followflow/record"
	"github.com/followflow/followflow/store"
)

// BatchResult is the outcome of one event of a batch.
type BatchResult struct {
	Result
	// Err is set when the event was not committed: the caller must not
	// acknowledge it (store.ErrFenced: the lease is lost).
	Err error
}

// ProcessBatch processes events in order with the effect of calling
// Process (or ProcessFenced when fence is set) on each in turn, but when
// the store commits in batches (store.BatchCommitter) it runs the events one
// after another against a shared working set, each seeing the ones before
// it, and commits their changesets in one round trip. An event whose commit
// is refused for a conflict is then re-run alone on fresh state, in order;
// one already processed is a duplicate. The results are in the order of
// evs.
func (e *Engine) ProcessBatch(ctx context.Context, evs []*event.Event, fence *store.Fence) []BatchResult {
	results := make([]BatchResult, len(evs))
	bc, ok := e.cfg.Store.(store.BatchCommitter)
	if !ok || len(evs) == 1 {
		for i, ev := range evs {
			results[i].Result, results[i].Err = e.process(ctx, ev, fence)
		}
		return results
	}
	ov := &overlay{Store: e.cfg.Store, pending: make([]*store.Changeset, 0, len(evs))}
	if err := ov.prefetch(ctx, evs); err != nil {
		// Not fatal: every read goes to the store instead.
		e.cfg.Logger.Debug().Err(err).Msg("prefetching the batch's opportunities")
	}
	p := e.procs.Get().(*proc)
	defer e.procs.Put(p)
	set := e.set.Load()
	owner := make([]int, 0, len(evs)) // owner[k]: the event of pending[k]
	rerun := make([]bool, len(evs))
	for i, ev := range evs {
		if i > 0 && rerun[i-1] {
			// An event that could not run here is re-run alone after the
			// batch; the ones after it wait too, to keep their order.
			rerun[i] = true
			continue
		}
		if ov.processed(ev.AccountID, ev.ID) {
			results[i].Result = e.duplicate(ev)
			continue
		}
		res, cs, err := e.prepare(ctx, p, ov, set, ev, fence)
		if err != nil {
			rerun[i] = true
			continue
		}
		ov.add(cs)
		results[i].Result = res
		owner = append(owner, i)
	}
	errs := e.commitWaves(ctx, bc, ov.pending)
	for k, cs := range ov.pending {
		i := owner[k]
		switch {
		case errs[k] == nil:
			if e.cfg.OnCommit != nil {
				e.cfg.OnCommit(cs)
			}
		case errors.Is(errs[k], store.ErrAlreadyProcessed):
			results[i].Result = e.duplicate(evs[i])
		case errors.Is(errs[k], store.ErrFenced):
			results[i] = BatchResult{Err: errs[k]}
		default:
			rerun[i] = true
		}
	}
	for i, ev := range evs {
		if rerun[i] {
			results[i].Result, results[i].Err = e.process(ctx, ev, fence)
		}
	}
	return results
}

// errDependency refuses a changeset built on one that was not committed.
var errDependency = fmt.Errorf("built on a change that was not committed: %w", store.ErrConflict)

// commitWaves commits the batch's changesets in waves: a changeset that
// reads or writes a record an earlier changeset of the batch read or wrote
// waits for the wave after that one, and is refused (ErrConflict, to be
// re-run in order) when that one was not committed. Sending it in the same
// round trip would be unsafe: its versions, counted on from the earlier
// change, could match a version that another worker's commit produced
// meanwhile, and it could be applied before the earlier event's re-run.
// Batches whose events touch distinct records commit in one wave.
func (e *Engine) commitWaves(ctx context.Context, bc store.BatchCommitter, css []*store.Changeset) []error {
	type key struct {
		kind        record.Kind
		account, id string
	}
	errs := make([]error, len(css))
	wave := make([]int, len(css))
	dep := make([][]int, len(css)) // earlier changesets each depends on
	lastToucher := map[key]int{}
	waves := 0
	for k, cs := range css {
		touch := func(kk key) {
			if w, ok := lastToucher[kk]; ok {
				dep[k] = append(dep[k], w)
				wave[k] = max(wave[k], wave[w]+1)
			}
		}
		for _, r := range cs.Reads {
			touch(key{r.Kind, r.AccountID, r.ID})
		}
		for _, o := range cs.Opportunities {
			touch(key{record.KindOpportunity, o.AccountID, o.ID})
		}
		for _, c := range cs.Contacts {
			touch(key{record.KindContact, c.AccountID, c.ID})
		}
		// Reads count too: an event whose commit fails is re-run after
		// the batch, so a later event of a record it read must wait for
		// it, or the two would be applied out of order.
		for _, r := range cs.Reads {
			lastToucher[key{r.Kind, r.AccountID, r.ID}] = k
		}
		for _, o := range cs.Opportunities {
			lastToucher[key{record.KindOpportunity, o.AccountID, o.ID}] = k
		}
		for _, c := range cs.Contacts {
			lastToucher[key{record.KindContact, c.AccountID, c.ID}] = k
		}
		waves = max(waves, wave[k]+1)
	}
	send := make([]*store.Changeset, 0, len(css))
	idx := make([]int, 0, len(css))
	for w := range waves {
		send, idx = send[:0], idx[:0]
		for k, cs := range css {
			if wave[k] != w {
				continue
			}
			for _, d := range dep[k] {
				if errs[d] != nil {
					errs[k] = errDependency
				}
			}
			if errs[k] == nil {
				send, idx = append(send, cs), append(idx, k)
			}
		}
		if len(send) == 0 {
			continue
		}
		got, err := bc.CommitBatch(ctx, send)
		for j, k := range idx {
			switch {
			case err != nil:
				errs[k] = err
			default:
				errs[k] = got[j]
			}
		}
	}
	return errs
}

// overlay is the working set of a batch: the store as it will be once the
// batch's pending changesets are committed. Reads see pending writes;
// Commit queues a copy of the changeset.
type overlay struct {
	store.Store
	// base and absent are what prefetch read: the opportunities of the
	// batch's events as stored before the batch, and those that are not.
	base   map[recordKey]record.Opportunity
	absent map[recordKey]bool
	// opps and contacts are the records as the pending changesets leave them.
	opps     map[recordKey]record.Opportunity
	contacts map[recordKey]record.Contact
	done     map[recordKey]bool
	pending  []*store.Changeset
}

type recordKey struct{ account, id string }

func (o *overlay) processed(account, id string) bool { return o.done[recordKey{account, id}] }

// prefetch reads the opportunities of the batch's events in one round
// trip, when the store can (store.MultiReader).
func (o *overlay) prefetch(ctx context.Context, evs []*event.Event) error {
	mr, ok := o.Store.(store.MultiReader)
	if !ok {
		return nil
	}
	keys := make([]store.Key, 0, len(evs))
	seen := make(map[recordKey]bool, len(evs))
	for _, ev := range evs {
		k := recordKey{ev.AccountID, ev.OpportunityID}
		if ev.OpportunityID == "" || seen[k] {
			continue
		}
		seen[k] = true
		keys = append(keys, store.Key{AccountID: ev.AccountID, ID: ev.OpportunityID})
	}
	if len(keys) < 2 {
		return nil
	}
	opps, found, err := mr.ReadOpportunities(ctx, keys)
	if err != nil {
		return err
	}
	o.base = make(map[recordKey]record.Opportunity, len(keys))
	o.absent = make(map[recordKey]bool)
	for i, k := range keys {
		if found[i] {
			o.base[recordKey{k.AccountID, k.ID}] = opps[i]
		} else {
			o.absent[recordKey{k.AccountID, k.ID}] = true
		}
	}
	return nil
}

// Opportunity implements store.Reader.
func (o *overlay) Opportunity(ctx context.Context, account, id string) (record.Opportunity, error) {
	k := recordKey{account, id}
	if r, ok := o.opps[k]; ok {
		return r, nil
	}
	if r, ok := o.base[k]; ok {
		return r, nil
	}
	if o.absent[k] {
		return record.Opportunity{}, store.ErrNotFound
	}
	return o.Store.Opportunity(ctx, account, id)
}

// Contact implements store.Reader.
func (o *overlay) Contact(ctx context.Context, account, id string) (record.Contact, error) {
	if r, ok := o.contacts[recordKey{account, id}]; ok {
		return r, nil
	}
	return o.Store.Contact(ctx, account, id)
}

// OpportunitiesByContact implements store.Reader: the store's answer with
// pending writes applied.
func (o *overlay) OpportunitiesByContact(ctx context.Context, account, contactID string) ([]record.Opportunity, error) {
	list, err := o.Store.OpportunitiesByContact(ctx, account, contactID)
	if err != nil || len(o.opps) == 0 {
		return list, err
	}
	out := list[:0:0]
	for _, r := range list {
		if p, ok := o.opps[recordKey{account, r.ID}]; ok {
			r = p
		}
		if r.ContactID == contactID {
			out = append(out, r)
		}
	}
	for k, r := range o.opps {
		if k.account == account && r.ContactID == contactID && !slices.ContainsFunc(out, func(x record.Opportunity) bool { return x.ID == r.ID }) {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b record.Opportunity) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// Processed implements store.Reader.
func (o *overlay) Processed(ctx context.Context, account, id string) (bool, error) {
	if o.done[recordKey{account, id}] {
		return true, nil
	}
	return o.Store.Processed(ctx, account, id)
}

// Commit is never called: the batch commits the pending changesets.
func (o *overlay) Commit(context.Context, *store.Changeset) error {
	return errors.New("engine: commit on a batch overlay")
}

// add queues a copy of cs and applies it to the overlay's view.
func (o *overlay) add(cs *store.Changeset) {
	c := &store.Changeset{
		AccountID: cs.AccountID, Fence: cs.Fence, EventID: cs.EventID, ProcessedAt: cs.ProcessedAt,
		Reads:         slices.Clone(cs.Reads),
		Opportunities: slices.Clone(cs.Opportunities),
		Contacts:      slices.Clone(cs.Contacts),
		History:       slices.Clone(cs.History),
	}
	o.pending = append(o.pending, c)
	if o.opps == nil {
		o.opps = map[recordKey]record.Opportunity{}
		o.contacts = map[recordKey]record.Contact{}
		o.done = map[recordKey]bool{}
	}
	for _, r := range c.Opportunities {
		r.Version++
		o.opps[recordKey{r.AccountID, r.ID}] = r
	}
	for _, r := range c.Contacts {
		r.Version++
		o.contacts[recordKey{r.AccountID, r.ID}] = r
	}
	if c.EventID != "" {
		o.done[recordKey{c.AccountID, c.EventID}] = true
	}
}
