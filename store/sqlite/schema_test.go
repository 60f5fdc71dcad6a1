package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"

	"github.com/followflow/followflow/record"
	"github.com/followflow/followflow/store"
)

// TestMigrateLedgerKeepsEvents: a file of schema version 1 (the ledger keyed
// by account first) opens with its processed events still processed.
func TestMigrateLedgerKeepsEvents(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "v1.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		migrations[0],
		`INSERT INTO ledger (account_id, event_id, processed_at) VALUES ('acme', 'e1', 1), ('beta', 'e1', 2), ('acme', 'e2', 3)`,
		`PRAGMA user_version = 1`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	s := open(t, path)
	for _, c := range []struct {
		account, event string
		want           bool
	}{
		{"acme", "e1", true}, {"beta", "e1", true}, {"acme", "e2", true}, {"beta", "e2", false},
	} {
		got, err := s.Processed(ctx, c.account, c.event)
		if err != nil || got != c.want {
			t.Errorf("Processed(%s, %s) = %v, %v; want %v", c.account, c.event, got, err, c.want)
		}
	}
	var v int
	if err := s.DB().QueryRow("PRAGMA user_version").Scan(&v); err != nil || v != len(migrations) {
		t.Errorf("user_version %d, %v; want %d", v, err, len(migrations))
	}
	o := record.Opportunity{AccountID: "acme", ID: "opp_new", Name: "New", Stage: "Lead", Status: "open", CreatedAt: t0, UpdatedAt: t0}
	if err := s.Commit(ctx, update("e2", o, "Won")); !errors.Is(err, store.ErrAlreadyProcessed) {
		t.Errorf("committing e2 again: %v, want ErrAlreadyProcessed", err)
	}
	if err := s.Commit(ctx, update("e3", o, "Won")); err != nil {
		t.Errorf("committing e3: %v", err)
	}
}
