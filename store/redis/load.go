package redis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	goredis "github.com/redis/go-redis/v9"

	"github.com/followflow/followflow/record"
)

// loadBatch bounds the records of one load script call, so that a large
// dataset never blocks the server for long.
const loadBatch = 250

// accountData is the part of a dataset that belongs to one account.
type accountData struct {
	account  *record.Account
	users    []*record.User
	opps     []*record.Opportunity
	contacts []*record.Contact
}

// Load implements store.Store. It adds the dataset's accounts to the global
// set, then upserts each account's data with script calls of at most 250
// records each, in order: the account, its users, its opportunities, its
// contacts. Each call is atomic; the load as a whole is not, but loading
// the same dataset again completes one that failed half way (versions
// aside).
func (s *Store) Load(ctx context.Context, d *record.Dataset) error {
	byAccount := map[string]*accountData{}
	get := func(id string) *accountData {
		a := byAccount[id]
		if a == nil {
			a = &accountData{}
			byAccount[id] = a
		}
		return a
	}
	for i := range d.Accounts {
		get(d.Accounts[i].ID).account = &d.Accounts[i]
	}
	for i := range d.Users {
		a := get(d.Users[i].AccountID)
		a.users = append(a.users, &d.Users[i])
	}
	for i := range d.Opportunities {
		a := get(d.Opportunities[i].AccountID)
		a.opps = append(a.opps, &d.Opportunities[i])
	}
	for i := range d.Contacts {
		a := get(d.Contacts[i].AccountID)
		a.contacts = append(a.contacts, &d.Contacts[i])
	}
	ids := make([]string, 0, len(byAccount))
	for id := range byAccount {
		if id == "" {
			return errors.New("redis store: load: a record has no account")
		}
		ids = append(ids, id)
	}
	slices.Sort(ids)
	if len(ids) == 0 {
		return nil
	}
	// Forget what this process knew: the accounts may have been removed.
	for _, id := range ids {
		s.known.Delete(id)
	}
	if err := s.addAccount(ctx, ids...); err != nil {
		return err
	}
	for _, id := range ids {
		if err := s.loadAccount(ctx, id, byAccount[id]); err != nil {
			return fmt.Errorf("redis store: loading account %q: %w", id, err)
		}
	}
	return nil
}

// loadAccount upserts the data of one account in batches.
func (s *Store) loadAccount(ctx context.Context, accountID string, a *accountData) error {
	k := s.keys(accountID)
	accountJSON := ""
	if a.account != nil {
		b, err := json.Marshal(a.account)
		if err != nil {
			return err
		}
		accountJSON = string(b)
	}
	users, opps, contacts := a.users, a.opps, a.contacts
	for first := true; first || len(users)+len(opps)+len(contacts) > 0; first = false {
		// Take up to loadBatch records, users first.
		room := loadBatch
		nu := min(room, len(users))
		room -= nu
		no := min(room, len(opps))
		room -= no
		nc := min(room, len(contacts))

		keys := []string{k.account(), k.users(), k.emails(), k.stale(), k.opps(), k.contacts()}
		args := []any{k.base, accountJSON, nu, no, nc}
		for _, u := range users[:nu] {
			b, err := json.Marshal(u)
			if err != nil {
				return fmt.Errorf("encoding user %q: %w", u.ID, err)
			}
			keys = append(keys, k.user(u.ID))
			args = append(args, u.ID, strings.ToLower(u.Email), b)
		}
		for _, o := range opps[:no] {
			b, err := json.Marshal(o)
			if err != nil {
				return fmt.Errorf("encoding opportunity %q: %w", o.ID, err)
			}
			keys = append(keys, k.opp(o.ID))
			args = append(args, o.ID, o.ContactID, staleScore(o), b)
		}
		for _, c := range contacts[:nc] {
			b, err := json.Marshal(c)
			if err != nil {
				return fmt.Errorf("encoding contact %q: %w", c.ID, err)
			}
			keys = append(keys, k.contact(c.ID))
			args = append(args, c.ID, b)
		}
		if err := loadScript.Run(ctx, s.client, keys, args...).Err(); err != nil {
			return err
		}
		users, opps, contacts = users[nu:], opps[no:], contacts[nc:]
		accountJSON = ""
	}
	return nil
}

