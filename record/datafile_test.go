package record_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/followflow/followflow/record"
)

func TestDataFileDefaults(t *testing.T) {
	t.Parallel()
	ds, err := record.ParseDataFile("d.yaml", []byte(`
accounts: [{id: a}]
users: [{id: u, account_id: a}, {id: v, account_id: a, active: false, role: admin}]
opportunities: [{id: o, account_id: a, owner_id: u, created_at: 2026-11-01T09:00:00Z}]
`))
	if err != nil {
		t.Fatal(err)
	}
	u, v, o := ds.Users[0], ds.Users[1], ds.Opportunities[0]
	if !u.Active || u.Role != record.RoleUser || v.Active || v.Role != record.RoleAdmin {
		t.Errorf("user defaults: %+v %+v", u, v)
	}
	if o.Status != record.StatusOpen || !o.LastOwnerActivityAt.Equal(o.CreatedAt) || !o.UpdatedAt.Equal(o.CreatedAt) {
		t.Errorf("opportunity defaults: %+v", o)
	}
}

func TestDataFileReportsEveryProblem(t *testing.T) {
	t.Parallel()
	_, err := record.ParseDataFile("d.yaml", []byte(`
accounts: [{id: a}, {id: a}]
users:
  - {id: u, account_id: a, email: X@a.test}
  - {id: w, account_id: a, email: x@A.test, role: boss}
  - {id: gone, account_id: a, active: false}
  - {id: other, account_id: b}
opportunities:
  - {id: o, account_id: a, status: pending, owner_id: other, followers: [u, u, gone, other, nobody]}
`))
	var de *record.DataFileError
	if !errors.As(err, &de) {
		t.Fatalf("err = %v", err)
	}
	want := []string{
		`accounts[1].id: duplicate account "a"`,
		`users[1] (w).role: "boss" is not admin or user`,
		`users[1] (w).email: "x@A.test" is also the email of user "u"`,
		`users[3] (other).account_id: account "b" is not in the file`,
		`opportunities[0] (o).status: "pending" is not open, won, lost or abandoned`,
		`opportunities[0] (o).created_at: required (an RFC 3339 time)`,
		`opportunities[0] (o).owner_id: "other" is not a user of account "a"`,
		`opportunities[0] (o).followers[1]: "u" is listed twice`,
		`opportunities[0] (o).followers[2]: user "gone" is not active`,
		`opportunities[0] (o).followers[3]: "other" is not a user of account "a"`,
		`opportunities[0] (o).followers[4]: "nobody" is not a user of account "a"`,
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("missing %q in:\n%v", w, err)
		}
	}
}

func TestDataFileJSONErrorsHavePositions(t *testing.T) {
	t.Parallel()
	_, err := record.ParseDataFile("d.json", []byte("{\"accounts\": [{\"id\": 7}]}"))
	if err == nil || !strings.Contains(err.Error(), "d.json: line 1, column 23: accounts.id: expected string, got number") {
		t.Errorf("err = %v", err)
	}
	_, err = record.ParseDataFile("d.yaml", []byte("accounts: [{id: a, nmae: x}]\nusers: [{id: u, account_id: a, emal: y}]"))
	if err == nil || !strings.Contains(err.Error(), "line 1: nmae: unknown field") || !strings.Contains(err.Error(), "line 2: emal: unknown field") {
		t.Errorf("err = %v", err)
	}
}

// TestDataFileJSONKeysAreExact: in a JSON data file a key must be a field's
// name exactly and appear once in its object (encoding/json alone took
// "ID" for "id" and kept a repeated key's last value); every bad key is
// reported, with its place and path.
func TestDataFileJSONKeysAreExact(t *testing.T) {
	t.Parallel()
	_, err := record.ParseDataFile("d.json", []byte(`{"accounts": [{"id": "a", "id": "b"}],
 "users": [{"ID": "u", "account_id": "a", "emal": "x"}],
 "opportunities": [{"id": "o", "account_id": "a", "created_at": "2026-11-01T09:00:00Z", "Followers": []}]}`))
	want := []string{
		`line 1, column 27: accounts[0].id: duplicate field`,
		`line 2, column 13: users[0].ID: unknown field`,
		`line 2, column 43: users[0].emal: unknown field`,
		`line 3, column 89: opportunities[0].Followers: unknown field`,
	}
	for _, w := range want {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("missing %q in:\n%v", w, err)
		}
	}
}

func TestDataFileRoundTrip(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"d.yaml", "d.json"} {
		ds, err := record.ParseDataFile("d.yaml", []byte(`
accounts: [{id: a, name: A}]
users: [{id: u, account_id: a, email: u@a.test}]
opportunities: [{id: o, account_id: a, value: 12.5, tags: [x], followers: [u], created_at: 2026-11-01T09:00:00Z}]
contacts: [{id: c, account_id: a, followers: [u]}]
`))
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := record.WriteDataFile(name, &buf, ds); err != nil {
			t.Fatal(err)
		}
		again, err := record.ParseDataFile(name, buf.Bytes())
		if err != nil {
			t.Fatalf("%s: re-reading %s: %v", name, buf.String(), err)
		}
		if again.Opportunities[0].Value != 12.5 || again.Contacts[0].Followers[0] != "u" || !again.Users[0].Active {
			t.Errorf("%s: round trip lost data: %+v", name, again)
		}
	}
}

// FuzzParseDataFile: any input is a dataset that passes Check, or an error;
// never a panic.
func FuzzParseDataFile(f *testing.F) {
	f.Add("d.yaml", []byte("accounts: [{id: a}]\nusers: [{id: u, account_id: a}]\n"))
	f.Add("d.json", []byte(`{"accounts":[{"id":"a"}],"opportunities":[{"id":"o","account_id":"a","followers":["x"]}]}`))
	f.Add("d.yaml", []byte("a: &a [*a, *a]\n"))
	f.Fuzz(func(t *testing.T, name string, b []byte) {
		ds, err := record.ParseDataFile(name, b)
		if err != nil {
			return
		}
		if p := ds.Check(); len(p) > 0 {
			t.Fatalf("parsed dataset fails Check: %v", p)
		}
	})
}
