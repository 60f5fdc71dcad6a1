package redis

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/followflow/followflow/internal/jsonfast"
	"github.com/followflow/followflow/record"
)

// The commit script's arguments are MessagePack (the cmsgpack library every
// Redis has for its scripts decodes them at C speed): a handful of string
// and integer values per changeset appended to one reused buffer, where one
// script argument per value cost an allocation each. The records and
// history entries inside are JSON, as stored, written by the appenders
// below rather than by encoding/json's reflection; json.Unmarshal reads
// them back into the same values.

// msgpack appends MessagePack values to a buffer; n counts them (the
// elements of an array being built).
type msgpack struct {
	b []byte
	n int
}

// arrayStart appends the header of an array whose length is set later by
// arrayEnd (always 32 bits wide), and returns where it is.
func (m *msgpack) arrayStart() int {
	at := len(m.b)
	m.b = append(m.b, 0xdd, 0, 0, 0, 0)
	return at
}

func (m *msgpack) arrayEnd(at, n int) {
	binary.BigEndian.PutUint32(m.b[at+1:], uint32(n))
}

func (m *msgpack) int(n int) {
	m.n++
	switch {
	case n >= 0 && n < 128:
		m.b = append(m.b, byte(n))
	case n >= 0 && n <= math.MaxUint32:
		m.b = append(m.b, 0xce)
		m.b = binary.BigEndian.AppendUint32(m.b, uint32(n))
	default:
		panic("msgpack: integer out of range") // counts only: never negative
	}
}

func (m *msgpack) strHeader(n int) {
	switch {
	case n < 32:
		m.b = append(m.b, 0xa0|byte(n))
	case n <= math.MaxUint8:
		m.b = append(m.b, 0xd9, byte(n))
	case n <= math.MaxUint16:
		m.b = append(m.b, 0xda)
		m.b = binary.BigEndian.AppendUint16(m.b, uint16(n))
	default:
		m.b = append(m.b, 0xdb)
		m.b = binary.BigEndian.AppendUint32(m.b, uint32(n))
	}
}

func (m *msgpack) str(s string) {
	m.n++
	m.strHeader(len(s))
	m.b = append(m.b, s...)
}

// int64Str appends n as a decimal string (Lua numbers are doubles; versions
// and epochs stay exact as strings).
func (m *msgpack) int64Str(n int64) {
	var tmp [20]byte
	d := strconv.AppendInt(tmp[:0], n, 10)
	m.n++
	m.strHeader(len(d))
	m.b = append(m.b, d...)
}

// strStart and strEnd wrap a string appended in between (JSON, say) whose
// length is not known beforehand.
func (m *msgpack) strStart() int {
	m.n++
	at := len(m.b)
	m.b = append(m.b, 0xdb, 0, 0, 0, 0)
	return at
}

func (m *msgpack) strEnd(at int) {
	binary.BigEndian.PutUint32(m.b[at+1:], uint32(len(m.b)-at-5))
}

// appendOpportunityJSON appends o as json.Marshal would encode it (the
// same fields, names and values; not byte for byte). ok is false when
// json.Marshal would fail (a NaN value, a year outside 0-9999): the caller
// asks json.Marshal for the error.
func appendOpportunityJSON(b []byte, o *record.Opportunity) ([]byte, bool) {
	if math.IsNaN(o.Value) || math.IsInf(o.Value, 0) || !jsonTime(o.CreatedAt) || !jsonTime(o.UpdatedAt) || !jsonTime(o.LastOwnerActivityAt) {
		return b, false
	}
	b = append(b, `{"id":`...)
	b = appendJSONString(b, o.ID)
	b = append(b, `,"account_id":`...)
	b = appendJSONString(b, o.AccountID)
	b = append(b, `,"name":`...)
	b = appendJSONString(b, o.Name)
	b = append(b, `,"pipeline":`...)
	b = appendJSONString(b, o.Pipeline)
	b = append(b, `,"stage":`...)
	b = appendJSONString(b, o.Stage)
	b = append(b, `,"status":`...)
	b = appendJSONString(b, o.Status)
	b = append(b, `,"value":`...)
	b = strconv.AppendFloat(b, o.Value, 'g', -1, 64)
	b = append(b, `,"owner_id":`...)
	b = appendJSONString(b, o.OwnerID)
	b = append(b, `,"contact_id":`...)
	b = appendJSONString(b, o.ContactID)
	b = append(b, `,"tags":`...)
	b = appendJSONStrings(b, o.Tags)
	b = append(b, `,"followers":`...)
	b = appendJSONStrings(b, o.Followers)
	b = append(b, `,"created_at":`...)
	b = appendJSONTime(b, o.CreatedAt)
	b = append(b, `,"updated_at":`...)
	b = appendJSONTime(b, o.UpdatedAt)
	b = append(b, `,"last_owner_activity_at":`...)
	b = appendJSONTime(b, o.LastOwnerActivityAt)
	return append(b, '}'), true
}

// appendContactJSON is appendOpportunityJSON for a contact.
func appendContactJSON(b []byte, c *record.Contact) ([]byte, bool) {
	if !jsonTime(c.CreatedAt) || !jsonTime(c.UpdatedAt) {
		return b, false
	}
	b = append(b, `{"id":`...)
	b = appendJSONString(b, c.ID)
	b = append(b, `,"account_id":`...)
	b = appendJSONString(b, c.AccountID)
	b = append(b, `,"name":`...)
	b = appendJSONString(b, c.Name)
	b = append(b, `,"email":`...)
	b = appendJSONString(b, c.Email)
	b = append(b, `,"owner_id":`...)
	b = appendJSONString(b, c.OwnerID)
	b = append(b, `,"tags":`...)
	b = appendJSONStrings(b, c.Tags)
	b = append(b, `,"followers":`...)
	b = appendJSONStrings(b, c.Followers)
	b = append(b, `,"created_at":`...)
	b = appendJSONTime(b, c.CreatedAt)
	b = append(b, `,"updated_at":`...)
	b = appendJSONTime(b, c.UpdatedAt)
	return append(b, '}'), true
}