// Export implements store.Store. It reads the global set of accounts, then
// each account's record id sets, then the records, each step in
// pipelines. It is not a snapshot: a commit running meanwhile may be seen
// in part. Every Version is zero.
func (s *Store) Export(ctx context.Context) (*record.Dataset, error) {
	accounts, err := s.client.SMembers(ctx, s.accountsKey()).Result()
	if err != nil {
		return nil, fmt.Errorf("redis store: export: reading accounts: %w", err)
	}
	slices.Sort(accounts)

	// The account records and the ids of their users and records.
	type idSets struct {
		account               *goredis.StringCmd
		users, opps, contacts *goredis.StringSliceCmd
	}
	sets := make([]idSets, len(accounts))
	err = s.pipelined(ctx, len(accounts), func(pipe goredis.Pipeliner, i int) {
		k := s.keys(accounts[i])
		sets[i] = idSets{
			account:  pipe.Get(ctx, k.account()),
			users:    pipe.SMembers(ctx, k.users()),
			opps:     pipe.SMembers(ctx, k.opps()),
			contacts: pipe.SMembers(ctx, k.contacts()),
		}
	})
	if err != nil {
		return nil, fmt.Errorf("redis store: export: reading ids: %w", err)
	}

	d := &record.Dataset{}
	type item struct {
		account, id string
		kind        byte // 'u', 'o', 'c'
	}
	var items []item
	for i, acc := range accounts {
		if b, err := sets[i].account.Bytes(); err == nil {
			var a record.Account
			if err := json.Unmarshal(b, &a); err != nil {
				return nil, fmt.Errorf("redis store: export: decoding account %q: %w", acc, err)
			}
			d.Accounts = append(d.Accounts, a)
		} else if !errors.Is(err, goredis.Nil) {
			return nil, fmt.Errorf("redis store: export: reading account %q: %w", acc, err)
		}
		for _, id := range sets[i].users.Val() {
			items = append(items, item{acc, id, 'u'})
		}
		for _, id := range sets[i].opps.Val() {
			items = append(items, item{acc, id, 'o'})
		}
		for _, id := range sets[i].contacts.Val() {
			items = append(items, item{acc, id, 'c'})
		}
	}

	// The records, by their JSON field.
	data := make([]*goredis.StringCmd, len(items))
	err = s.pipelined(ctx, len(items), func(pipe goredis.Pipeliner, i int) {
		k := s.keys(items[i].account)
		switch items[i].kind {
		case 'u':
			data[i] = pipe.HGet(ctx, k.user(items[i].id), "d")
		case 'o':
			data[i] = pipe.HGet(ctx, k.opp(items[i].id), "d")
		default:
			data[i] = pipe.HGet(ctx, k.contact(items[i].id), "d")
		}
	})
	if err != nil {
		return nil, fmt.Errorf("redis store: export: reading records: %w", err)
	}
	for i, it := range items {
		b, err := data[i].Bytes()
		if errors.Is(err, goredis.Nil) {
			continue // gone meanwhile; nothing is deleted today
		}
		if err != nil {
			return nil, fmt.Errorf("redis store: export: reading %q of account %q: %w", it.id, it.account, err)
		}
		switch it.kind {
		case 'u':
			var u record.User
			err = json.Unmarshal(b, &u)
			d.Users = append(d.Users, u)
		case 'o':
			var o record.Opportunity
			err = json.Unmarshal(b, &o)
			d.Opportunities = append(d.Opportunities, o)
		default:
			var c record.Contact
			err = json.Unmarshal(b, &c)
			d.Contacts = append(d.Contacts, c)
		}
		if err != nil {
			return nil, fmt.Errorf("redis store: export: decoding %q of account %q: %w", it.id, it.account, err)
		}
	}
	d.Sort()
	return d, nil
}

// pipelined queues n commands' worth of work with add, pipelineBatch at a
// time, and runs them. Missing keys (goredis.Nil) are not errors: callers
// read each command's own result.
func (s *Store) pipelined(ctx context.Context, n int, add func(pipe goredis.Pipeliner, i int)) error {
	for start := 0; start < n; start += pipelineBatch {
		end := min(start+pipelineBatch, n)
		pipe := s.client.Pipeline()
		for i := start; i < end; i++ {
			add(pipe, i)
		}
		cmds, _ := pipe.Exec(ctx)
		for _, cmd := range cmds {
			if err := cmd.Err(); err != nil && !errors.Is(err, goredis.Nil) {
				return err
			}
		}
	}
	return nil
}
