package storetest_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/followflow/followflow/record"
	"github.com/followflow/followflow/store"
	"github.com/followflow/followflow/store/memory"
	"github.com/followflow/followflow/store/storetest"
)

// The suite is only as good as the bugs it catches. Each mutant below wraps
// the memory store with one bug a backend could plausibly have; the suite
// must fail on every one of them, in the subtests named.

// mutantEnv names the mutant TestMutant runs the suite against.
const mutantEnv = "STORETEST_MUTANT"

var mutants = map[string][]string{
	"ignores-fence":        {"Fence/OlderEpochIsFenced", "Fence/NewerEpochFencesOlder", "Commit/ErrorPrecedence"},
	"no-ledger":            {"Commit/AlreadyProcessed", "Commit/LedgerOnlyChangeset"},
	"global-ledger":        {"Commit/LedgerIsPerAccount"},
	"case-sensitive-email": {"Reads/UserByEmail"},
	"user-of-any-account":  {"Reads/UserOfAnotherAccount"},
	"not-atomic":           {"Commit/AtomicWhenRefused"},
	// The contention test catches no-version-check only when commits
	// happen to interleave between a read and a write (a fast store makes
	// that rare); the two conflict tests catch it every time.
	"no-version-check":            {"Commit/StaleOpportunityVersionConflicts", "Commit/NewRecordThatExistsConflicts"},
	"ignores-reads":               {"Commit/ReadRefs"},
	"truncates-followers":         {"Commit/FollowerLimit"},
	"limit-first":                 {"Commit/ErrorPrecedence"},
	"stale-ignores-limit":         {"Stale/Candidates"},
	"stale-cutoff-exclusive":      {"Stale/Candidates"},
	"stale-frozen-at-load":        {"Stale/FollowsCommits"},
	"by-contact-unordered":        {"Reads/OpportunitiesByContact"},
	"exports-versions":            {"Load/ExportRoundTrip"},
	"history-newest-first":        {"History/AppendsInOrder"},
	"history-without-seq":         {"History/AppendsInOrder"},
	"seconds-only":                {"Times/MillisecondsAndZonesThroughCommit"},
	"empty-changeset-skipped":     {"Fence/EmptyChangesetRecordsEpoch"},
	"fence-recorded-when-refused": {"Fence/RefusedCommitRecordsNoEpoch"},
	"check-then-act":              {"Concurrency/FollowerLimitUnderContention"},
}

// TestMutant runs the suite against the mutant named by $STORETEST_MUTANT;
// TestSuiteCatchesMutants runs it in a subprocess.
func TestMutant(t *testing.T) {
	kind := os.Getenv(mutantEnv)
	if kind == "" {
		t.Skip("run by TestSuiteCatchesMutants")
	}
	storetest.Run(t, func(t *testing.T) store.Store { return &mutant{Store: memory.New(), kind: kind} })
}

// TestSuiteIsFair runs the suite against a backend that differs from the
// memory store in every way the suite says it allows: it must pass.
func TestSuiteIsFair(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the suite in a subprocess")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(t.Context(), exe, "-test.run=^TestMutant$", "-test.count=1")
	cmd.Env = append(os.Environ(), mutantEnv+"=fair")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("the suite failed on a fair backend: %v\n%s", err, out)
	}
}

func TestSuiteCatchesMutants(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the suite in subprocesses")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for kind, catchers := range mutants {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			var run []string
			for _, c := range catchers {
				group, name, _ := strings.Cut(c, "/")
				run = append(run, "^TestMutant$/^"+group+"$/^"+name+"$")
			}
			for i, pattern := range run {
				cmd := exec.CommandContext(t.Context(), exe, "-test.run="+pattern, "-test.count=1")
				cmd.Env = append(os.Environ(), mutantEnv+"="+kind)
				out, err := cmd.CombinedOutput()
				var exit *exec.ExitError
				if !errors.As(err, &exit) {
					t.Errorf("%s: the suite passed (or did not run: %v); want it to fail\n%s", catchers[i], err, out)
					continue
				}
				if want := "--- FAIL: TestMutant/" + catchers[i]; !strings.Contains(string(out), want) {
					t.Errorf("%s did not fail:\n%s", catchers[i], out)
				}
			}
		})
	}
}

// mutant is the memory store with one bug, named by kind.
type mutant struct {
	store.Store
	kind string

	mu     sync.Mutex
	ledger map[string]bool      // global-ledger
	stale  []record.Opportunity // stale-frozen-at-load
}

