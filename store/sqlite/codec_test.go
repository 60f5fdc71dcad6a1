package sqlite

import (
	"database/sql"
	"encoding/json"
	"reflect"
	"testing"
)

func TestListCodec(t *testing.T) {
	for _, l := range [][]string{
		nil, {}, {""}, {"a"}, {"u_mgr", "u_rep"}, {"a,b", "[x]"}, {`q"uote`, `back\\slash`}, {"é", "tab\t", "<&>"},
		{`"`, `\`, `,`, `","`},
	} {
		enc, err := encodeList(l)
		if err != nil {
			t.Fatal(err)
		}
		var ns sql.NullString
		if enc != nil {
			ns = sql.NullString{String: enc.(string), Valid: true}
			var viaJSON []string
			if err := json.Unmarshal([]byte(ns.String), &viaJSON); err != nil || !reflect.DeepEqual(viaJSON, l) {
				t.Errorf("encodeList(%q) = %s, not the JSON of the list (%v)", l, ns.String, err)
			}
		}
		got, err := decodeList(ns)
		if err != nil || !reflect.DeepEqual(got, l) {
			t.Errorf("decodeList(encodeList(%q)) = %q, %v", l, got, err)
		}
	}
	// What encoding/json writes, spaces included, decodes too.
	for _, s := range []string{`[ "a" , "b" ]`, `["a\u0022"]`, `["\u00e9"]`} {
		var want []string
		json.Unmarshal([]byte(s), &want)
		got, err := decodeList(sql.NullString{String: s, Valid: true})
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("decodeList(%s) = %q, %v; want %q", s, got, err, want)
		}
	}
	if _, err := decodeList(sql.NullString{String: `["a"`, Valid: true}); err == nil {
		t.Error("decodeList of a broken list succeeded")
	}
}

func FuzzListCodec(f *testing.F) {
	f.Add("a", "b,c")
	f.Add(`"`, `\"`)
	f.Fuzz(func(t *testing.T, a, b string) {
		l := []string{a, b}
		enc, err := encodeList(l)
		if err != nil {
			t.Fatal(err)
		}
		got, err := decodeList(sql.NullString{String: enc.(string), Valid: true})
		var want []string
		json.Unmarshal([]byte(enc.(string)), &want) // invalid UTF-8 becomes U+FFFD
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("round trip of %q: %q, %v; want %q", l, got, err, want)
		}
	})
}
