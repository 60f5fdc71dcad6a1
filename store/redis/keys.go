package redis

import (
	"strings"

	"github.com/followflow/followflow/record"
)

// keys names the keys of one account. Every one of them carries the hash tag
// {<account>}, so that they share a Redis Cluster hash slot and one script
// may touch them all.
type keys struct {
	// base is "<prefix>:{<escaped account>}:"; the keys of the account are
	// base followed by the names of the package documentation.
	base string
}

func (s *Store) keys(accountID string) keys {
	return keys{base: s.prefix + ":{" + escapeAccount(accountID) + "}:"}
}

// accountsKey is the global set of account ids.
func (s *Store) accountsKey() string { return s.prefix + ":accounts" }

// escapeAccount makes an account id safe inside a hash tag: '%', '{' and
// '}' are percent-encoded, so that the tag ends exactly after the account
// id and no two accounts share a key. Other ids are used as they are.
func escapeAccount(id string) string {
	if !strings.ContainsAny(id, "%{}") {
		return id
	}
	return accountEscaper.Replace(id)
}

var accountEscaper = strings.NewReplacer("%", "%25", "{", "%7B", "}", "%7D")

func (k keys) account() string            { return k.base + "account" }
func (k keys) users() string              { return k.base + "users" }
func (k keys) user(id string) string      { return k.base + "user:" + id }
func (k keys) emails() string             { return k.base + "emails" }
func (k keys) opps() string               { return k.base + "opps" }
func (k keys) opp(id string) string       { return k.base + "opp:" + id }
func (k keys) contacts() string           { return k.base + "contacts" }
func (k keys) contact(id string) string   { return k.base + "contact:" + id }
func (k keys) stale() string              { return k.base + "stale" }
func (k keys) fences() string             { return k.base + "fences" }
func (k keys) ledger(event string) string { return k.base + "ledger:" + event }
func (k keys) ledgerSet() string          { return k.base + "ledger" }

// contactOpps is the set of ids of the opportunities linked to a contact.
// The scripts build the same name from base (see luaPutOpp).
func (k keys) contactOpps(contactID string) string { return k.base + contactOppsInfix + contactID }

const contactOppsInfix = "contact-opps:"

// history returns the key of the history list of a record, or false for a
// kind without followers.
func (k keys) history(kind record.Kind, id string) (string, bool) {
	switch kind {
	case record.KindOpportunity:
		return k.base + "history:opp:" + id, true
	case record.KindContact:
		return k.base + "history:contact:" + id, true
	}
	return "", false
}

// appendRecordKey appends the key of a record after base ("opp:<id>" or
// "contact:<id>"); the kind has been checked (store.Changeset.Check).
func appendRecordKey(b []byte, kind record.Kind, id string) []byte {
	if kind == record.KindContact {
		return append(append(b, "contact:"...), id...)
	}
	return append(append(b, "opp:"...), id...)
}

// appendHistoryKey appends the key of a record's history list after base.
func appendHistoryKey(b []byte, kind record.Kind, id string) []byte {
	if kind == record.KindContact {
		return append(append(b, "history:contact:"...), id...)
	}
	return append(append(b, "history:opp:"...), id...)
}
