package sqlite

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/followflow/followflow/record"
)

// Times are stored as unix nanoseconds, which order like the times and
// cover the years 1678 to 2262. The zero time.Time is stored as the
// smallest int64, so that it sorts first (as it does in Go).
const zeroTime = math.MinInt64

var (
	minTime = time.Unix(0, math.MinInt64+1)
	maxTime = time.Unix(0, math.MaxInt64)
)

// TimeRangeError reports a time that cannot be stored: unix nanoseconds
// hold the years 1678 to 2262 only.
type TimeRangeError struct {
	Field string
	Time  time.Time
}

func (e *TimeRangeError) Error() string {
	return fmt.Sprintf("%s: time %s is out of the storable range (years 1678 to 2262)", e.Field, e.Time.Format(time.RFC3339Nano))
}

func encodeTime(field string, t time.Time) (int64, error) {
	if t.IsZero() {
		return zeroTime, nil
	}
	if t.Before(minTime) || t.After(maxTime) {
		return 0, &TimeRangeError{Field: field, Time: t}
	}
	return t.UnixNano(), nil
}

func decodeTime(n int64) time.Time {
	if n == zeroTime {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// encodeList encodes a list as a JSON array; a nil list is NULL, so that
// nil and empty lists read back as they were written. Lists of plain
// strings (ids and tags, mostly) skip encoding/json.
func encodeList(l []string) (any, error) {
	if l == nil {
		return nil, nil
	}
	n := 2
	for _, s := range l {
		if !plainJSON(s) {
			b, err := json.Marshal(l)
			if err != nil {
				return nil, err
			}
			return string(b), nil
		}
		n += len(s) + 3
	}
	var b strings.Builder
	b.Grow(n)
	b.WriteByte('[')
	for i, s := range l {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('"')
		b.WriteString(s)
		b.WriteByte('"')
	}
	b.WriteByte(']')
	return b.String(), nil
}

// plainJSON reports whether s is printable ASCII that needs no escape in a
// JSON string.
func plainJSON(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// decodeList decodes what encodeList wrote. The strings of a plain list
// share the memory of s.
func decodeList(s sql.NullString) ([]string, error) {
	if !s.Valid {
		return nil, nil
	}
	if l, ok := decodePlainList(s.String); ok {
		return l, nil
	}
	l := []string{}
	if err := json.Unmarshal([]byte(s.String), &l); err != nil {
		return nil, fmt.Errorf("decoding list %q: %w", s.String, err)
	}
	return l, nil
}

// decodePlainList decodes a list as encodeList writes it when its strings
// are plain; ok is false for anything else.
func decodePlainList(s string) (l []string, ok bool) {
	if len(s) < 2 || s[0] != '[' || s[len(s)-1] != ']' {
		return nil, false
	}
	body := s[1 : len(s)-1]
	if body == "" {
		return []string{}, true
	}
	l = make([]string, 0, strings.Count(body, ",")+1)
	for {
		if len(body) < 2 || body[0] != '"' {
			return nil, false
		}
		end := strings.IndexByte(body[1:], '"') + 1
		if end == 0 {
			return nil, false
		}
		item := body[1:end]
		if strings.IndexByte(item, '\\') >= 0 {
			return nil, false
		}
		l = append(l, item)
		body = body[end+1:]
		if body == "" {
			return l, true
		}
		if body[0] != ',' {
			return nil, false
		}
		body = body[1:]
	}
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// scanner is *sql.Row or *sql.Rows.
type scanner interface {
	Scan(dest ...any) error
}

const oppColumns = `account_id, id, name, pipeline, stage, status, value, owner_id, contact_id,
	tags, followers, created_at, updated_at, last_owner_activity_at, version`

// oppArgs returns the values of oppColumns but version, in order.
func oppArgs(o *record.Opportunity) ([]any, error) {
	tags, err := encodeList(o.Tags)
	if err != nil {
		return nil, err
	}
	followers, err := encodeList(o.Followers)
	if err != nil {
		return nil, err
	}
	created, err := encodeTime("created_at", o.CreatedAt)
	if err != nil {
		return nil, err
	}
	updated, err := encodeTime("updated_at", o.UpdatedAt)
	if err != nil {
		return nil, err
	}
	activity, err := encodeTime("last_owner_activity_at", o.LastOwnerActivityAt)
	if err != nil {
		return nil, err
	}
	return []any{o.AccountID, o.ID, o.Name, o.Pipeline, o.Stage, o.Status, o.Value, o.OwnerID, o.ContactID,
		tags, followers, created, updated, activity}, nil
}

func scanOpportunity(s scanner) (record.Opportunity, error) {
	var o record.Opportunity
	var tags, followers sql.NullString
	var created, updated, activity int64
	err := s.Scan(&o.AccountID, &o.ID, &o.Name, &o.Pipeline, &o.Stage, &o.Status, &o.Value, &o.OwnerID, &o.ContactID,
		&tags, &followers, &created, &updated, &activity, &o.Version)
	if err != nil {
		return o, err
	}
	if o.Tags, err = decodeList(tags); err != nil {
		return o, err
	}
	if o.Followers, err = decodeList(followers); err != nil {
		return o, err
	}
	o.CreatedAt, o.UpdatedAt, o.LastOwnerActivityAt = decodeTime(created), decodeTime(updated), decodeTime(activity)
	return o, nil
}

const contactColumns = `account_id, id, name, email, owner_id, tags, followers, created_at, updated_at, version`

// contactArgs returns the values of contactColumns but version, in order.
func contactArgs(c *record.Contact) ([]any, error) {
	tags, err := encodeList(c.Tags)
	if err != nil {
		return nil, err
	}
	followers, err := encodeList(c.Followers)
	if err != nil {
		return nil, err
	}
	created, err := encodeTime("created_at", c.CreatedAt)
	if err != nil {
		return nil, err
	}
	updated, err := encodeTime("updated_at", c.UpdatedAt)
	if err != nil {
		return nil, err
	}
	return []any{c.AccountID, c.ID, c.Name, c.Email, c.OwnerID, tags, followers, created, updated}, nil
}

func scanContact(s scanner) (record.Contact, error) {
	var c record.Contact
	var tags, followers sql.NullString
	var created, updated int64
	err := s.Scan(&c.AccountID, &c.ID, &c.Name, &c.Email, &c.OwnerID, &tags, &followers, &created, &updated, &c.Version)
	if err != nil {
		return c, err
	}
	if c.Tags, err = decodeList(tags); err != nil {
		return c, err
	}
	if c.Followers, err = decodeList(followers); err != nil {
		return c, err
	}
	c.CreatedAt, c.UpdatedAt = decodeTime(created), decodeTime(updated)
	return c, nil
}

const userColumns = `account_id, id, name, email, role, active, only_assigned_data`

func scanUser(s scanner) (record.User, error) {
	var u record.User
	err := s.Scan(&u.AccountID, &u.ID, &u.Name, &u.Email, &u.Role, &u.Active, &u.OnlyAssignedData)
	return u, err
}

const historyColumns = `seq, account_id, kind, record_id, at, event_id, workflow_id, actor_id, step, user_id, outcome, detail`

func scanHistory(s scanner) (record.HistoryEntry, error) {
	var h record.HistoryEntry
	var at int64
	err := s.Scan(&h.Seq, &h.AccountID, &h.Kind, &h.RecordID, &at, &h.EventID, &h.WorkflowID, &h.ActorID,
		&h.Step, &h.UserID, &h.Outcome, &h.Detail)
	h.At = decodeTime(at)
	return h, err
}
