package event

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// decodeFast decodes the JSON that producers usually send (and Encode
// writes) without encoding/json's reflection: an object of the known
// fields with their exact names, each at most once, strings without
// escapes, no nulls. It gives up (ok false) on anything else, valid or not,
// and Decode then decodes with encoding/json, which alone reports errors:
// when decodeFast succeeds its event is the one encoding/json would give.
// FuzzDecodeFast checks that.
func decodeFast(b []byte, ev *Event) (ok bool) {
	d := fastDecoder{b: b, s: string(b)}
	var seen uint16
	if !d.objectStart() {
		return false
	}
	for more := d.firstKey(); more; more = d.nextKey() {
		key, ok := d.key()
		if !ok {
			return false
		}
		var bit uint16
		switch key {
		case "id":
			bit, ok = 1<<0, d.str(&ev.ID)
		case "type":
			bit, ok = 1<<1, d.str(&ev.Type)
		case "account_id":
			bit, ok = 1<<2, d.str(&ev.AccountID)
		case "occurred_at":
			bit, ok = 1<<3, d.time(&ev.OccurredAt)
		case "opportunity_id":
			bit, ok = 1<<4, d.str(&ev.OpportunityID)
		case "contact_id":
			bit, ok = 1<<5, d.str(&ev.ContactID)
		case "actor_id":
			bit, ok = 1<<6, d.str(&ev.ActorID)
		case "data":
			bit, ok = 1<<7, d.data(&ev.Data)
		case "opportunity":
			blk := new(oppBlock)
			ev.Opportunity = &blk.snap
			bit, ok = 1<<8, d.oppSnapshot(blk)
		case "contact":
			blk := new(contactBlock)
			ev.Contact = &blk.snap
			bit, ok = 1<<9, d.contactSnapshot(blk)
		default:
			return false
		}
		if !ok || seen&bit != 0 {
			return false
		}
		seen |= bit
	}
	return d.ok && d.end()
}

func (d *fastDecoder) data(v *Data) bool {
	var seen uint16
	if !d.objectStart() {
		return false
	}
	for more := d.firstKey(); more; more = d.nextKey() {
		key, ok := d.key()
		if !ok {
			return false
		}
		var bit uint16
		switch key {
		case "to_stage":
			bit, ok = 1<<0, d.str(&v.ToStage)
		case "from_stage":
			bit, ok = 1<<1, d.str(&v.FromStage)
		case "pipeline":
			bit, ok = 1<<2, d.str(&v.Pipeline)
		case "to_status":
			bit, ok = 1<<3, d.str(&v.ToStatus)
		case "from_status":
			bit, ok = 1<<4, d.str(&v.FromStatus)
		case "tag":
			bit, ok = 1<<5, d.str(&v.Tag)
		case "to_owner_id":
			bit, ok = 1<<6, d.str(&v.ToOwnerID)
		case "from_owner_id":
			bit, ok = 1<<7, d.str(&v.FromOwnerID)
		case "days":
			bit, ok = 1<<8, d.int(&v.Days)
		case "days_inactive":
			bit, ok = 1<<9, d.int(&v.DaysInactive)
		case "since":
			bit, ok = 1<<10, d.time(&v.Since)
		default:
			return false
		}
		if !ok || seen&bit != 0 {
			return false
		}
		seen |= bit
	}
	return d.ok
}

// oppBlock holds a snapshot and what its fields point to, allocated at
// once.
type oppBlock struct {
	snap  OpportunitySnapshot
	strs  [6]string
	value float64
	times [3]time.Time
}

func (d *fastDecoder) oppSnapshot(blk *oppBlock) bool {
	v := &blk.snap
	var seen uint16
	if !d.objectStart() {
		return false
	}
	for more := d.firstKey(); more; more = d.nextKey() {
		key, ok := d.key()
		if !ok {
			return false
		}
		var bit uint16
		switch key {
		case "name":
			bit, ok = 1<<0, d.strPtr(&v.Name, &blk.strs[0])
		case "pipeline":
			bit, ok = 1<<1, d.strPtr(&v.Pipeline, &blk.strs[1])
		case "stage":
			bit, ok = 1<<2, d.strPtr(&v.Stage, &blk.strs[2])
		case "status":
			bit, ok = 1<<3, d.strPtr(&v.Status, &blk.strs[3])
		case "value":
			v.Value = &blk.value
			bit, ok = 1<<4, d.float(v.Value)
		case "owner_id":
			bit, ok = 1<<5, d.strPtr(&v.OwnerID, &blk.strs[4])
		case "contact_id":
			bit, ok = 1<<6, d.strPtr(&v.ContactID, &blk.strs[5])
		case "tags":
			bit, ok = 1<<7, d.strs(&v.Tags)
		case "created_at":
			bit, ok = 1<<8, d.timePtr(&v.CreatedAt, &blk.times[0])
		case "updated_at":
			bit, ok = 1<<9, d.timePtr(&v.UpdatedAt, &blk.times[1])
		case "last_owner_activity_at":
			bit, ok = 1<<10, d.timePtr(&v.LastOwnerActivityAt, &blk.times[2])
		default:
			return false
		}
		if !ok || seen&bit != 0 {
			return false
		}
		seen |= bit
	}
	return d.ok
}

