package bench

import (
	"errors"
	"testing"
)

func TestParseMix(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{DefaultMix, "created=25,stage=25,tag=25,activity=25"},
		{" tag = 3 , created=1 ", "created=1,tag=3"},
		{"contact=1,owner=0,status=2,updated=5", "updated=5,status=2,contact=1"},
		{"activity=100,", "activity=100"},
	} {
		m, err := ParseMix(tc.in)
		if err != nil {
			t.Errorf("ParseMix(%q): %v", tc.in, err)
			continue
		}
		if got := m.String(); got != tc.want {
			t.Errorf("ParseMix(%q).String() = %q, want %q", tc.in, got, tc.want)
		}
		again, err := ParseMix(m.String())
		if err != nil || again != m {
			t.Errorf("ParseMix(%q) does not round-trip: %v, %v", m.String(), again, err)
		}
	}
	m := MustParseMix("created=1,tag=3")
	if m.Weight(KindTag) != 3 || m.Weight(KindStage) != 0 || m.Weight("nope") != 0 {
		t.Errorf("weights of %v: tag %d, stage %d", m, m.Weight(KindTag), m.Weight(KindStage))
	}
}

func TestParseMixRejects(t *testing.T) {
	for _, in := range []string{
		"", " , ", "created=0", "created", "created=x", "created=-1", "created=1.5",
		"bogus=1", "created=1,created=2", "=1",
	} {
		m, err := ParseMix(in)
		if !errors.Is(err, ErrBadMix) {
			t.Errorf("ParseMix(%q) = %v, %v; want an error matching ErrBadMix", in, m, err)
		}
	}
}

func TestMixPickFollowsTheWeights(t *testing.T) {
	m := MustParseMix("created=1,stage=2,contact=1")
	var got []string
	for r := range 4 {
		got = append(got, m.pick(r))
	}
	want := []string{KindCreated, KindStage, KindStage, KindContact}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("picks = %v, want %v", got, want)
		}
	}
}
