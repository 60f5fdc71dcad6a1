package event

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// decodeFast decodes the usual shape of an event without reflection: the
// keys of the format spelled exactly, each once per object, strings without
// escapes, numbers, timestamps, tag arrays. It reports false on anything
// else (an unknown or repeated key, an escape, a null, a type error, bad
// JSON, data after the object), without saying why: Decode then decodes
// with encoding/json, which gives the error, or the result, that it always
// gives. So the fast path changes how fast an event decodes, never what it
// decodes to or which error a bad one gets; FuzzDecodeFast checks that
// both decoders agree whenever this one succeeds.
func decodeFast(b []byte, ev *Event) bool {
	s := scanner{b: b}
	if !s.object(func(key []byte) bool {
		switch string(key) {
		case "id":
			return s.str(&ev.ID)
		case "type":
			return s.str(&ev.Type)
		case "account_id":
			return s.str(&ev.AccountID)
		case "occurred_at":
			return s.time(&ev.OccurredAt)
		case "opportunity_id":
			return s.str(&ev.OpportunityID)
		case "contact_id":
			return s.str(&ev.ContactID)
		case "actor_id":
			return s.str(&ev.ActorID)
		case "data":
			return s.data(&ev.Data)
		case "opportunity":
			ev.Opportunity = new(OpportunitySnapshot)
			return s.opportunity(ev.Opportunity)
		case "contact":
			ev.Contact = new(ContactSnapshot)
			return s.contact(ev.Contact)
		}
		return false
	}) {
		return false
	}
	s.space()
	return s.i == len(s.b)
}

// scanner reads JSON from b at i.
type scanner struct {
	b []byte
	i int
}

