package storetest

import (
	"fmt"
	"testing"

	"github.com/followflow/followflow/record"
	"github.com/followflow/followflow/store"
)

func fenceCases() []testCase {
	return []testCase{
		{"OlderEpochIsFenced", testOlderEpochIsFenced},
		{"EqualEpochIsAllowed", testEqualEpochIsAllowed},
		{"NewerEpochFencesOlder", testNewerEpochFencesOlder},
		{"PartitionsAreIndependent", testFencePartitionsAreIndependent},
		{"AccountsAreIndependent", testFenceAccountsAreIndependent},
		{"NoFenceIsNotChecked", testNoFenceIsNotChecked},
		{"RefusedCommitRecordsNoEpoch", testRefusedCommitRecordsNoEpoch},
		{"EmptyChangesetRecordsEpoch", testEmptyChangesetRecordsEpoch},
	}
}

// fenced builds a changeset of account under fence {partition, epoch} that
// updates the account's opp_1 and appends a history entry, with a new event
// id each time.
type fenced struct {
	t *testing.T
	s store.Store
	n int
}

func (f *fenced) cs(account string, partition int, epoch int64) *store.Changeset {
	f.t.Helper()
	f.n++
	eventID := fmt.Sprintf("fenced-%d", f.n)
	o := getOpp(f.t, f.s, account, "opp_1")
	o.Stage = eventID
	return &store.Changeset{
		AccountID: account, Fence: &store.Fence{Partition: partition, Epoch: epoch},
		EventID: eventID, ProcessedAt: at(9),
		Opportunities: []record.Opportunity{o},
		History:       []record.HistoryEntry{entry(account, record.KindOpportunity, "opp_1", eventID, "", record.ConditionError)},
	}
}

// commit expects the commit under that fence to pass.
func (f *fenced) commit(account string, partition int, epoch int64) {
	f.t.Helper()
	if err := f.s.Commit(f.t.Context(), f.cs(account, partition, epoch)); err != nil {
		f.t.Errorf("commit in %s under fence {%d %d}: %v", account, partition, epoch, err)
	}
}

// refused expects the commit under that fence to be fenced and write nothing.
func (f *fenced) refused(account string, partition int, epoch int64) {
	f.t.Helper()
	wantRefused(f.t, f.s, f.cs(account, partition, epoch), store.ErrFenced)
}

func newFenced(t *testing.T, s store.Store) *fenced {
	loadFixture(t, s)
	return &fenced{t: t, s: s}
}

func testOlderEpochIsFenced(t *testing.T, s store.Store) {
	f := newFenced(t, s)
	f.commit(acme, 1, 2)
	f.refused(acme, 1, 1)
	f.refused(acme, 1, 0)
	// A ledger-only changeset is fenced too.
	wantRefused(t, s, &store.Changeset{AccountID: acme, Fence: &store.Fence{Partition: 1, Epoch: 1}, EventID: "e-noop"}, store.ErrFenced)
}

func testEqualEpochIsAllowed(t *testing.T, s store.Store) {
	f := newFenced(t, s)
	f.commit(acme, 1, 2)
	f.commit(acme, 1, 2)
	f.commit(acme, 1, 2)
}

func testNewerEpochFencesOlder(t *testing.T, s store.Store) {
	f := newFenced(t, s)
	f.commit(acme, 1, 1)
	f.commit(acme, 1, 3)
	f.refused(acme, 1, 2)
	f.refused(acme, 1, 1)
	f.commit(acme, 1, 3)
	f.commit(acme, 1, 4)
	f.refused(acme, 1, 3)
}

func testFencePartitionsAreIndependent(t *testing.T, s store.Store) {
	f := newFenced(t, s)
	f.commit(acme, 1, 5)
	f.commit(acme, 2, 1)
	f.commit(acme, 0, 1)
	f.refused(acme, 2, 0)
	f.refused(acme, 1, 4)
}

func testFenceAccountsAreIndependent(t *testing.T, s store.Store) {
	f := newFenced(t, s)
	f.commit(acme, 1, 5)
	f.commit(globex, 1, 1)
	f.refused(globex, 1, 0)
	f.refused(acme, 1, 1)
}

// A changeset without a fence (a manual change) is not checked against the
// fences.
func testNoFenceIsNotChecked(t *testing.T, s store.Store) {
	f := newFenced(t, s)
	f.commit(acme, 1, 5)
	cs := f.cs(acme, 1, 0)
	cs.Fence = nil
	wantErr(t, "commit without a fence", s.Commit(t.Context(), cs), nil)
	f.refused(acme, 1, 4)
}

// A commit refused for any reason records no epoch: "all of it or nothing".
func testRefusedCommitRecordsNoEpoch(t *testing.T, s store.Store) {
	f := newFenced(t, s)
	users := loadUsers(t, s, acme, "u_x", record.MaxFollowers+1)
	f.commit(acme, 1, 1)

	cs := f.cs(acme, 1, 5)
	cs.Opportunities[0].Version = 0
	wantRefused(t, s, cs, store.ErrConflict)

	cs = f.cs(acme, 1, 6)
	cs.EventID = "fenced-1"
	wantRefused(t, s, cs, store.ErrAlreadyProcessed)

	cs = f.cs(acme, 1, 7)
	cs.Opportunities[0].Followers = withFollowers(users, record.MaxFollowers+1)
	wantRefused(t, s, cs, store.ErrFollowerLimit)

	f.commit(acme, 1, 2)
	f.refused(acme, 1, 1)
}

// A changeset that writes nothing still records its fence epoch.
func testEmptyChangesetRecordsEpoch(t *testing.T, s store.Store) {
	f := newFenced(t, s)
	wantErr(t, "empty changeset under a fence",
		s.Commit(t.Context(), &store.Changeset{AccountID: acme, Fence: &store.Fence{Partition: 3, Epoch: 4}}), nil)
	f.refused(acme, 3, 3)
	f.commit(acme, 3, 4)
}
