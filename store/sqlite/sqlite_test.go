package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/followflow/followflow/record"
	"github.com/followflow/followflow/store"
)

// open opens a store on path and closes it when the test ends.
func open(t testing.TB, path string) *Store {
	t.Helper()
	s, err := Open(context.Background(), path, Config{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// setup returns a store on a new file with a small dataset loaded, and the
// file's path.
func setup(t testing.TB) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "followflow.db")
	s := open(t, path)
	if err := s.Load(context.Background(), dataset()); err != nil {
		t.Fatalf("Load: %v", err)
	}
	return s, path
}

var t0 = time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)

func dataset() *record.Dataset {
	d := &record.Dataset{
		Accounts: []record.Account{{ID: "acme", Name: "Acme"}},
		Users: []record.User{
			{ID: "u_rep", AccountID: "acme", Name: "Rae", Email: "Rae@Acme.test", Role: record.RoleUser, Active: true},
			{ID: "u_mgr", AccountID: "acme", Name: "Max", Email: "max@acme.test", Role: record.RoleAdmin, Active: true},
		},
		Opportunities: []record.Opportunity{{
			ID: "opp_1", AccountID: "acme", Name: "Renewal", Pipeline: "Sales", Stage: "Proposal",
			Status: record.StatusOpen, Value: 18000, OwnerID: "u_rep", ContactID: "c_1",
			Tags: []string{"q4"}, Followers: []string{"u_mgr"}, CreatedAt: t0,
		}},
		Contacts: []record.Contact{{ID: "c_1", AccountID: "acme", Name: "Gil", OwnerID: "u_rep", CreatedAt: t0}},
	}
	d.ApplyDefaults()
	return d
}

// update returns a changeset for event id that sets the stage of opp_1 as
// read at version v and adds one history entry.
func update(id string, o record.Opportunity, stage string) *store.Changeset {
	o.Stage = stage
	return &store.Changeset{
		AccountID: "acme", EventID: id, ProcessedAt: t0,
		Opportunities: []record.Opportunity{o},
		History: []record.HistoryEntry{{
			AccountID: "acme", Kind: record.KindOpportunity, RecordID: o.ID, At: t0,
			EventID: id, WorkflowID: "wf", Step: "add", UserID: "u_mgr", Outcome: record.AlreadyFollowing,
		}},
	}
}

func TestPragmas(t *testing.T) {
	s, _ := setup(t)
	for _, c := range []struct{ pragma, want string }{
		{"journal_mode", "wal"},
		{"synchronous", "1"}, // NORMAL
		{"foreign_keys", "1"},
		{"busy_timeout", "5000"},
		{"user_version", fmt.Sprint(len(migrations))},
		{"wal_autocheckpoint", fmt.Sprint(autocheckpointFrames)}, // the background checkpointer does most
	} {
		var got string
		if err := s.DB().QueryRow("PRAGMA " + c.pragma).Scan(&got); err != nil {
			t.Fatalf("PRAGMA %s: %v", c.pragma, err)
		}
		if got != c.want {
			t.Errorf("PRAGMA %s = %s, want %s", c.pragma, got, c.want)
		}
	}
}

