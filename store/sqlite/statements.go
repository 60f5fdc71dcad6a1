package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// readStmts are prepared on the pool at Open; database/sql prepares each
// again on every connection that runs it, once.
type readStmts struct {
	account, accounts, user, userByEmail, opportunity, opportunities, contact, oppsByContact, processed, history, stale *sql.Stmt
}

// writeStmts are prepared on the Store's write connection, which only
// writers holding Store.wsem use.
type writeStmts struct {
	begin, commit, rollback, dataVersion                                                           *sql.Stmt
	fence, setFence, ledger, unledger, oppVersion, contactVersion                                  *sql.Stmt
	insertOpp, updateOpp, updateOppLight, updateOppStale, insertContact, updateContact, addHistory *sql.Stmt
}

// Parameters ?1 to ?14 of the opportunity statements are oppArgs, ?15 the
// version read; ?1 to ?9 and ?10 of the contact statements likewise.
const (
	sqlOppSet = `name = ?3, pipeline = ?4, stage = ?5, status = ?6, value = ?7, owner_id = ?8, contact_id = ?9,
	tags = ?10, followers = ?11, created_at = ?12, updated_at = ?13, last_owner_activity_at = ?14, version = version + 1`
	sqlOppSetLight = `name = ?3, pipeline = ?4, stage = ?5, value = ?7, tags = ?10, followers = ?11, created_at = ?12,
	updated_at = ?13, version = version + 1`
	sqlOppSetStale = `name = ?3, pipeline = ?4, stage = ?5, status = ?6, value = ?7, owner_id = ?8, tags = ?10,
	followers = ?11, created_at = ?12, updated_at = ?13, last_owner_activity_at = ?14, version = version + 1`
	sqlOppInsert = `INSERT INTO opportunities (` + oppColumns + `)
	VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, 1)`
	sqlContactSet = `name = ?3, email = ?4, owner_id = ?5, tags = ?6, followers = ?7, created_at = ?8, updated_at = ?9,
	version = version + 1`
	sqlContactInsert = `INSERT INTO contacts (` + contactColumns + `)
	VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 1)`
)

// The stale query repeats the partial index's WHERE clause word for word, so
// that SQLite can use the index.
const sqlStale = `SELECT ` + oppColumns + ` FROM opportunities INDEXED BY opportunities_stale
	WHERE status = 'open' AND owner_id <> '' AND last_owner_activity_at <= ?
	ORDER BY last_owner_activity_at, account_id, id LIMIT ?`

const sqlProcessed = `SELECT 1 FROM ledger WHERE account_id = ? AND event_id = ?`

// preparer is *sql.DB or *sql.Conn.
type preparer interface {
	PrepareContext(ctx context.Context, query string) (*sql.Stmt, error)
}

type stmtDef struct {
	stmt  **sql.Stmt
	query string
}

func prepareAll(ctx context.Context, p preparer, defs []stmtDef) error {
	for _, d := range defs {
		s, err := p.PrepareContext(ctx, d.query)
		if err != nil {
			return fmt.Errorf("preparing %q: %w", d.query, err)
		}
		*d.stmt = s
	}
	return nil
}

func closeAll(defs []stmtDef) {
	for _, d := range defs {
		if *d.stmt != nil {
			(*d.stmt).Close()
		}
	}
}

func (st *readStmts) defs() []stmtDef {
	return []stmtDef{
		{&st.account, `SELECT id, name FROM accounts WHERE id = ?`},
		{&st.accounts, `SELECT id, name FROM accounts ORDER BY id`},
		{&st.user, `SELECT ` + userColumns + ` FROM users WHERE account_id = ? AND id = ?`},
		{&st.userByEmail, `SELECT ` + userColumns + ` FROM users WHERE account_id = ? AND email_lower = ?`},
		{&st.opportunity, `SELECT ` + oppColumns + ` FROM opportunities WHERE account_id = ? AND id = ?`},
		// ?1 is a JSON array of [account_id, id] pairs; key is the index
		// of the pair. json_each has an id column too: o.'s are spelt out.
		{&st.opportunities, `SELECT k.key, o.` + strings.ReplaceAll(oppColumns, ", ", ", o.") + `
			FROM json_each(?1) AS k JOIN opportunities AS o ON o.account_id = k.value ->> 0 AND o.id = k.value ->> 1`},
		{&st.contact, `SELECT ` + contactColumns + ` FROM contacts WHERE account_id = ? AND id = ?`},
		{&st.oppsByContact, `SELECT ` + oppColumns + ` FROM opportunities WHERE account_id = ? AND contact_id = ? ORDER BY id`},
		{&st.processed, sqlProcessed},
		{&st.history, `SELECT ` + historyColumns + ` FROM history WHERE account_id = ? AND kind = ? AND record_id = ? ORDER BY seq`},
		{&st.stale, sqlStale},
	}
}

func (st *writeStmts) defs() []stmtDef {
	return []stmtDef{
		{&st.begin, `BEGIN IMMEDIATE`},
		{&st.commit, `COMMIT`},
		{&st.rollback, `ROLLBACK`},
		{&st.dataVersion, `PRAGMA data_version`},
		{&st.fence, `SELECT epoch FROM fences WHERE account_id = ? AND "partition" = ?`},
		{&st.setFence, `INSERT INTO fences (account_id, "partition", epoch) VALUES (?, ?, ?)
			ON CONFLICT (account_id, "partition") DO UPDATE SET epoch = excluded.epoch`},
		{&st.ledger, `INSERT INTO ledger (account_id, event_id, processed_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`},
		{&st.unledger, `DELETE FROM ledger WHERE account_id = ? AND event_id = ?`},
		{&st.oppVersion, `SELECT version FROM opportunities WHERE account_id = ? AND id = ?`},
		{&st.contactVersion, `SELECT version FROM contacts WHERE account_id = ? AND id = ?`},
		{&st.insertOpp, sqlOppInsert + ` ON CONFLICT DO NOTHING`},
		{&st.updateOpp, `UPDATE opportunities SET ` + sqlOppSet + ` WHERE account_id = ?1 AND id = ?2 AND version = ?15`},
		// An update that leaves the columns of the secondary indexes as they are.
		{&st.updateOppLight, `UPDATE opportunities SET ` + sqlOppSetLight + ` WHERE account_id = ?1 AND id = ?2 AND version = ?15
			AND status = ?6 AND owner_id = ?8 AND contact_id = ?9 AND last_owner_activity_at = ?14`},
		// One that leaves the contact index's entry as it is: SQLite
		// rewrites the entry of every index with a column in SET, even
		// to the same value.
		{&st.updateOppStale, `UPDATE opportunities SET ` + sqlOppSetStale + ` WHERE account_id = ?1 AND id = ?2 AND version = ?15
			AND contact_id = ?9`},
		{&st.insertContact, sqlContactInsert + ` ON CONFLICT DO NOTHING`},
		{&st.updateContact, `UPDATE contacts SET ` + sqlContactSet + ` WHERE account_id = ?1 AND id = ?2 AND version = ?10`},
		{&st.addHistory, `INSERT INTO history (account_id, kind, record_id, seq, at, event_id, workflow_id, actor_id, step, user_id, outcome, detail)
			VALUES (?1, ?2, ?3, coalesce((SELECT seq FROM history WHERE account_id = ?1 AND kind = ?2 AND record_id = ?3
				ORDER BY seq DESC LIMIT 1), 0) + 1, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)`},
	}
}
