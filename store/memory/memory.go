package memory

import (
	"context"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/btree"

	"github.com/followflow/followflow/record"
	"github.com/followflow/followflow/store"
)

// Store is an in-memory store.Store. The zero value is not usable; call New.
// It is safe for concurrent use.
type Store struct {
	mu sync.RWMutex

	accounts map[string]record.Account
	// hash keys the users, the records and the ledger (see hashKey).
	hash     hasher
	users    table[record.User]
	opps     table[oppSlot]
	contacts table[contactSlot]
	// emails maps {account, lower-cased email} to a user id.
	emails map[recKey]string

	// byContact orders the opportunities of each (account, contact) by id.
	byContact *btree.BTreeG[contactKey]
	// stale holds the open, owned opportunities by last_owner_activity_at.
	stale staleIndex

	// ledger holds the processed events of every account.
	ledger  ledger
	history history
	// fences maps {account, partition} to the newest committed epoch.
	fences map[fenceKey]int64
	// usersVersion changes with every Load that holds users, to a number
	// no other store of the process has had (see nextUsersVersion).
	usersVersion atomic.Uint64
}

// usersVersions hands out users versions unique in the process, so that
// what a caller remembers of one store never passes for another's.
var usersVersions atomic.Uint64

// recKey names an email of an account.
type recKey struct{ account, id string }

// oppSlot is a stored opportunity with its history,
// so that a commit finds both in one look-up.
type oppSlot struct {
	rec  record.Opportunity
	hist historyLog
	// stale is the slot's bucket in the stale index, nil when it is not a
	// stale candidate; staleAt its place there.
	stale   *staleBucket
	staleAt int
}

// contactSlot is a stored contact with its history, as oppSlot.
type contactSlot struct {
	rec  record.Contact
	hist historyLog
}

type fenceKey struct {
	account   string
	partition int
}

// contactKey is the key of an opportunity in the byContact index. p is the
// stored opportunity (stored records change in place, so it stays valid);
// it takes no part in the order.
type contactKey struct {
	account, contact, id string
	p                    *record.Opportunity
}

func contactKeyOf(p *record.Opportunity) contactKey {
	return contactKey{p.AccountID, p.ContactID, p.ID, p}
}

func lessContactKey(a, b contactKey) bool {
	if a.account != b.account {
		return a.account < b.account
	}
	if a.contact != b.contact {
		return a.contact < b.contact
	}
	return a.id < b.id
}

// btreeDegree suits keys of a few strings: nodes of up to 63 keys.
const btreeDegree = 32

// New returns an empty store.
func New() *Store {
	s := &Store{
		accounts:  map[string]record.Account{},
		users:     newTable[record.User](),
		emails:    map[recKey]string{},
		hash:      newHasher(),
		opps:      newTable[oppSlot](),
		contacts:  newTable[contactSlot](),
		byContact: btree.NewG(btreeDegree, lessContactKey),
		stale:     newStaleIndex(),
		ledger:    newLedger(),
		history:   newHistory(),
		fences:    map[fenceKey]int64{},
	}
	s.usersVersion.Store(usersVersions.Add(1))
	return s
}

var _ store.Store = (*Store)(nil)