func (s *scanner) space() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// consume skips white space and then c, or reports false.
func (s *scanner) consume(c byte) bool {
	s.space()
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// object reads an object, calling field for each key with the scanner at
// its value. A key seen twice, or field reporting false, fails it, and so
// does a seventeenth key: no object of the format has that many.
func (s *scanner) object(field func(key []byte) bool) bool {
	if !s.consume('{') {
		return false
	}
	if s.consume('}') {
		return true
	}
	var seen [16][]byte
	n := 0
	for {
		s.space()
		key, ok := s.rawString()
		if !ok || !s.consume(':') {
			return false
		}
		for _, k := range seen[:n] {
			if string(k) == string(key) {
				return false
			}
		}
		if n == len(seen) {
			return false
		}
		seen[n] = key
		n++
		s.space()
		if !field(key) {
			return false
		}
		if s.consume('}') {
			return true
		}
		if !s.consume(',') {
			return false
		}
	}
}

// rawString reads a string without escapes and returns its bytes (valid
// UTF-8, no control characters).
func (s *scanner) rawString() ([]byte, bool) {
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return nil, false
	}
	start := s.i + 1
	ascii := true
	for j := start; j < len(s.b); j++ {
		c := s.b[j]
		switch {
		case c == '"':
			v := s.b[start:j]
			if !ascii && !utf8.Valid(v) {
				return nil, false
			}
			s.i = j + 1
			return v, true
		case c == '\\' || c < 0x20:
			return nil, false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return nil, false
}

func (s *scanner) str(dst *string) bool {
	v, ok := s.rawString()
	if ok {
		*dst = string(v)
	}
	return ok
}

func (s *scanner) strPtr(dst **string) bool {
	v, ok := s.rawString()
	if ok {
		str := string(v)
		*dst = &str
	}
	return ok
}

// time reads a timestamp the way encoding/json does: time.Time's
// UnmarshalJSON of the quoted string.
func (s *scanner) time(dst *time.Time) bool {
	start := s.i
	if _, ok := s.rawString(); !ok {
		return false
	}
	return dst.UnmarshalJSON(s.b[start:s.i]) == nil
}

func (s *scanner) timePtr(dst **time.Time) bool {
	var t time.Time
	if !s.time(&t) {
		return false
	}
	*dst = &t
	return true
}

// number returns the text of a JSON number and whether it is an integer
// (no fraction, no exponent).
func (s *scanner) number() (text []byte, integer, ok bool) {
	start, j := s.i, s.i
	digits := func() int {
		k := j
		for j < len(s.b) && s.b[j] >= '0' && s.b[j] <= '9' {
			j++
		}
		return j - k
	}
	if j < len(s.b) && s.b[j] == '-' {
		j++
	}
	switch {
	case j < len(s.b) && s.b[j] == '0':
		j++
	case digits() == 0:
		return nil, false, false
	}
	integer = true
	if j < len(s.b) && s.b[j] == '.' {
		j++
		if digits() == 0 {
			return nil, false, false
		}
		integer = false
	}
	if j < len(s.b) && (s.b[j] == 'e' || s.b[j] == 'E') {
		j++
		if j < len(s.b) && (s.b[j] == '+' || s.b[j] == '-') {
			j++
		}
		if digits() == 0 {
			return nil, false, false
		}
		integer = false
	}
	s.i = j
	return s.b[start:j], integer, true
}

func (s *scanner) floatPtr(dst **float64) bool {
	text, _, ok := s.number()
	if !ok {
		return false
	}
	f, err := strconv.ParseFloat(string(text), 64)
	if err != nil {
		return false
	}
	*dst = &f
	return true
}

func (s *scanner) int(dst *int) bool {
	text, integer, ok := s.number()
	if !ok || !integer {
		return false
	}
	n, err := strconv.ParseInt(string(text), 10, strconv.IntSize)
	if err != nil {
		return false
	}
	*dst = int(n)
	return true
}

// strings reads an array of strings; [] is an empty, non-nil slice, as
// encoding/json gives.
func (s *scanner) strings(dst *[]string) bool {
	if !s.consume('[') {
		return false
	}
	out := make([]string, 0, 4)
	if s.consume(']') {
		*dst = out
		return true
	}
	for {
		s.space()
		v, ok := s.rawString()
		if !ok {
			return false
		}
		out = append(out, string(v))
		if s.consume(']') {
			*dst = out
			return true
		}
		if !s.consume(',') {
			return false
		}
	}
}

func (s *scanner) data(d *Data) bool {
	return s.object(func(key []byte) bool {
		switch string(key) {
		case "to_stage":
			return s.str(&d.ToStage)
		case "from_stage":
			return s.str(&d.FromStage)
		case "pipeline":
			return s.str(&d.Pipeline)
		case "to_status":
			return s.str(&d.ToStatus)
		case "from_status":
			return s.str(&d.FromStatus)
		case "tag":
			return s.str(&d.Tag)
		case "to_owner_id":
			return s.str(&d.ToOwnerID)
		case "from_owner_id":
			return s.str(&d.FromOwnerID)
		case "days":
			return s.int(&d.Days)
		case "days_inactive":
			return s.int(&d.DaysInactive)
		case "since":
			return s.time(&d.Since)
		}
		return false
	})
}

func (s *scanner) opportunity(o *OpportunitySnapshot) bool {
	return s.object(func(key []byte) bool {
		switch string(key) {
		case "name":
			return s.strPtr(&o.Name)
		case "pipeline":
			return s.strPtr(&o.Pipeline)
		case "stage":
			return s.strPtr(&o.Stage)
		case "status":
			return s.strPtr(&o.Status)
		case "value":
			return s.floatPtr(&o.Value)
		case "owner_id":
			return s.strPtr(&o.OwnerID)
		case "contact_id":
			return s.strPtr(&o.ContactID)
		case "tags":
			return s.strings(&o.Tags)
		case "created_at":
			return s.timePtr(&o.CreatedAt)
		case "updated_at":
			return s.timePtr(&o.UpdatedAt)
		case "last_owner_activity_at":
			return s.timePtr(&o.LastOwnerActivityAt)
		}
		return false
	})
}

func (s *scanner) contact(c *ContactSnapshot) bool {
	return s.object(func(key []byte) bool {
		switch string(key) {
		case "name":
			return s.strPtr(&c.Name)
		case "email":
			return s.strPtr(&c.Email)
		case "owner_id":
			return s.strPtr(&c.OwnerID)
		case "tags":
			return s.strings(&c.Tags)
		case "created_at":
			return s.timePtr(&c.CreatedAt)
		case "updated_at":
			return s.timePtr(&c.UpdatedAt)
		}
		return false
	})
}