// appendHistoryJSON appends h without its Seq (the entry's position in its
// list is its Seq), as json.Marshal would encode the other fields.
func appendHistoryJSON(b []byte, h *record.HistoryEntry) ([]byte, bool) {
	if !jsonTime(h.At) {
		return b, false
	}
	b = append(b, `{"account_id":`...)
	b = appendJSONString(b, h.AccountID)
	b = append(b, `,"record_kind":`...)
	b = appendJSONString(b, string(h.Kind))
	b = append(b, `,"record_id":`...)
	b = appendJSONString(b, h.RecordID)
	b = append(b, `,"at":`...)
	b = appendJSONTime(b, h.At)
	for _, f := range [...]struct{ name, v string }{
		{`,"event_id":`, h.EventID},
		{`,"workflow_id":`, h.WorkflowID},
		{`,"actor_id":`, h.ActorID},
		{`,"step":`, h.Step},
		{`,"user_id":`, h.UserID},
	} {
		if f.v != "" {
			b = append(b, f.name...)
			b = appendJSONString(b, f.v)
		}
	}
	b = append(b, `,"outcome":`...)
	b = appendJSONString(b, string(h.Outcome))
	if h.Detail != "" {
		b = append(b, `,"detail":`...)
		b = appendJSONString(b, h.Detail)
	}
	return append(b, '}'), true
}

// jsonTime reports whether time.Time.MarshalJSON accepts t.
func jsonTime(t time.Time) bool {
	y := t.Year()
	return y >= 0 && y <= 9999
}

func appendJSONTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

// appendJSONStrings appends a list of strings; nil is null, as json.Marshal
// writes it, so that it reads back as nil.
func appendJSONStrings(b []byte, list []string) []byte {
	if list == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, s := range list {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, s)
	}
	return append(b, ']')
}

// appendJSONString appends s as a JSON string. Invalid UTF-8 becomes
// U+FFFD, as with json.Marshal.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

const hexDigits = "0123456789abcdef"

// marshalErr returns json.Marshal's error for v, which an appender above
// declined.
func marshalErr(v any) error {
	_, err := json.Marshal(v)
	if err == nil {
		return errUnencodable
	}
	return err
}

// errUnencodable stands in for json.Marshal's error should it accept a
// value that an appender declined.
var errUnencodable = errors.New("value cannot be encoded as JSON")

// decodeOpportunityJSON reads what appendOpportunityJSON (or json.Marshal)
// wrote, with package jsonfast; ok is false when it cannot, and the caller
// uses json.Unmarshal.
func decodeOpportunityJSON(s string, o *record.Opportunity) (ok bool) {
	d := jsonfast.NewString(s)
	if !d.Object(func(key string) (bit uint16, ok bool) {
		switch key {
		case "id":
			bit, ok = 1<<0, d.Str(&o.ID)
		case "account_id":
			bit, ok = 1<<1, d.Str(&o.AccountID)
		case "name":
			bit, ok = 1<<2, d.Str(&o.Name)
		case "pipeline":
			bit, ok = 1<<3, d.Str(&o.Pipeline)
		case "stage":
			bit, ok = 1<<4, d.Str(&o.Stage)
		case "status":
			bit, ok = 1<<5, d.Str(&o.Status)
		case "value":
			bit, ok = 1<<6, d.Float(&o.Value)
		case "owner_id":
			bit, ok = 1<<7, d.Str(&o.OwnerID)
		case "contact_id":
			bit, ok = 1<<8, d.Str(&o.ContactID)
		case "tags":
			bit, ok = 1<<9, d.StrsOrNull(&o.Tags)
		case "followers":
			bit, ok = 1<<10, d.StrsOrNull(&o.Followers)
		case "created_at":
			bit, ok = 1<<11, d.Time(&o.CreatedAt)
		case "updated_at":
			bit, ok = 1<<12, d.Time(&o.UpdatedAt)
		case "last_owner_activity_at":
			bit, ok = 1<<13, d.Time(&o.LastOwnerActivityAt)
		default:
			return 0, false
		}
		return bit, ok
	}) {
		return false
	}
	return d.OK() && d.End()
}

// decodeContactJSON is decodeOpportunityJSON for a contact.
func decodeContactJSON(s string, c *record.Contact) (ok bool) {
	d := jsonfast.NewString(s)
	if !d.Object(func(key string) (bit uint16, ok bool) {
		switch key {
		case "id":
			bit, ok = 1<<0, d.Str(&c.ID)
		case "account_id":
			bit, ok = 1<<1, d.Str(&c.AccountID)
		case "name":
			bit, ok = 1<<2, d.Str(&c.Name)
		case "email":
			bit, ok = 1<<3, d.Str(&c.Email)
		case "owner_id":
			bit, ok = 1<<4, d.Str(&c.OwnerID)
		case "tags":
			bit, ok = 1<<5, d.StrsOrNull(&c.Tags)
		case "followers":
			bit, ok = 1<<6, d.StrsOrNull(&c.Followers)
		case "created_at":
			bit, ok = 1<<7, d.Time(&c.CreatedAt)
		case "updated_at":
			bit, ok = 1<<8, d.Time(&c.UpdatedAt)
		default:
			return 0, false
		}
		return bit, ok
	}) {
		return false
	}
	return d.OK() && d.End()
}