func (m *mutant) Commit(ctx context.Context, cs *store.Changeset) error {
	c := *cs
	switch m.kind {
	case "ignores-fence":
		c.Fence = nil
	case "no-ledger":
		c.EventID = ""
	case "global-ledger":
		m.mu.Lock()
		defer m.mu.Unlock()
		if m.ledger[cs.EventID] {
			return store.ErrAlreadyProcessed
		}
		if err := m.Store.Commit(ctx, &c); err != nil {
			return err
		}
		if m.ledger == nil {
			m.ledger = map[string]bool{}
		}
		if cs.EventID != "" {
			m.ledger[cs.EventID] = true
		}
		return nil
	case "not-atomic":
		for _, o := range cs.Opportunities {
			if err := m.Store.Commit(ctx, &store.Changeset{AccountID: cs.AccountID, Opportunities: []record.Opportunity{o}}); err != nil {
				return err
			}
		}
		c.Opportunities = nil
	case "no-version-check", "check-then-act":
		if m.kind == "check-then-act" {
			if err := m.checkVersions(ctx, cs); err != nil {
				return err
			}
			time.Sleep(time.Millisecond)
		}
		c.Reads = nil
		c.Opportunities = slices.Clone(cs.Opportunities)
		for i := range c.Opportunities {
			o := &c.Opportunities[i]
			cur, err := m.Store.Opportunity(ctx, o.AccountID, o.ID)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
			o.Version = cur.Version
		}
		c.Contacts = slices.Clone(cs.Contacts)
		for i := range c.Contacts {
			k := &c.Contacts[i]
			cur, err := m.Store.Contact(ctx, k.AccountID, k.ID)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
			k.Version = cur.Version
		}
	case "ignores-reads":
		c.Reads = nil
	case "truncates-followers":
		c.Opportunities = slices.Clone(cs.Opportunities)
		for i := range c.Opportunities {
			if f := c.Opportunities[i].Followers; len(f) > record.MaxFollowers {
				c.Opportunities[i].Followers = f[:record.MaxFollowers]
			}
		}
		c.Contacts = slices.Clone(cs.Contacts)
		for i := range c.Contacts {
			if f := c.Contacts[i].Followers; len(f) > record.MaxFollowers {
				c.Contacts[i].Followers = f[:record.MaxFollowers]
			}
		}
	case "limit-first":
		for _, o := range cs.Opportunities {
			if len(o.Followers) > record.MaxFollowers {
				return store.ErrFollowerLimit
			}
		}
	case "seconds-only":
		c.Opportunities = slices.Clone(cs.Opportunities)
		for i := range c.Opportunities {
			o := &c.Opportunities[i]
			o.CreatedAt = o.CreatedAt.Truncate(time.Second)
			o.UpdatedAt = o.UpdatedAt.Truncate(time.Second)
			o.LastOwnerActivityAt = o.LastOwnerActivityAt.Truncate(time.Second)
		}
	case "empty-changeset-skipped":
		if cs.Empty() {
			return nil
		}
	case "fair":
		// Commit takes ownership and writes versions and Seqs back.
		if err := m.Store.Commit(ctx, cs); err != nil {
			return err
		}
		for i := range cs.Opportunities {
			cs.Opportunities[i].Version++
		}
		for i := range cs.Contacts {
			cs.Contacts[i].Version++
		}
		for i := range cs.History {
			cs.History[i].Seq = -1
		}
		return nil
	case "fence-recorded-when-refused":
		err := m.Store.Commit(ctx, &c)
		if err != nil && cs.Fence != nil && !errors.Is(err, store.ErrFenced) {
			m.Store.Commit(ctx, &store.Changeset{AccountID: cs.AccountID, Fence: cs.Fence})
		}
		return err
	}
	return m.Store.Commit(ctx, &c)
}

