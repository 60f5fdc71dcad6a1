package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/followflow/followflow/record"
	"github.com/followflow/followflow/store"
)

// Load implements store.Store in one write transaction. Records are
// upserted with the dataset's followers; their version is bumped (1 for a
// new record). A record with more than record.MaxFollowers followers fails
// the whole load with store.ErrFollowerLimit.
func (s *Store) Load(ctx context.Context, d *record.Dataset) error {
	for _, o := range d.Opportunities {
		if len(o.Followers) > record.MaxFollowers {
			return fmt.Errorf("loading opportunity %q: %w", o.ID, store.ErrFollowerLimit)
		}
	}
	for _, c := range d.Contacts {
		if len(c.Followers) > record.MaxFollowers {
			return fmt.Errorf("loading contact %q: %w", c.ID, store.ErrFollowerLimit)
		}
	}
	err := s.WithTx(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO accounts (id, name) VALUES (?, ?)
			ON CONFLICT (id) DO UPDATE SET name = excluded.name`)
		if err != nil {
			return err
		}
		for _, a := range d.Accounts {
			if _, err := stmt.ExecContext(ctx, a.ID, a.Name); err != nil {
				return fmt.Errorf("account %q: %w", a.ID, err)
			}
		}

		// Emails are unique per account. Forget the current emails of the
		// users loaded first, so that users of the dataset may swap emails.
		stmt, err = tx.PrepareContext(ctx, `UPDATE users SET email_lower = '' WHERE account_id = ? AND id = ?`)
		if err != nil {
			return err
		}
		for _, u := range d.Users {
			if _, err := stmt.ExecContext(ctx, u.AccountID, u.ID); err != nil {
				return fmt.Errorf("user %q: %w", u.ID, err)
			}
		}
		stmt, err = tx.PrepareContext(ctx, `INSERT INTO users (`+userColumns+`, email_lower) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (account_id, id) DO UPDATE SET name = excluded.name, email = excluded.email,
			email_lower = excluded.email_lower, role = excluded.role, active = excluded.active,
			only_assigned_data = excluded.only_assigned_data`)
		if err != nil {
			return err
		}
		for _, u := range d.Users {
			_, err := stmt.ExecContext(ctx, u.AccountID, u.ID, u.Name, u.Email, u.Role, boolInt(u.Active),
				boolInt(u.OnlyAssignedData), strings.ToLower(u.Email))
			if err != nil {
				return fmt.Errorf("user %q: %w", u.ID, err)
			}
		}

		stmt, err = tx.PrepareContext(ctx, sqlOppInsert+` ON CONFLICT (account_id, id) DO UPDATE SET `+sqlOppSet)
		if err != nil {
			return err
		}
		for i := range d.Opportunities {
			o := &d.Opportunities[i]
			args, err := oppArgs(o)
			if err == nil {
				_, err = stmt.ExecContext(ctx, args...)
			}
			if err != nil {
				return fmt.Errorf("opportunity %q: %w", o.ID, err)
			}
		}

		stmt, err = tx.PrepareContext(ctx, sqlContactInsert+` ON CONFLICT (account_id, id) DO UPDATE SET `+sqlContactSet)
		if err != nil {
			return err
		}
		for i := range d.Contacts {
			c := &d.Contacts[i]
			args, err := contactArgs(c)
			if err == nil {
				_, err = stmt.ExecContext(ctx, args...)
			}
			if err != nil {
				return fmt.Errorf("contact %q: %w", c.ID, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("loading dataset: %w", err)
	}
	return nil
}

// Export implements store.Store, reading one consistent snapshot. Versions
// are left zero: they are not part of the data file.
func (s *Store) Export(ctx context.Context) (*record.Dataset, error) {
	d := &record.Dataset{}
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT id, name FROM accounts ORDER BY id`)
		if err != nil {
			return err
		}
		for rows.Next() {
			var a record.Account
			if err := rows.Scan(&a.ID, &a.Name); err != nil {
				rows.Close()
				return err
			}
			d.Accounts = append(d.Accounts, a)
		}
		if err := closeRows(rows); err != nil {
			return err
		}

		if rows, err = tx.QueryContext(ctx, `SELECT `+userColumns+` FROM users ORDER BY account_id, id`); err != nil {
			return err
		}
		for rows.Next() {
			u, err := scanUser(rows)
			if err != nil {
				rows.Close()
				return err
			}
			d.Users = append(d.Users, u)
		}
		if err := closeRows(rows); err != nil {
			return err
		}

		if rows, err = tx.QueryContext(ctx, `SELECT `+oppColumns+` FROM opportunities ORDER BY account_id, id`); err != nil {
			return err
		}
		if d.Opportunities, err = collectOpportunities(rows); err != nil {
			return err
		}
		for i := range d.Opportunities {
			d.Opportunities[i].Version = 0 // not part of the data file
		}

		if rows, err = tx.QueryContext(ctx, `SELECT `+contactColumns+` FROM contacts ORDER BY account_id, id`); err != nil {
			return err
		}
		for rows.Next() {
			c, err := scanContact(rows)
			if err != nil {
				rows.Close()
				return err
			}
			c.Version = 0
			d.Contacts = append(d.Contacts, c)
		}
		return closeRows(rows)
	})
	if err != nil {
		return nil, fmt.Errorf("exporting: %w", err)
	}
	d.Sort()
	return d, nil
}

func closeRows(rows *sql.Rows) error {
	err := rows.Err()
	if cerr := rows.Close(); err == nil {
		err = cerr
	}
	return err
}

// readTx runs fn in a read transaction (BEGIN DEFERRED), a snapshot that
// does not block writers.
func (s *Store) readTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return err
	}
	defer tx.Rollback()
	return fn(tx)
}