// contactBlock is oppBlock for a contact snapshot.
type contactBlock struct {
	snap  ContactSnapshot
	strs  [3]string
	times [2]time.Time
}

func (d *fastDecoder) contactSnapshot(blk *contactBlock) bool {
	v := &blk.snap
	var seen uint16
	if !d.objectStart() {
		return false
	}
	for more := d.firstKey(); more; more = d.nextKey() {
		key, ok := d.key()
		if !ok {
			return false
		}
		var bit uint16
		switch key {
		case "name":
			bit, ok = 1<<0, d.strPtr(&v.Name, &blk.strs[0])
		case "email":
			bit, ok = 1<<1, d.strPtr(&v.Email, &blk.strs[1])
		case "owner_id":
			bit, ok = 1<<2, d.strPtr(&v.OwnerID, &blk.strs[2])
		case "tags":
			bit, ok = 1<<3, d.strs(&v.Tags)
		case "created_at":
			bit, ok = 1<<4, d.timePtr(&v.CreatedAt, &blk.times[0])
		case "updated_at":
			bit, ok = 1<<5, d.timePtr(&v.UpdatedAt, &blk.times[1])
		default:
			return false
		}
		if !ok || seen&bit != 0 {
			return false
		}
		seen |= bit
	}
	return d.ok
}

// fastDecoder reads JSON from b at i. ok turns false at the first thing it
// does not take. s is b as a string, which the strings read share: one
// allocation for all of them, kept alive while any of them is.
type fastDecoder struct {
	b  []byte
	s  string
	i  int
	ok bool
}

func (d *fastDecoder) space() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// consume skips white space and then c, reporting whether c was there.
func (d *fastDecoder) consume(c byte) bool {
	d.space()
	if d.i < len(d.b) && d.b[d.i] == c {
		d.i++
		return true
	}
	return false
}

func (d *fastDecoder) objectStart() bool {
	d.ok = d.consume('{')
	return d.ok
}

// firstKey reports whether an object just opened has a member (false
// after its closing brace, or with ok false).
func (d *fastDecoder) firstKey() bool {
	if d.consume('}') {
		return false
	}
	return d.ok
}

// nextKey reports whether another member follows the one just read.
func (d *fastDecoder) nextKey() bool {
	if d.consume(',') {
		return true
	}
	if !d.consume('}') {
		d.ok = false
	}
	return false
}

// key reads a member's name and its colon.
func (d *fastDecoder) key() (string, bool) {
	s, ok := d.rawString()
	if !ok || !d.consume(':') {
		d.ok = false
		return "", false
	}
	return s, true
}

// rawString reads a string without escapes or control characters, in
// valid UTF-8.
func (d *fastDecoder) rawString() (string, bool) {
	if !d.consume('"') {
		return "", false
	}
	start := d.i
	ascii := true
	for ; d.i < len(d.b); d.i++ {
		c := d.b[d.i]
		switch {
		case c == '"':
			s := d.s[start:d.i]
			d.i++
			if !ascii && !utf8.ValidString(s) {
				return "", false
			}
			return s, true
		case c == '\\' || c < 0x20:
			return "", false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return "", false
}

func (d *fastDecoder) str(v *string) bool {
	s, ok := d.rawString()
	*v = s
	return ok
}

// strPtr reads a string into *to and points *v to it.
func (d *fastDecoder) strPtr(v **string, to *string) bool {
	s, ok := d.rawString()
	*to, *v = s, to
	return ok
}

func (d *fastDecoder) strs(v *[]string) bool {
	if !d.consume('[') {
		return false
	}
	list := []string{}
	if !d.consume(']') {
		for {
			s, ok := d.rawString()
			if !ok {
				return false
			}
			list = append(list, s)
			if d.consume(']') {
				break
			}
			if !d.consume(',') {
				return false
			}
		}
	}
	*v = list
	return true
}

// time reads a timestamp as time.Time.UnmarshalJSON does (encoding/json
// calls it).
func (d *fastDecoder) time(v *time.Time) bool {
	d.space()
	start := d.i
	if _, ok := d.rawString(); !ok {
		return false
	}
	return v.UnmarshalJSON(d.b[start:d.i]) == nil
}

// timePtr reads a timestamp into *to and points *v to it.
func (d *fastDecoder) timePtr(v **time.Time, to *time.Time) bool {
	*v = to
	return d.time(to)
}

// number reads a number as JSON writes it.
func (d *fastDecoder) number() (string, bool) {
	d.space()
	b, i := d.b, d.i
	start := i
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		return "", false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			return "", false
		}
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			return "", false
		}
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	}
	d.i = i
	return d.s[start:i], true
}

func (d *fastDecoder) float(v *float64) bool {
	s, ok := d.number()
	if !ok {
		return false
	}
	f, err := strconv.ParseFloat(s, 64)
	*v = f
	return err == nil
}

func (d *fastDecoder) int(v *int) bool {
	s, ok := d.number()
	if !ok {
		return false
	}
	n, err := strconv.ParseInt(s, 10, strconv.IntSize)
	*v = int(n)
	return err == nil
}

// end reports whether only white space follows.
func (d *fastDecoder) end() bool {
	d.space()
	return d.i == len(d.b)
}