// checkVersions is the check of a backend that checks outside the
// transaction that writes.
func (m *mutant) checkVersions(ctx context.Context, cs *store.Changeset) error {
	for _, o := range cs.Opportunities {
		cur, err := m.Store.Opportunity(ctx, o.AccountID, o.ID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if cur.Version != o.Version {
			return store.ErrConflict
		}
	}
	for _, r := range cs.Reads {
		if r.Kind != record.KindOpportunity {
			continue
		}
		cur, err := m.Store.Opportunity(ctx, r.AccountID, r.ID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if cur.Version != r.Version {
			return store.ErrConflict
		}
	}
	return nil
}

func (m *mutant) Processed(ctx context.Context, accountID, eventID string) (bool, error) {
	switch m.kind {
	case "no-ledger":
		return false, nil
	case "global-ledger":
		m.mu.Lock()
		defer m.mu.Unlock()
		return m.ledger[eventID], nil
	}
	return m.Store.Processed(ctx, accountID, eventID)
}

func (m *mutant) UserByEmail(ctx context.Context, accountID, email string) (record.User, error) {
	u, err := m.Store.UserByEmail(ctx, accountID, email)
	if m.kind == "case-sensitive-email" && err == nil && u.Email != email {
		return record.User{}, store.ErrNotFound
	}
	return u, err
}

func (m *mutant) User(ctx context.Context, accountID, userID string) (record.User, error) {
	u, err := m.Store.User(ctx, accountID, userID)
	if m.kind == "user-of-any-account" && errors.Is(err, store.ErrNotFound) {
		for _, other := range []string{"acme", "globex"} {
			if u, err2 := m.Store.User(ctx, other, userID); err2 == nil {
				return u, nil
			}
		}
	}
	return u, err
}

func (m *mutant) OpportunitiesByContact(ctx context.Context, accountID, contactID string) ([]record.Opportunity, error) {
	os, err := m.Store.OpportunitiesByContact(ctx, accountID, contactID)
	switch m.kind {
	case "by-contact-unordered":
		slices.Reverse(os)
	case "fair":
		for i := range os {
			os[i] = fairOpp(os[i])
		}
	}
	return os, err
}

func (m *mutant) Opportunity(ctx context.Context, accountID, id string) (record.Opportunity, error) {
	o, err := m.Store.Opportunity(ctx, accountID, id)
	if m.kind == "fair" {
		o = fairOpp(o)
	}
	return o, err
}

func (m *mutant) Contact(ctx context.Context, accountID, id string) (record.Contact, error) {
	c, err := m.Store.Contact(ctx, accountID, id)
	if m.kind == "fair" {
		c = fairContact(c)
	}
	return c, err
}

// fairZone is where the fair backend returns its times.
var fairZone = time.FixedZone("UTC+5", 5*3600)

// fairStrings returns a copy, empty rather than nil.
func fairStrings(s []string) []string {
	return append([]string{}, s...)
}

// fairOpp is o as a fair backend may return it: a deep copy with empty
// slices for nil ones and times in another zone.
func fairOpp(o record.Opportunity) record.Opportunity {
	o.Tags, o.Followers = fairStrings(o.Tags), fairStrings(o.Followers)
	o.CreatedAt, o.UpdatedAt = o.CreatedAt.In(fairZone), o.UpdatedAt.In(fairZone)
	o.LastOwnerActivityAt = o.LastOwnerActivityAt.In(fairZone)
	return o
}

func fairContact(c record.Contact) record.Contact {
	c.Tags, c.Followers = fairStrings(c.Tags), fairStrings(c.Followers)
	c.CreatedAt, c.UpdatedAt = c.CreatedAt.In(fairZone), c.UpdatedAt.In(fairZone)
	return c
}

func (m *mutant) StaleCandidates(ctx context.Context, cutoff time.Time, limit int) ([]record.Opportunity, error) {
	switch m.kind {
	case "stale-ignores-limit":
		limit = 0
	case "stale-cutoff-exclusive":
		cutoff = cutoff.Add(-time.Nanosecond)
	case "fair":
		os, err := m.Store.StaleCandidates(ctx, cutoff, limit)
		for i := range os {
			os[i] = fairOpp(os[i])
		}
		return os, err
	case "stale-frozen-at-load":
		m.mu.Lock()
		defer m.mu.Unlock()
		var out []record.Opportunity
		for _, o := range m.stale {
			if !o.LastOwnerActivityAt.After(cutoff) && (limit <= 0 || len(out) < limit) {
				out = append(out, o)
			}
		}
		return out, nil
	}
	return m.Store.StaleCandidates(ctx, cutoff, limit)
}

func (m *mutant) Load(ctx context.Context, d *record.Dataset) error {
	if err := m.Store.Load(ctx, d); err != nil {
		return err
	}
	if m.kind == "stale-frozen-at-load" {
		os, err := m.Store.StaleCandidates(ctx, time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), 0)
		if err != nil {
			return err
		}
		m.mu.Lock()
		m.stale = os
		m.mu.Unlock()
	}
	return nil
}

func (m *mutant) Export(ctx context.Context) (*record.Dataset, error) {
	d, err := m.Store.Export(ctx)
	if err != nil {
		return d, err
	}
	switch m.kind {
	case "exports-versions":
		for i := range d.Opportunities {
			d.Opportunities[i].Version = 1
		}
	case "fair":
		for i := range d.Opportunities {
			d.Opportunities[i] = fairOpp(d.Opportunities[i])
		}
		for i := range d.Contacts {
			d.Contacts[i] = fairContact(d.Contacts[i])
		}
	}
	return d, nil
}

func (m *mutant) History(ctx context.Context, accountID string, kind record.Kind, id string) ([]record.HistoryEntry, error) {
	h, err := m.Store.History(ctx, accountID, kind, id)
	switch m.kind {
	case "history-newest-first":
		slices.Reverse(h)
	case "history-without-seq":
		for i := range h {
			h[i].Seq = 0
		}
	case "fair":
		// Seqs with gaps, times in another zone, and ErrNotFound for a
		// record never stored.
		for i := range h {
			h[i].Seq = 100 + 10*int64(i)
			h[i].At = h[i].At.In(fairZone)
		}
		if len(h) == 0 && err == nil {
			var err2 error
			switch kind {
			case record.KindOpportunity:
				_, err2 = m.Store.Opportunity(ctx, accountID, id)
			case record.KindContact:
				_, err2 = m.Store.Contact(ctx, accountID, id)
			}
			if errors.Is(err2, store.ErrNotFound) {
				return nil, store.ErrNotFound
			}
		}
	}
	return h, err
}