func TestReopenKeepsData(t *testing.T) {
	path := filepath.Join(t.TempDir(), "followflow.db")
	ctx := context.Background()
	s, err := Open(ctx, path, Config{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Load(ctx, dataset()); err != nil {
		t.Fatal(err)
	}
	o, err := s.Opportunity(ctx, "acme", "opp_1")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(ctx, update("e1", o, "Won")); err != nil {
		t.Fatal(err)
	}
	before, err := s.Export(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = open(t, path)
	after, err := s.Export(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(before) != fmt.Sprint(after) {
		t.Errorf("after reopen\n got %v\nwant %v", after, before)
	}
	o, err = s.Opportunity(ctx, "acme", "opp_1")
	if err != nil || o.Version != 2 || o.Stage != "Won" {
		t.Errorf("opp_1 after reopen: %+v, %v; want stage Won at version 2", o, err)
	}
	if done, err := s.Processed(ctx, "acme", "e1"); !done || err != nil {
		t.Errorf("Processed(e1) = %v, %v after reopen", done, err)
	}
	if h, err := s.History(ctx, "acme", record.KindOpportunity, "opp_1"); len(h) != 1 || err != nil {
		t.Errorf("History after reopen = %v, %v", h, err)
	}
}

func TestTwoHandlesSeeEachOther(t *testing.T) {
	ctx := context.Background()
	a, path := setup(t)
	b := open(t, path)
	o, err := b.Opportunity(ctx, "acme", "opp_1")
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Commit(ctx, update("e1", o, "Demo")); err != nil {
		t.Fatal(err)
	}
	got, err := b.Opportunity(ctx, "acme", "opp_1")
	if err != nil || got.Stage != "Demo" || got.Version != o.Version+1 {
		t.Fatalf("b reads %+v, %v after a's commit", got, err)
	}
	// b's stale copy conflicts; its fresh one commits, and a sees it.
	if err := b.Commit(ctx, update("e2", o, "Lost")); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("commit of a stale version: %v, want ErrConflict", err)
	}
	if err := b.Commit(ctx, update("e1", got, "Lost")); !errors.Is(err, store.ErrAlreadyProcessed) {
		t.Fatalf("commit of a processed event through the other handle: %v, want ErrAlreadyProcessed", err)
	}
	if err := b.Commit(ctx, update("e2", got, "Lost")); err != nil {
		t.Fatal(err)
	}
	if got, err := a.Opportunity(ctx, "acme", "opp_1"); err != nil || got.Stage != "Lost" {
		t.Fatalf("a reads %+v, %v after b's commit", got, err)
	}
}

// TestConcurrentCommitsTwoHandles commits from many goroutines through two
// handles (as two processes would) on records of their own and on one
// shared record: no SQLITE_BUSY, no lost update.
func TestConcurrentCommitsTwoHandles(t *testing.T) {
	ctx := context.Background()
	a, path := setup(t)
	b := open(t, path)
	const goroutines, commits = 8, 40
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for g := range goroutines {
		s := a
		if g%2 == 1 {
			s = b
		}
		wg.Go(func() {
			own := record.Opportunity{ID: fmt.Sprintf("opp_g%d", g), AccountID: "acme", Status: record.StatusOpen, CreatedAt: t0}
			for i := range commits {
				// A record of its own: never a conflict.
				cs := update(fmt.Sprintf("g%d-%d", g, i), own, fmt.Sprint(i))
				if err := s.Commit(ctx, cs); err != nil {
					errs <- fmt.Errorf("goroutine %d commit %d: %w", g, i, err)
					return
				}
				own.Version++
				// The shared record: retry on conflict.
				for {
					o, err := s.Opportunity(ctx, "acme", "opp_1")
					if err != nil {
						errs <- err
						return
					}
					o.Tags = append(o.Tags, fmt.Sprintf("g%d-%d", g, i))
					cs := &store.Changeset{AccountID: "acme", EventID: fmt.Sprintf("shared-g%d-%d", g, i), Opportunities: []record.Opportunity{o}}
					err = s.Commit(ctx, cs)
					if errors.Is(err, store.ErrConflict) {
						continue
					}
					if err != nil {
						errs <- fmt.Errorf("goroutine %d shared commit %d: %w", g, i, err)
						return
					}
					break
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	o, err := a.Opportunity(ctx, "acme", "opp_1")
	if err != nil {
		t.Fatal(err)
	}
	if want := 1 + goroutines*commits; len(o.Tags) != want || o.Version != int64(1+goroutines*commits) {
		t.Errorf("shared record has %d tags at version %d, want %d tags at version %d", len(o.Tags), o.Version, want, want)
	}
}

// TestQueryPlans checks that the queries whose cost must not grow with the
// table use the indexes meant for them, with no sort.
func TestQueryPlans(t *testing.T) {
	s, _ := setup(t)
	var addHistory string
	for _, d := range s.w.defs() {
		if d.stmt == &s.w.addHistory {
			addHistory = d.query
		}
	}
	eleven := []any{"a", "b", "c", 1, "e", "f", "g", "h", "i", "j", "k"}
	for _, c := range []struct {
		name, query string
		args        []any
		want        string
	}{
		// The cost of a stale scan grows with what it returns.
		{"stale", sqlStale, []any{0, 10},
			"SEARCH opportunities USING INDEX opportunities_stale (last_owner_activity_at<?)"},
		// The planner picks the partial index even without INDEXED BY.
		{"stale unhinted", strings.Replace(sqlStale, "INDEXED BY opportunities_stale", "", 1), []any{0, 10},
			"SEARCH opportunities USING INDEX opportunities_stale (last_owner_activity_at<?)"},
		// Appending history finds the last seq of the record in the
		// primary key, however long the history.
		{"history append", addHistory, eleven,
			"SCALAR SUBQUERY 1; SEARCH history USING PRIMARY KEY (account_id=? AND kind=? AND record_id=?)"},
	} {
		rows, err := s.DB().Query("EXPLAIN QUERY PLAN "+c.query, c.args...)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, notused int
			var detail string
			if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		if err := rows.Close(); err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(plan, "; "); got != c.want {
			t.Errorf("%s: plan %q, want %q", c.name, got, c.want)
		}
	}
}

func TestStaleCandidates(t *testing.T) {
	ctx := context.Background()
	s, _ := setup(t)
	mk := func(id, owner, status string, activity time.Time) record.Opportunity {
		return record.Opportunity{ID: id, AccountID: "acme", OwnerID: owner, Status: status, CreatedAt: t0, LastOwnerActivityAt: activity}
	}
	cs := &store.Changeset{AccountID: "acme", Opportunities: []record.Opportunity{
		mk("b", "u_rep", record.StatusOpen, t0.Add(-time.Hour)),
		mk("a", "u_rep", record.StatusOpen, t0.Add(-time.Hour)),
		mk("zero", "u_rep", record.StatusOpen, time.Time{}),
		mk("won", "u_rep", record.StatusWon, t0.Add(-time.Hour)),
		mk("unowned", "", record.StatusOpen, t0.Add(-time.Hour)),
		mk("late", "u_rep", record.StatusOpen, t0.Add(time.Nanosecond)),
	}}
	if err := s.Commit(ctx, cs); err != nil {
		t.Fatal(err)
	}
	ids := func(os []record.Opportunity) string {
		var out []string
		for _, o := range os {
			out = append(out, o.ID)
		}
		return strings.Join(out, ",")
	}
	for _, c := range []struct {
		cutoff time.Time
		limit  int
		want   string
	}{
		{t0, 0, "zero,a,b,opp_1"},
		{t0, 2, "zero,a"},
		{t0.Add(time.Nanosecond), -1, "zero,a,b,opp_1,late"},
		{time.Time{}, 0, "zero"},
		{time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC), 0, "zero,a,b,opp_1,late"},
		{time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC), 0, ""},
	} {
		got, err := s.StaleCandidates(ctx, c.cutoff, c.limit)
		if err != nil {
			t.Fatal(err)
		}
		if ids(got) != c.want {
			t.Errorf("StaleCandidates(%v, %d) = %s, want %s", c.cutoff, c.limit, ids(got), c.want)
		}
	}
}

func TestCommitRefusalsWriteNothing(t *testing.T) {
	ctx := context.Background()
	s, _ := setup(t)
	o, err := s.Opportunity(ctx, "acme", "opp_1")
	if err != nil {
		t.Fatal(err)
	}
	first := update("e1", o, "Demo")
	first.Fence = &store.Fence{Partition: 3, Epoch: 5}
	if err := s.Commit(ctx, first); err != nil {
		t.Fatal(err)
	}
	o.Version++
	snapshot := func() string {
		d, err := s.Export(ctx)
		if err != nil {
			t.Fatal(err)
		}
		h, err := s.History(ctx, "acme", record.KindOpportunity, "opp_1")
		if err != nil {
			t.Fatal(err)
		}
		var fences, ledger int
		s.DB().QueryRow(`SELECT count(*) FROM fences`).Scan(&fences)
		s.DB().QueryRow(`SELECT count(*) FROM ledger`).Scan(&ledger)
		cur, _ := s.Opportunity(ctx, "acme", "opp_1")
		return fmt.Sprint(d, h, fences, ledger, cur.Version)
	}
	before := snapshot()
	tooMany := o
	tooMany.Followers = []string{"1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11"}
	newC := record.Contact{ID: "c_new", AccountID: "acme", CreatedAt: t0}

	for _, c := range []struct {
		name string
		cs   *store.Changeset
		want error
	}{
		{"older epoch", withFence(update("e2", o, "X"), 3, 4), store.ErrFenced},
		{"older epoch, processed, stale", withFence(update("e1", record.Opportunity{ID: "opp_1", AccountID: "acme"}, "X"), 3, 4), store.ErrFenced},
		{"processed", update("e1", o, "X"), store.ErrAlreadyProcessed},
		{"processed and stale", update("e1", record.Opportunity{ID: "opp_1", AccountID: "acme", Version: 1}, "X"), store.ErrAlreadyProcessed},
		{"stale write", update("e2", record.Opportunity{ID: "opp_1", AccountID: "acme", Version: 1}, "X"), store.ErrConflict},
		{"exists already", update("e2", record.Opportunity{ID: "opp_1", AccountID: "acme"}, "X"), store.ErrConflict},
		{"missing", update("e2", record.Opportunity{ID: "opp_x", AccountID: "acme", Version: 1}, "X"), store.ErrConflict},
		{"stale read", withRead(update("e2", o, "X"), store.Ref{Kind: record.KindContact, AccountID: "acme", ID: "c_1", Version: 7}), store.ErrConflict},
		{"read of missing", withRead(update("e2", o, "X"), store.Ref{Kind: record.KindContact, AccountID: "acme", ID: "c_x", Version: 1}), store.ErrConflict},
		{"stale and over limit", update("e2", func() record.Opportunity { x := tooMany; x.Version = 1; return x }(), "X"), store.ErrConflict},
		{"over limit", update("e2", tooMany, "X"), store.ErrFollowerLimit},
		{"over limit on contact", &store.Changeset{AccountID: "acme", EventID: "e2", Opportunities: []record.Opportunity{o},
			Contacts: []record.Contact{func() record.Contact { c := newC; c.Followers = tooMany.Followers; return c }()}}, store.ErrFollowerLimit},
		{"second record stale", &store.Changeset{AccountID: "acme", EventID: "e2", Opportunities: []record.Opportunity{o},
			Contacts: []record.Contact{newC, {ID: "c_1", AccountID: "acme", Version: 9}}}, store.ErrConflict},
	} {
		err := s.Commit(ctx, c.cs)
		if !errors.Is(err, c.want) {
			t.Errorf("%s: Commit = %v, want %v", c.name, err, c.want)
		}
		if after := snapshot(); after != before {
			t.Errorf("%s: the refused commit wrote\n%s\nwas\n%s", c.name, after, before)
		}
	}

	// Not sentinels: a changeset that crosses accounts or writes twice.
	cross := update("e2", o, "X")
	cross.AccountID = "globex"
	twice := update("e2", o, "X")
	twice.Opportunities = append(twice.Opportunities, o)
	for _, cs := range []*store.Changeset{cross, twice} {
		if err := s.Commit(ctx, cs); err == nil {
			t.Errorf("Commit(%+v) succeeded", cs)
		}
	}

	// The same epoch and a newer one commit.
	if err := s.Commit(ctx, withFence(update("e2", o, "Y"), 3, 5)); err != nil {
		t.Fatal(err)
	}
	o.Version++
	if err := s.Commit(ctx, withFence(update("e3", o, "Z"), 3, 6)); err != nil {
		t.Fatal(err)
	}
	o.Version++
	if err := s.Commit(ctx, withFence(update("e4", o, "Z"), 3, 5)); !errors.Is(err, store.ErrFenced) {
		t.Fatalf("epoch 5 after 6: %v", err)
	}
	// Another partition, another account: other fences.
	if err := s.Commit(ctx, withFence(update("e4", o, "Z"), 4, 1)); err != nil {
		t.Fatal(err)
	}
	h, err := s.History(ctx, "acme", record.KindOpportunity, "opp_1")
	if err != nil || len(h) != 4 {
		t.Fatalf("history: %v, %v", h, err)
	}
	for i := 1; i < len(h); i++ {
		if h[i].Seq <= h[i-1].Seq || h[i].EventID != fmt.Sprintf("e%d", i+1) {
			t.Errorf("history out of order: %+v", h)
		}
	}
}

func withFence(cs *store.Changeset, partition int, epoch int64) *store.Changeset {
	cs.Fence = &store.Fence{Partition: partition, Epoch: epoch}
	return cs
}

func withRead(cs *store.Changeset, r store.Ref) *store.Changeset {
	cs.Reads = append(cs.Reads, r)
	return cs
}

func TestReads(t *testing.T) {
	ctx := context.Background()
	s, _ := setup(t)
	if u, err := s.UserByEmail(ctx, "acme", "rae@ACME.test"); err != nil || u.ID != "u_rep" {
		t.Errorf("UserByEmail = %+v, %v", u, err)
	}
	for name, err := range map[string]error{
		"account":        second(s.Account(ctx, "nope")),
		"user":           second(s.User(ctx, "acme", "nope")),
		"user elsewhere": second(s.User(ctx, "globex", "u_rep")),
		"email":          second(s.UserByEmail(ctx, "acme", "")),
		"opportunity":    second(s.Opportunity(ctx, "globex", "opp_1")),
		"contact":        second(s.Contact(ctx, "acme", "nope")),
	} {
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s: %v, want ErrNotFound", name, err)
		}
	}
	if as, err := s.Accounts(ctx); err != nil || len(as) != 1 || as[0] != (record.Account{ID: "acme", Name: "Acme"}) {
		t.Errorf("Accounts = %+v, %v", as, err)
	}
	os, err := s.OpportunitiesByContact(ctx, "acme", "c_1")
	if err != nil || len(os) != 1 || os[0].ID != "opp_1" || os[0].Version != 1 {
		t.Errorf("OpportunitiesByContact = %+v, %v", os, err)
	}
}

func second[T any](_ T, err error) error { return err }

func TestTimesAndLists(t *testing.T) {
	ctx := context.Background()
	s, _ := setup(t)
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		paris = time.FixedZone("CET", 3600)
	}
	o := record.Opportunity{
		ID: "t", AccountID: "acme", Status: record.StatusOpen,
		Tags: []string{}, Followers: nil,
		CreatedAt: time.Date(2026, 3, 29, 2, 30, 0, 123456789, paris), UpdatedAt: time.Now(),
	}
	if err := s.Commit(ctx, &store.Changeset{AccountID: "acme", Opportunities: []record.Opportunity{o}}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Opportunity(ctx, "acme", "t")
	if err != nil {
		t.Fatal(err)
	}
	if !got.CreatedAt.Equal(o.CreatedAt) || !got.UpdatedAt.Equal(o.UpdatedAt) || !got.LastOwnerActivityAt.IsZero() {
		t.Errorf("times: got %v %v %v", got.CreatedAt, got.UpdatedAt, got.LastOwnerActivityAt)
	}
	if got.Tags == nil || len(got.Tags) != 0 || got.Followers != nil {
		t.Errorf("lists: tags %#v followers %#v", got.Tags, got.Followers)
	}

	o.ID, o.CreatedAt = "old", time.Date(1500, 1, 1, 0, 0, 0, 0, time.UTC)
	err = s.Commit(ctx, &store.Changeset{AccountID: "acme", Opportunities: []record.Opportunity{o}})
	var tre *TimeRangeError
	if !errors.As(err, &tre) || tre.Field != "created_at" {
		t.Errorf("a time of 1500: %v, want a TimeRangeError on created_at", err)
	}
}

func TestLoadSwapsEmailsAndBumpsVersions(t *testing.T) {
	ctx := context.Background()
	s, _ := setup(t)
	d := dataset()
	d.Users[0].Email, d.Users[1].Email = d.Users[1].Email, d.Users[0].Email
	if err := s.Load(ctx, d); err != nil {
		t.Fatal(err)
	}
	if u, err := s.UserByEmail(ctx, "acme", "max@acme.test"); err != nil || u.ID != "u_rep" {
		t.Errorf("after the swap max@ is %+v, %v", u, err)
	}
	if o, err := s.Opportunity(ctx, "acme", "opp_1"); err != nil || o.Version != 2 {
		t.Errorf("opp_1 after a second load: %+v, %v; want version 2", o, err)
	}
	exp, err := s.Export(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if exp.Opportunities[0].Version != 0 || exp.Contacts[0].Version != 0 {
		t.Errorf("Export keeps versions")
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	s, path := setup(t)
	if _, err := s.DB().Exec(`PRAGMA user_version = 99`); err != nil {
		t.Fatal(err)
	}
	if s2, err := Open(context.Background(), path, Config{}); err == nil {
		s2.Close()
		t.Error("Open of a newer schema succeeded")
	}
}

func TestConfig(t *testing.T) {
	d := Config{}.WithDefaults()
	if d.BusyTimeout != 5*time.Second || d.Synchronous != "NORMAL" || d.MaxOpenConns < 4 || d.Validate() != nil {
		t.Errorf("defaults %+v", d)
	}
	for _, c := range []struct {
		cfg   Config
		field string
	}{
		{Config{BusyTimeout: -1}, "BusyTimeout"},
		{Config{Synchronous: "OFF"}, "Synchronous"},
		{Config{MaxOpenConns: -1}, "MaxOpenConns"},
		{Config{CacheSizeKiB: -1}, "CacheSizeKiB"},
	} {
		if err := c.cfg.WithDefaults().Validate(); err == nil || !strings.Contains(err.Error(), c.field) {
			t.Errorf("Validate(%+v) = %v, want an error naming %s", c.cfg, err, c.field)
		}
		if _, err := Open(context.Background(), filepath.Join(t.TempDir(), "x.db"), c.cfg); err == nil {
			t.Errorf("Open with %+v succeeded", c.cfg)
		}
	}
	// Without the background checkpointer, commits checkpoint as often
	// as they used to.
	nobg, err := Open(context.Background(), filepath.Join(t.TempDir(), "nobg.db"), Config{CheckpointInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	var frames int
	if err := nobg.DB().QueryRow("PRAGMA wal_autocheckpoint").Scan(&frames); err != nil || frames != noBackgroundCheckpoint {
		t.Errorf("wal_autocheckpoint = %d, %v without the background checkpointer; want %d", frames, err, noBackgroundCheckpoint)
	}
	if err := nobg.Close(); err != nil {
		t.Error(err)
	}
	full := Config{Synchronous: "full"}
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "odd ?#% name.db"), full)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var sync int
	if err := s.DB().QueryRow("PRAGMA synchronous").Scan(&sync); err != nil || sync != 2 {
		t.Errorf("synchronous = %d, %v; want 2 (FULL)", sync, err)
	}
}

func TestClose(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "followflow.db"), Config{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Load(ctx, dataset()); err != nil {
		t.Fatal(err)
	}
	// Writers in flight finish, or are refused with ErrClosed; none is
	// left half done.
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				o := record.Opportunity{ID: fmt.Sprintf("o%d-%d", g, i), AccountID: "acme", CreatedAt: t0}
				err := s.Commit(ctx, &store.Changeset{AccountID: "acme", Opportunities: []record.Opportunity{o}})
				if errors.Is(err, ErrClosed) {
					return
				}
				if err != nil {
					t.Errorf("Commit: %v", err)
					return
				}
			}
		})
	}
	time.Sleep(20 * time.Millisecond)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := s.WithTx(ctx, func(*sql.Tx) error { return nil }); !errors.Is(err, ErrClosed) {
		t.Errorf("WithTx after Close: %v", err)
	}
}

func TestPanicInWriteTransaction(t *testing.T) {
	ctx := context.Background()
	s, _ := setup(t)
	func() {
		defer func() { recover() }()
		s.WithTx(ctx, func(tx *sql.Tx) error {
			if _, err := tx.Exec(`UPDATE accounts SET name = 'X'`); err != nil {
				t.Fatal(err)
			}
			panic("boom")
		})
	}()
	a, err := s.Account(ctx, "acme")
	if err != nil || a.Name != "Acme" {
		t.Errorf("after a panic in WithTx: %+v, %v", a, err)
	}
	o, err := s.Opportunity(ctx, "acme", "opp_1")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(ctx, update("e1", o, "Next")); err != nil {
		t.Errorf("Commit after a panic in WithTx: %v", err)
	}
}

func TestCommitBatch(t *testing.T) {
	ctx := context.Background()
	s, _ := setup(t)
	o, err := s.Opportunity(ctx, "acme", "opp_1")
	if err != nil {
		t.Fatal(err)
	}
	next := o
	next.Version++
	newOpp := record.Opportunity{ID: "opp_new", AccountID: "acme", Status: record.StatusOpen, OwnerID: "u_rep", CreatedAt: t0}
	tooMany := newOpp
	tooMany.ID, tooMany.Followers = "opp_many", []string{"1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11"}
	bad := update("e-bad", o, "X")
	bad.AccountID = "globex"

	batch := []*store.Changeset{
		withFence(update("e1", o, "A"), 1, 5),    // ok
		withFence(update("e2", next, "B"), 1, 5), // ok: sees e1's version
		update("e3", o, "C"),                     // conflict: o is two versions old
		update("e1", next, "D"),                  // processed earlier in the batch
		withFence(update("e4", next, "E"), 1, 4), // fenced by e1's epoch
		{AccountID: "acme", EventID: "e5", Opportunities: []record.Opportunity{newOpp}},  // ok
		{AccountID: "acme", EventID: "e6", Opportunities: []record.Opportunity{tooMany}}, // limit
		bad,                                   // not a sentinel: crosses accounts
		{AccountID: "acme", EventID: "e3"},    // ok: e3 was refused, so not in the ledger
		withFence(update("e7", o, "F"), 2, 1), // conflict, and its fence is not recorded
		withFence(&store.Changeset{AccountID: "acme", EventID: "e8"}, 2, 0), // ok: partition 2 has no epoch yet
	}
	want := []error{nil, nil, store.ErrConflict, store.ErrAlreadyProcessed, store.ErrFenced, nil, store.ErrFollowerLimit, nil, nil, store.ErrConflict, nil}
	errs, err := s.CommitBatch(ctx, batch)
	if err != nil {
		t.Fatal(err)
	}
	for i, err := range errs {
		switch {
		case i == 7:
			if err == nil || errors.Is(err, store.ErrConflict) {
				t.Errorf("changeset %d: %v, want an error that is not a store sentinel", i, err)
			}
		case want[i] == nil && err != nil, want[i] != nil && !errors.Is(err, want[i]):
			t.Errorf("changeset %d: %v, want %v", i, err, want[i])
		}
	}
	got, err := s.Opportunity(ctx, "acme", "opp_1")
	if err != nil || got.Stage != "B" || got.Version != o.Version+2 {
		t.Errorf("opp_1 after the batch: %+v, %v", got, err)
	}
	for id, want := range map[string]bool{"e1": true, "e2": true, "e3": true, "e4": false, "e5": true, "e6": false, "e7": false, "e8": true} {
		if done, err := s.Processed(ctx, "acme", id); done != want || err != nil {
			t.Errorf("Processed(%s) = %v, %v; want %v", id, done, err, want)
		}
	}
	if _, err := s.Opportunity(ctx, "acme", "opp_many"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("opp_many was written: %v", err)
	}
	var epoch int64
	if err := s.DB().QueryRow(`SELECT epoch FROM fences WHERE account_id = 'acme' AND "partition" = 2`).Scan(&epoch); err != nil || epoch != 0 {
		t.Errorf("partition 2 epoch = %d, %v; want 0 (e7 refused, e8 recorded 0)", epoch, err)
	}
	if errs, err := s.CommitBatch(ctx, nil); errs != nil || err != nil {
		t.Errorf("empty batch: %v, %v", errs, err)
	}

	// A batch whose context has ended commits nothing.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.CommitBatch(cctx, []*store.Changeset{{AccountID: "acme", EventID: "e9"}}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled batch: %v", err)
	}
	if done, _ := s.Processed(ctx, "acme", "e9"); done {
		t.Error("the cancelled batch committed e9")
	}
}

// TestBackgroundCheckpoint: after commits, the WAL is copied back into the
// database file without a commit doing it.
func TestBackgroundCheckpoint(t *testing.T) {
	s, _ := setup(t)
	ctx := context.Background()
	o, err := s.Opportunity(ctx, "acme", "opp_1")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(ctx, update("e1", o, "Won")); err != nil {
		t.Fatal(err)
	}
	conn, err := s.DB().Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		// NOOP copies nothing: it reports the frames in the WAL and
		// those already copied.
		var busy, log, done int
		if err := conn.QueryRowContext(ctx, "PRAGMA wal_checkpoint(NOOP)").Scan(&busy, &log, &done); err != nil {
			t.Fatal(err)
		}
		if log > 0 && done == log {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("WAL of %d frames, %d checkpointed after 5s", log, done)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestFenceSeenByAnotherStore: a Store remembers the fences its commits
// read or wrote; a newer epoch that another Store on the file (another
// process, as far as SQLite can tell) committed since must still fence it.
func TestFenceSeenByAnotherStore(t *testing.T) {
	ctx := context.Background()
	a, path := setup(t)
	b := open(t, path)
	commit := func(s *Store, id string, epoch int64) error {
		return s.Commit(ctx, &store.Changeset{AccountID: "acme", EventID: id, ProcessedAt: t0,
			Fence: &store.Fence{Partition: 3, Epoch: epoch}})
	}
	if err := commit(a, "e1", 1); err != nil {
		t.Fatal(err)
	}
	if err := commit(b, "e2", 2); err != nil {
		t.Fatal(err)
	}
	if err := commit(a, "e3", 1); !errors.Is(err, store.ErrFenced) {
		t.Fatalf("commit under epoch 1 after another store's epoch 2 = %v, want ErrFenced", err)
	}
	if err := commit(a, "e4", 2); err != nil {
		t.Fatal(err)
	}
	if err := commit(b, "e5", 1); !errors.Is(err, store.ErrFenced) {
		t.Fatalf("second store's commit under epoch 1 = %v, want ErrFenced", err)
	}
}

// TestReadOpportunities: the one-query read returns what Opportunity
// returns for each key, found or not, in the order asked, whatever the ids
// hold.
func TestReadOpportunities(t *testing.T) {
	ctx := context.Background()
	s, _ := setup(t)
	odd := record.Opportunity{ID: `o"dd\` + "\u00e9]", AccountID: "acme", Name: "Odd", Status: record.StatusOpen, CreatedAt: t0, UpdatedAt: t0, LastOwnerActivityAt: t0}
	if err := s.Commit(ctx, &store.Changeset{AccountID: "acme", Opportunities: []record.Opportunity{odd}}); err != nil {
		t.Fatal(err)
	}
	d := dataset()
	keys := []store.Key{{AccountID: "acme", ID: odd.ID}, {AccountID: "acme", ID: "missing"}, {AccountID: "other", ID: d.Opportunities[0].ID}}
	for _, o := range d.Opportunities {
		keys = append(keys, store.Key{AccountID: o.AccountID, ID: o.ID})
	}
	keys = append(keys, keys[3]) // twice
	opps, found, err := s.ReadOpportunities(ctx, keys)
	if err != nil {
		t.Fatal(err)
	}
	for i, k := range keys {
		want, err := s.Opportunity(ctx, k.AccountID, k.ID)
		switch {
		case errors.Is(err, store.ErrNotFound):
			if found[i] {
				t.Errorf("key %d %v: found %+v, want not found", i, k, opps[i])
			}
		case err != nil:
			t.Fatal(err)
		case !found[i]:
			t.Errorf("key %d %v: not found", i, k)
		case !reflect.DeepEqual(opps[i], want):
			t.Errorf("key %d %v: got %+v, want %+v", i, k, opps[i], want)
		}
	}
	if !found[0] || found[1] || found[2] {
		t.Errorf("found = %v, want the odd id found and the next two not", found[:3])
	}
}
