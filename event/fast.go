package event

import (
	"time"

	"github.com/followflow/followflow/internal/jsonfast"
)

// decodeFast decodes the JSON that producers usually send (and Encode
// writes) with package jsonfast: an object of the known fields with their
// exact names, each at most once, strings without escapes, no nulls. It
// gives up (ok false) on anything else, valid or not, and Decode then
// decodes with decodeSlow, which alone reports errors: when decodeFast
// succeeds its event is the one decodeSlow would give. FuzzDecodeFast
// checks that.
func decodeFast(d *jsonfast.Decoder, ev *Event) (ok bool) {
	if !d.Object(func(key string) (bit uint16, ok bool) {
		switch key {
		case "id":
			bit, ok = 1<<0, d.Str(&ev.ID)
		case "type":
			bit, ok = 1<<1, d.Str(&ev.Type)
		case "account_id":
			bit, ok = 1<<2, d.Str(&ev.AccountID)
		case "occurred_at":
			bit, ok = 1<<3, d.Time(&ev.OccurredAt)
		case "opportunity_id":
			bit, ok = 1<<4, d.Str(&ev.OpportunityID)
		case "contact_id":
			bit, ok = 1<<5, d.Str(&ev.ContactID)
		case "actor_id":
			bit, ok = 1<<6, d.Str(&ev.ActorID)
		case "data":
			bit, ok = 1<<7, data(d, &ev.Data)
		case "opportunity":
			blk := new(oppBlock)
			ev.Opportunity = &blk.snap
			bit, ok = 1<<8, oppSnapshot(d, blk)
		case "contact":
			blk := new(contactBlock)
			ev.Contact = &blk.snap
			bit, ok = 1<<9, contactSnapshot(d, blk)
		default:
			return 0, false
		}
		return bit, ok
	}) {
		return false
	}
	return d.OK() && d.End()
}

func data(d *jsonfast.Decoder, v *Data) bool {
	return d.Object(func(key string) (bit uint16, ok bool) {
		switch key {
		case "to_stage":
			bit, ok = 1<<0, d.Str(&v.ToStage)
		case "from_stage":
			bit, ok = 1<<1, d.Str(&v.FromStage)
		case "pipeline":
			bit, ok = 1<<2, d.Str(&v.Pipeline)
		case "to_status":
			bit, ok = 1<<3, d.Str(&v.ToStatus)
		case "from_status":
			bit, ok = 1<<4, d.Str(&v.FromStatus)
		case "tag":
			bit, ok = 1<<5, d.Str(&v.Tag)
		case "to_owner_id":
			bit, ok = 1<<6, d.Str(&v.ToOwnerID)
		case "from_owner_id":
			bit, ok = 1<<7, d.Str(&v.FromOwnerID)
		case "days":
			bit, ok = 1<<8, d.Int(&v.Days)
		case "days_inactive":
			bit, ok = 1<<9, d.Int(&v.DaysInactive)
		case "since":
			bit, ok = 1<<10, d.Time(&v.Since)
		default:
			return 0, false
		}
		return bit, ok
	})
}

// oppBlock holds a snapshot and what its fields point to, allocated at
// once.
type oppBlock struct {
	snap  OpportunitySnapshot
	strs  [6]string
	value float64
	times [3]time.Time
}

func oppSnapshot(d *jsonfast.Decoder, blk *oppBlock) bool {
	v := &blk.snap
	return d.Object(func(key string) (bit uint16, ok bool) {
		switch key {
		case "name":
			bit, ok = 1<<0, d.StrPtr(&v.Name, &blk.strs[0])
		case "pipeline":
			bit, ok = 1<<1, d.StrPtr(&v.Pipeline, &blk.strs[1])
		case "stage":
			bit, ok = 1<<2, d.StrPtr(&v.Stage, &blk.strs[2])
		case "status":
			bit, ok = 1<<3, d.StrPtr(&v.Status, &blk.strs[3])
		case "value":
			v.Value = &blk.value
			bit, ok = 1<<4, d.Float(v.Value)
		case "owner_id":
			bit, ok = 1<<5, d.StrPtr(&v.OwnerID, &blk.strs[4])
		case "contact_id":
			bit, ok = 1<<6, d.StrPtr(&v.ContactID, &blk.strs[5])
		case "tags":
			bit, ok = 1<<7, d.Strs(&v.Tags)
		case "created_at":
			bit, ok = 1<<8, d.TimePtr(&v.CreatedAt, &blk.times[0])
		case "updated_at":
			bit, ok = 1<<9, d.TimePtr(&v.UpdatedAt, &blk.times[1])
		case "last_owner_activity_at":
			bit, ok = 1<<10, d.TimePtr(&v.LastOwnerActivityAt, &blk.times[2])
		default:
			return 0, false
		}
		return bit, ok
	})
}

// contactBlock is oppBlock for a contact snapshot.
type contactBlock struct {
	snap  ContactSnapshot
	strs  [3]string
	times [2]time.Time
}

func contactSnapshot(d *jsonfast.Decoder, blk *contactBlock) bool {
	v := &blk.snap
	return d.Object(func(key string) (bit uint16, ok bool) {
		switch key {
		case "name":
			bit, ok = 1<<0, d.StrPtr(&v.Name, &blk.strs[0])
		case "email":
			bit, ok = 1<<1, d.StrPtr(&v.Email, &blk.strs[1])
		case "owner_id":
			bit, ok = 1<<2, d.StrPtr(&v.OwnerID, &blk.strs[2])
		case "tags":
			bit, ok = 1<<3, d.Strs(&v.Tags)
		case "created_at":
			bit, ok = 1<<4, d.TimePtr(&v.CreatedAt, &blk.times[0])
		case "updated_at":
			bit, ok = 1<<5, d.TimePtr(&v.UpdatedAt, &blk.times[1])
		default:
			return 0, false
		}
		return bit, ok
	})
}
