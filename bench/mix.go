package bench

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// ErrBadMix is matched (errors.Is) by every error of ParseMix.
var ErrBadMix = errors.New("bad event mix")

// Kinds of generated events, as named in a mix.
const (
	KindCreated  = "created"  // opportunity.created, with a snapshot
	KindUpdated  = "updated"  // opportunity.updated, a new value
	KindStage    = "stage"    // opportunity.stage_changed
	KindStatus   = "status"   // opportunity.status_changed
	KindTag      = "tag"      // opportunity.tag_applied or tag_removed
	KindOwner    = "owner"    // opportunity.owner_changed
	KindActivity = "activity" // opportunity.activity by the owner
	KindContact  = "contact"  // contact.tag_applied or tag_removed
)

// kinds lists every kind in the order a Mix prints them.
var kinds = []string{KindCreated, KindUpdated, KindStage, KindStatus, KindTag, KindOwner, KindActivity, KindContact}

// DefaultMix is the mix used when none is given: a quarter each of
// creations, stage changes, tag changes and owner activity.
const DefaultMix = "created=25,stage=25,tag=25,activity=25"

// Mix is the relative weight of each kind of event; weights need not add
// up to 100. The zero Mix is empty (see ParseMix).
type Mix struct {
	weights [8]int // by index in kinds
}

// MixKinds returns the kinds a mix may name, in order.
func MixKinds() []string { return slices.Clone(kinds) }

// ParseMix parses "kind=weight,...", e.g. "created=25,stage=25,tag=50".
// Kinds are those of MixKinds; weights are integers >= 0, at least one of
// them positive; a kind may appear once. Errors match ErrBadMix.
func ParseMix(s string) (Mix, error) {
	var m Mix
	seen := map[string]bool{}
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok {
			return Mix{}, fmt.Errorf("%w: %q is not kind=weight", ErrBadMix, part)
		}
		i := slices.Index(kinds, k)
		if i < 0 {
			return Mix{}, fmt.Errorf("%w: unknown kind %q (kinds: %s)", ErrBadMix, k, strings.Join(kinds, ", "))
		}
		if seen[k] {
			return Mix{}, fmt.Errorf("%w: kind %q given twice", ErrBadMix, k)
		}
		seen[k] = true
		w, err := strconv.Atoi(v)
		if err != nil || w < 0 {
			return Mix{}, fmt.Errorf("%w: weight %q of %s is not an integer >= 0", ErrBadMix, v, k)
		}
		m.weights[i] = w
	}
	if m.total() == 0 {
		return Mix{}, fmt.Errorf("%w: %q gives no kind a positive weight", ErrBadMix, s)
	}
	return m, nil
}

// MustParseMix is ParseMix for constants; it panics on an error.
func MustParseMix(s string) Mix {
	m, err := ParseMix(s)
	if err != nil {
		panic(err)
	}
	return m
}

// Weight returns the weight of a kind (0 for an unknown kind).
func (m Mix) Weight(kind string) int {
	if i := slices.Index(kinds, kind); i >= 0 {
		return m.weights[i]
	}
	return 0
}

// IsZero reports whether no kind has a weight.
func (m Mix) IsZero() bool { return m.total() == 0 }

func (m Mix) total() int {
	t := 0
	for _, w := range m.weights {
		t += w
	}
	return t
}

// String returns the mix in ParseMix's format, kinds in the order of
// MixKinds, those of weight 0 left out.
func (m Mix) String() string {
	var parts []string
	for i, w := range m.weights {
		if w > 0 {
			parts = append(parts, kinds[i]+"="+strconv.Itoa(w))
		}
	}
	return strings.Join(parts, ",")
}

// pick returns the kind for r, a number in [0, total).
func (m Mix) pick(r int) string {
	for i, w := range m.weights {
		if r < w {
			return kinds[i]
		}
		r -= w
	}
	panic("bench: pick out of range")
}

// MarshalText implements encoding.TextMarshaler (JSON reports).
func (m Mix) MarshalText() ([]byte, error) { return []byte(m.String()), nil }