// Account implements store.Reader. Errors from reads are the bare store
// sentinels, so that a miss costs no allocation; callers add context.
func (s *Store) Accounts(_ context.Context) ([]record.Account, error) {
	s.mu.RLock()
	out := make([]record.Account, 0, len(s.accounts))
	for _, a := range s.accounts {
		out = append(out, a)
	}
	s.mu.RUnlock()
	slices.SortFunc(out, func(a, b record.Account) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// Account implements store.Reader.
func (s *Store) Account(_ context.Context, id string) (record.Account, error) {
	s.mu.RLock()
	a, ok := s.accounts[id]
	s.mu.RUnlock()
	if !ok {
		return record.Account{}, store.ErrNotFound
	}
	return a, nil
}

// User implements store.Reader.
func (s *Store) User(_ context.Context, accountID, userID string) (record.User, error) {
	k := s.hash.key(accountID, userID)
	s.mu.RLock()
	p := s.users.get(k)
	if p == nil {
		s.mu.RUnlock()
		return record.User{}, store.ErrNotFound
	}
	u := *p
	s.mu.RUnlock()
	return u, nil
}

// UserByEmail implements store.Reader. Emails are compared after
// strings.ToLower; an empty email matches no user.
func (s *Store) UserByEmail(_ context.Context, accountID, email string) (record.User, error) {
	if email == "" {
		return record.User{}, store.ErrNotFound
	}
	key := recKey{accountID, strings.ToLower(email)}
	s.mu.RLock()
	defer s.mu.RUnlock()
	id, ok := s.emails[key]
	if !ok {
		return record.User{}, store.ErrNotFound
	}
	p := s.users.get(s.hash.key(accountID, id))
	if p == nil {
		return record.User{}, store.ErrNotFound
	}
	return *p, nil
}

// Opportunity implements store.Reader. The result's slices are shared with
// the store: see the package documentation.
func (s *Store) Opportunity(_ context.Context, accountID, id string) (record.Opportunity, error) {
	k := s.hash.key(accountID, id)
	s.mu.RLock()
	p := s.opps.get(k)
	if p == nil {
		s.mu.RUnlock()
		return record.Opportunity{}, store.ErrNotFound
	}
	o := p.rec
	s.mu.RUnlock()
	return o, nil
}

var _ store.EventReader = (*Store)(nil)

// OpportunityForEvent implements store.EventReader: both look-ups are
// issued back to back under one read lock, so that their cache misses
// overlap.
func (s *Store) OpportunityForEvent(_ context.Context, accountID, id, eventID string) (record.Opportunity, bool, error) {
	ok, lk := s.hash.key(accountID, id), s.hash.key(accountID, eventID)
	s.mu.RLock()
	processed := eventID != "" && s.ledger.has(lk)
	p := s.opps.get(ok)
	if p == nil {
		s.mu.RUnlock()
		return record.Opportunity{}, processed, store.ErrNotFound
	}
	o := p.rec
	s.mu.RUnlock()
	return o, processed, nil
}

// Contact implements store.Reader. The result's slices are shared with the
// store: see the package documentation.
func (s *Store) Contact(_ context.Context, accountID, id string) (record.Contact, error) {
	k := s.hash.key(accountID, id)
	s.mu.RLock()
	p := s.contacts.get(k)
	if p == nil {
		s.mu.RUnlock()
		return record.Contact{}, store.ErrNotFound
	}
	c := p.rec
	s.mu.RUnlock()
	return c, nil
}

// OpportunitiesByContact implements store.Reader. The results' slices are
// shared with the store: see the package documentation.
func (s *Store) OpportunitiesByContact(_ context.Context, accountID, contactID string) ([]record.Opportunity, error) {
	if contactID == "" {
		return nil, nil // opportunities without a contact are not indexed
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []record.Opportunity
	s.byContact.AscendGreaterOrEqual(contactKey{account: accountID, contact: contactID}, func(k contactKey) bool {
		if k.account != accountID || k.contact != contactID {
			return false
		}
		out = append(out, *k.p)
		return true
	})
	return out, nil
}

// Processed implements store.Reader.
func (s *Store) Processed(_ context.Context, accountID, eventID string) (bool, error) {
	if eventID == "" {
		return false, nil
	}
	k := s.hash.key(accountID, eventID)
	s.mu.RLock()
	ok := s.ledger.has(k)
	s.mu.RUnlock()
	return ok, nil
}

// History implements store.Store. It returns a copy; a record without
// history (stored or not) has none and no error.
func (s *Store) History(_ context.Context, accountID string, kind record.Kind, id string) ([]record.HistoryEntry, error) {
	hk := s.hash.key(accountID, id)
	s.mu.RLock()
	defer s.mu.RUnlock()
	k := histKey{accountID, kind, id}
	return s.history.entries(k, s.storedLog(hk, k)), nil
}

// storedLog returns the history of a record, or nil when it has none: in
// the record's slot when it is stored, in history.logs when not. hk is the
// record's hashKey. The caller holds s.mu.
func (s *Store) storedLog(hk hashKey, k histKey) *historyLog {
	switch k.kind {
	case record.KindOpportunity:
		if p := s.opps.get(hk); p != nil {
			return &p.hist
		}
	case record.KindContact:
		if p := s.contacts.get(hk); p != nil {
			return &p.hist
		}
	}
	return s.history.logs[k]
}

// StaleCandidates implements store.Store by walking the stale index from its
// start, so its cost grows with the number returned. The results' slices
// are shared with the store: see the package documentation.
func (s *Store) StaleCandidates(_ context.Context, cutoff time.Time, limit int) ([]record.Opportunity, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	slots := s.stale.candidates(cutoff, limit)
	if len(slots) == 0 {
		return nil, nil
	}
	out := make([]record.Opportunity, len(slots))
	for i, p := range slots {
		out[i] = p.rec
	}
	return out, nil
}

// Close implements store.Store. It does nothing: the data lives as long as
// the Store value, and the Store stays usable.
func (s *Store) Close() error { return nil }

// Commit implements store.Store. It checks, in this order, the fence, the
// ledger, the versions of cs.Reads, the versions of the written records and
// their follower counts, and writes only when all pass, so nothing is
// written on any error. A changeset that writes a record twice, or names a
// record, a read or a history entry of another account than cs.AccountID, is
// refused with an error that is none of the store sentinels.
//
// Commit takes ownership of the slices of the records in cs (it stores them
// without copying) and does not change cs.
func (s *Store) Commit(_ context.Context, cs *store.Changeset) error {
	if err := cs.Check(); err != nil {
		return err
	}
	// Hash every key before taking the lock; most changesets write one or
	// two records.
	var lk hashKey
	if cs.EventID != "" {
		lk = s.hash.key(cs.AccountID, cs.EventID)
	}
	var oppKeyBuf [4]hashKey
	var contactKeyBuf [2]hashKey
	oppKeys, contactKeys := oppKeyBuf[:0], contactKeyBuf[:0]
	for i := range cs.Opportunities {
		oppKeys = append(oppKeys, s.hash.key(cs.AccountID, cs.Opportunities[i].ID))
	}
	for i := range cs.Contacts {
		contactKeys = append(contactKeys, s.hash.key(cs.AccountID, cs.Contacts[i].ID))
	}
	s.mu.Lock()
	defer s.mu.Unlock()

	// Validate. Remember the stored records found so that writing does not
	// look them up again.
	var oppBuf [4]*oppSlot
	var contactBuf [2]*contactSlot
	oldOpps, oldContacts := oppBuf[:0], contactBuf[:0]

	var fk fenceKey
	if cs.Fence != nil {
		fk = fenceKey{cs.AccountID, cs.Fence.Partition}
		if newest, ok := s.fences[fk]; ok && cs.Fence.Epoch < newest {
			return store.ErrFenced
		}
	}
	// The ledger entry goes in now, in one map probe that also tells
	// whether it was there; a refusal below takes it out again.
	added := cs.EventID != "" && s.ledger.addNew(lk)
	if cs.EventID != "" && !added {
		return store.ErrAlreadyProcessed
	}
	refuse := func(err error) error {
		if added {
			s.ledger.remove(lk)
		}
		return err
	}
	for i := range cs.Reads {
		r := &cs.Reads[i]
		if s.version(r.Kind, r.AccountID, r.ID) != r.Version {
			return refuse(store.ErrConflict)
		}
	}
	for i := range cs.Opportunities {
		o := &cs.Opportunities[i]
		p := s.opps.get(oppKeys[i])
		if (p == nil && o.Version != 0) || (p != nil && p.rec.Version != o.Version) {
			return refuse(store.ErrConflict)
		}
		oldOpps = append(oldOpps, p)
	}
	for i := range cs.Contacts {
		c := &cs.Contacts[i]
		p := s.contacts.get(contactKeys[i])
		if (p == nil && c.Version != 0) || (p != nil && p.rec.Version != c.Version) {
			return refuse(store.ErrConflict)
		}
		oldContacts = append(oldContacts, p)
	}
	for i := range cs.Opportunities {
		if len(cs.Opportunities[i].Followers) > record.MaxFollowers {
			return refuse(store.ErrFollowerLimit)
		}
	}
	for i := range cs.Contacts {
		if len(cs.Contacts[i].Followers) > record.MaxFollowers {
			return refuse(store.ErrFollowerLimit)
		}
	}

	// Write.
	if cs.Fence != nil {
		s.fences[fk] = max(s.fences[fk], cs.Fence.Epoch)
	}
	for i := range cs.Opportunities {
		oldOpps[i] = s.putOpportunity(oppKeys[i], oldOpps[i], &cs.Opportunities[i])
	}
	for i := range cs.Contacts {
		oldContacts[i] = s.putContact(contactKeys[i], oldContacts[i], &cs.Contacts[i])
	}
	for i := range cs.History {
		e := &cs.History[i]
		s.history.appendTo(s.historyLog(e, cs, oldOpps, oldContacts), e)
	}
	return nil
}

// historyLog returns the log a history entry of cs goes to, created on the
// record's first entry: in the record's slot when it is stored (found
// without a look-up when cs writes it), in history.logs when not. opps and
// contacts are the slots of cs's records. The caller holds s.mu for
// writing.
func (s *Store) historyLog(e *record.HistoryEntry, cs *store.Changeset, opps []*oppSlot, contacts []*contactSlot) *historyLog {
	var hist *historyLog
	switch e.Kind {
	case record.KindOpportunity:
		for i := range cs.Opportunities {
			if cs.Opportunities[i].ID == e.RecordID {
				hist = &opps[i].hist
				break
			}
		}
		if hist == nil {
			if p := s.opps.get(s.hash.key(e.AccountID, e.RecordID)); p != nil {
				hist = &p.hist
			}
		}
	case record.KindContact:
		for i := range cs.Contacts {
			if cs.Contacts[i].ID == e.RecordID {
				hist = &contacts[i].hist
				break
			}
		}
		if hist == nil {
			if p := s.contacts.get(s.hash.key(e.AccountID, e.RecordID)); p != nil {
				hist = &p.hist
			}
		}
	}
	if hist == nil {
		return s.history.log(histKey{e.AccountID, e.Kind, e.RecordID})
	}
	return hist
}

// version returns the stored version of a record, 0 when it is not stored.
// The caller holds s.mu.
func (s *Store) version(kind record.Kind, accountID, id string) int64 {
	switch kind {
	case record.KindOpportunity:
		if p := s.opps.get(s.hash.key(accountID, id)); p != nil {
			return p.rec.Version
		}
	case record.KindContact:
		if p := s.contacts.get(s.hash.key(accountID, id)); p != nil {
			return p.rec.Version
		}
	}
	return 0
}

// putOpportunity stores o, whose key is k, over slot, its stored state
// (nil: none), with its version bumped, keeps the indexes in step, and
// returns its slot. The caller holds s.mu for writing.
func (s *Store) putOpportunity(k hashKey, slot *oppSlot, o *record.Opportunity) *oppSlot {
	if slot == nil {
		slot = &oppSlot{rec: *o}
		s.history.adopt(histKey{o.AccountID, record.KindOpportunity, o.ID}, &slot.hist)
		p := &slot.rec
		p.Version = 1
		s.opps.put(k, slot)
		if p.ContactID != "" {
			s.byContact.ReplaceOrInsert(contactKeyOf(p))
		}
		if p.IsStaleCandidate() {
			s.stale.add(slot)
		}
		return slot
	}
	p := &slot.rec
	contactMoved := p.ContactID != o.ContactID
	wasStale, wasAt := p.IsStaleCandidate(), p.LastOwnerActivityAt
	if contactMoved && p.ContactID != "" {
		s.byContact.Delete(contactKeyOf(p))
	}
	version := p.Version + 1
	*p = *o
	p.Version = version
	if contactMoved && p.ContactID != "" {
		s.byContact.ReplaceOrInsert(contactKeyOf(p))
	}
	s.stale.move(slot, wasStale, wasAt)
	return slot
}

// putContact stores c, whose key is k, over slot, its stored state (nil:
// none), with its version bumped, and returns its slot. The caller holds
// s.mu for writing.
func (s *Store) putContact(k hashKey, slot *contactSlot, c *record.Contact) *contactSlot {
	if slot == nil {
		slot = &contactSlot{rec: *c}
		s.history.adopt(histKey{c.AccountID, record.KindContact, c.ID}, &slot.hist)
		slot.rec.Version = 1
		s.contacts.put(k, slot)
		return slot
	}
	version := slot.rec.Version + 1
	slot.rec = *c
	slot.rec.Version = version
	return slot
}

var _ store.UsersVersioner = (*Store)(nil)

// UsersVersion implements store.UsersVersioner.
func (s *Store) UsersVersion() uint64 { return s.usersVersion.Load() }

// Load implements store.Store. It copies what it keeps of d, so the caller
// may reuse d afterwards.
func (s *Store) Load(_ context.Context, d *record.Dataset) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range d.Accounts {
		s.accounts[a.ID] = a
	}
	if len(d.Users) > 0 {
		// After the users are in: a reader that reads the new number
		// reads them.
		defer func() { s.usersVersion.Store(usersVersions.Add(1)) }()
	}
	for _, u := range d.Users {
		k := s.hash.key(u.AccountID, u.ID)
		if old := s.users.get(k); old != nil && old.Email != "" {
			ek := recKey{old.AccountID, strings.ToLower(old.Email)}
			if s.emails[ek] == old.ID {
				delete(s.emails, ek)
			}
		}
		s.users.put(k, &u)
		if u.Email != "" {
			s.emails[recKey{u.AccountID, strings.ToLower(u.Email)}] = u.ID
		}
	}
	for i := range d.Opportunities {
		o := d.Opportunities[i].Clone()
		k := s.hash.key(o.AccountID, o.ID)
		old := s.opps.get(k)
		o.Version = 0
		if old != nil {
			o.Version = old.rec.Version
		}
		s.putOpportunity(k, old, &o)
	}
	for i := range d.Contacts {
		c := d.Contacts[i].Clone()
		k := s.hash.key(c.AccountID, c.ID)
		old := s.contacts.get(k)
		c.Version = 0
		if old != nil {
			c.Version = old.rec.Version
		}
		s.putContact(k, old, &c)
	}
	return nil
}

// Export implements store.Store. The dataset is a copy, with every Version
// zero.
func (s *Store) Export(_ context.Context) (*record.Dataset, error) {
	s.mu.RLock()
	d := &record.Dataset{
		Accounts:      make([]record.Account, 0, len(s.accounts)),
		Users:         make([]record.User, 0, s.users.n),
		Opportunities: make([]record.Opportunity, 0, s.opps.n),
		Contacts:      make([]record.Contact, 0, s.contacts.n),
	}
	for _, a := range s.accounts {
		d.Accounts = append(d.Accounts, a)
	}
	s.users.all(func(u *record.User) { d.Users = append(d.Users, *u) })
	s.opps.all(func(p *oppSlot) {
		o := p.rec.Clone()
		o.Version = 0
		d.Opportunities = append(d.Opportunities, o)
	})
	s.contacts.all(func(p *contactSlot) {
		c := p.rec.Clone()
		c.Version = 0
		d.Contacts = append(d.Contacts, c)
	})
	s.mu.RUnlock()
	d.Sort()
	return d, nil
}

var _ store.BatchCommitter = (*Store)(nil)

// CommitBatch implements store.BatchCommitter by committing each changeset
// in turn: in memory there is no round trip to save.
func (s *Store) CommitBatch(ctx context.Context, css []*store.Changeset) ([]error, error) {
	errs := make([]error, len(css))
	for i, cs := range css {
		errs[i] = s.Commit(ctx, cs)
	}
	return errs, nil
}

var _ store.MultiReader = (*Store)(nil)

// ReadOpportunities implements store.MultiReader under one read lock.
func (s *Store) ReadOpportunities(_ context.Context, keys []store.Key) ([]record.Opportunity, []bool, error) {
	opps := make([]record.Opportunity, len(keys))
	found := make([]bool, len(keys))
	hks := make([]hashKey, len(keys))
	for i, k := range keys {
		hks[i] = s.hash.key(k.AccountID, k.ID)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	for i, k := range hks {
		if p := s.opps.get(k); p != nil {
			opps[i], found[i] = p.rec, true
		}
	}
	return opps, found, nil
}
