package record

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// MaxDataFileSize bounds a data file read into memory.
const MaxDataFileSize = 256 << 20

// Dataset is the content of a data file (SPEC §2).
type Dataset struct {
	Accounts      []Account     `json:"accounts" yaml:"accounts"`
	Users         []User        `json:"users" yaml:"users"`
	Opportunities []Opportunity `json:"opportunities" yaml:"opportunities"`
	Contacts      []Contact     `json:"contacts" yaml:"contacts"`
}

// DataFileError is a problem in a data file: which file, where and what.
type DataFileError struct {
	File string
	// Problems lists every problem found, each naming its place
	// ("opportunities[2] (opp_7).followers: ...").
	Problems []string
}

func (e *DataFileError) Error() string {
	if len(e.Problems) == 1 {
		return fmt.Sprintf("%s: %s", e.File, e.Problems[0])
	}
	return fmt.Sprintf("%s: %d problems:\n  %s", e.File, len(e.Problems), strings.Join(e.Problems, "\n  "))
}

// userFile is User as written in a data file, where active defaults to true.
type userFile struct {
	ID               string `json:"id" yaml:"id"`
	AccountID        string `json:"account_id" yaml:"account_id"`
	Name             string `json:"name" yaml:"name"`
	Email            string `json:"email" yaml:"email"`
	Role             string `json:"role" yaml:"role"`
	Active           *bool  `json:"active" yaml:"active"`
	OnlyAssignedData bool   `json:"only_assigned_data" yaml:"only_assigned_data"`
}

type datasetFile struct {
	Accounts      []Account     `json:"accounts" yaml:"accounts"`
	Users         []userFile    `json:"users" yaml:"users"`
	Opportunities []Opportunity `json:"opportunities" yaml:"opportunities"`
	Contacts      []Contact     `json:"contacts" yaml:"contacts"`
}

// ReadDataFile reads a data file, YAML or JSON by its extension, applies the
// defaults of SPEC §1 and checks it (see Dataset.Check).
func ReadDataFile(name string, r io.Reader) (*Dataset, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxDataFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading data file %s: %w", name, err)
	}
	if len(b) > MaxDataFileSize {
		return nil, &DataFileError{File: name, Problems: []string{fmt.Sprintf("larger than %d bytes", MaxDataFileSize)}}
	}
	return ParseDataFile(name, b)
}

// ParseDataFile parses the bytes of a data file named name.
func ParseDataFile(name string, b []byte) (*Dataset, error) {
	var f datasetFile
	if isJSON(name) {
		if problems := checkJSONKeys(b); len(problems) > 0 {
			return nil, &DataFileError{File: name, Problems: problems}
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&f); err != nil {
			return nil, &DataFileError{File: name, Problems: []string{jsonProblem(b, err)}}
		}
	} else {
		dec := yaml.NewDecoder(bytes.NewReader(b))
		dec.KnownFields(true)
		if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
			return nil, &DataFileError{File: name, Problems: yamlProblems(err)}
		}
	}
	ds := &Dataset{Accounts: f.Accounts, Opportunities: f.Opportunities, Contacts: f.Contacts}
	for _, u := range f.Users {
		ds.Users = append(ds.Users, User{
			ID: u.ID, AccountID: u.AccountID, Name: u.Name, Email: u.Email, Role: u.Role,
			Active: u.Active == nil || *u.Active, OnlyAssignedData: u.OnlyAssignedData,
		})
	}
	ds.ApplyDefaults()
	if problems := ds.Check(); len(problems) > 0 {
		return nil, &DataFileError{File: name, Problems: problems}
	}
	return ds, nil
}

// yamlUnknown is how yaml.v3 reports an unknown field, naming a Go type.
var yamlUnknown = regexp.MustCompile(`^line (\d+): field (.+) not found in type \S+$`)

// yamlProblems lists the problems of a yaml.v3 error, each on its line,
// an unknown field said in this package's words rather than Go's.
func yamlProblems(err error) []string {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return []string{strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	out := make([]string, 0, len(te.Errors))
	for _, e := range te.Errors {
		if m := yamlUnknown.FindStringSubmatch(e); m != nil {
			e = fmt.Sprintf("line %s: %s: unknown field", m[1], m[2])
		}
		out = append(out, e)
	}
	return out
}

func jsonProblem(b []byte, err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		line, col := lineCol(b, se.Offset)
		return fmt.Sprintf("line %d, column %d: %v", line, col, err)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		line, col := lineCol(b, te.Offset)
		return fmt.Sprintf("line %d, column %d: %s: expected %s, got %s", line, col, te.Field, te.Type, te.Value)
	}
	return err.Error()
}

func lineCol(b []byte, off int64) (int, int) {
	if off > int64(len(b)) {
		off = int64(len(b))
	}
	line, col := 1, 1
	for _, c := range b[:off] {
		if c == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return line, col
}

func isJSON(name string) bool { return strings.EqualFold(filepath.Ext(name), ".json") }

// ApplyDefaults fills the defaults of SPEC §1: role user, status open,
// last_owner_activity_at = created_at, updated_at = created_at.
func (d *Dataset) ApplyDefaults() {
	for i := range d.Users {
		if d.Users[i].Role == "" {
			d.Users[i].Role = RoleUser
		}
	}
	for i := range d.Opportunities {
		o := &d.Opportunities[i]
		if o.Status == "" {
			o.Status = StatusOpen
		}
		if o.UpdatedAt.IsZero() {
			o.UpdatedAt = o.CreatedAt
		}
		if o.LastOwnerActivityAt.IsZero() {
			o.LastOwnerActivityAt = o.CreatedAt
		}
	}
	for i := range d.Contacts {
		c := &d.Contacts[i]
		if c.UpdatedAt.IsZero() {
			c.UpdatedAt = c.CreatedAt
		}
	}
}

// Check returns every problem of the dataset: missing or duplicate ids,
// references to accounts that are not there, bad roles and statuses, and
// followers that break the follower rules.
func (d *Dataset) Check() []string {
	var p []string
	add := func(format string, args ...any) { p = append(p, fmt.Sprintf(format, args...)) }
	accounts := map[string]bool{}
	for i, a := range d.Accounts {
		switch {
		case a.ID == "":
			add("accounts[%d].id: missing", i)
		case accounts[a.ID]:
			add("accounts[%d].id: duplicate account %q", i, a.ID)
		}
		accounts[a.ID] = true
	}
	users := map[string]*User{}
	emails := map[string]string{}
	for i := range d.Users {
		u := &d.Users[i]
		where := fmt.Sprintf("users[%d] (%s)", i, u.ID)
		switch {
		case u.ID == "":
			add("users[%d].id: missing", i)
		case users[u.ID] != nil:
			add("%s.id: duplicate user %q", where, u.ID)
		}
		users[u.ID] = u
		if !accounts[u.AccountID] {
			add("%s.account_id: account %q is not in the file", where, u.AccountID)
		}
		if u.Role != RoleAdmin && u.Role != RoleUser {
			add("%s.role: %q is not admin or user", where, u.Role)
		}
		if u.Email != "" {
			key := u.AccountID + "\x00" + strings.ToLower(u.Email)
			if other, ok := emails[key]; ok {
				add("%s.email: %q is also the email of user %q", where, u.Email, other)
			}
			emails[key] = u.ID
		}
	}
	checkFollowers := func(where, accountID string, followers []string) {
		if len(followers) > MaxFollowers {
			add("%s.followers: %d followers, at most %d allowed", where, len(followers), MaxFollowers)
		}
		for j, f := range followers {
			u := users[f]
			switch {
			case slices.Contains(followers[:j], f):
				add("%s.followers[%d]: %q is listed twice", where, j, f)
			case u == nil || u.AccountID != accountID:
				add("%s.followers[%d]: %q is not a user of account %q", where, j, f, accountID)
			case !u.Active:
				add("%s.followers[%d]: user %q is not active", where, j, f)
			}
		}
	}
	contacts := map[string]bool{}
	for i := range d.Contacts {
		c := &d.Contacts[i]
		where := fmt.Sprintf("contacts[%d] (%s)", i, c.ID)
		key := c.AccountID + "\x00" + c.ID
		switch {
		case c.ID == "":
			add("contacts[%d].id: missing", i)
		case contacts[key]:
			add("%s.id: duplicate contact %q", where, c.ID)
		}
		contacts[key] = true
		if !accounts[c.AccountID] {
			add("%s.account_id: account %q is not in the file", where, c.AccountID)
		}
		checkFollowers(where, c.AccountID, c.Followers)
	}
	opps := map[string]bool{}
	for i := range d.Opportunities {
		o := &d.Opportunities[i]
		where := fmt.Sprintf("opportunities[%d] (%s)", i, o.ID)
		key := o.AccountID + "\x00" + o.ID
		switch {
		case o.ID == "":
			add("opportunities[%d].id: missing", i)
		case opps[key]:
			add("%s.id: duplicate opportunity %q", where, o.ID)
		}
		opps[key] = true
		if !accounts[o.AccountID] {
			add("%s.account_id: account %q is not in the file", where, o.AccountID)
		}
		if !ValidStatus(o.Status) {
			add("%s.status: %q is not open, won, lost or abandoned", where, o.Status)
		}
		if o.CreatedAt.IsZero() {
			// last_owner_activity_at defaults to it: without either, the
			// stale scanner would count the owner idle since year 1.
			add("%s.created_at: required (an RFC 3339 time)", where)
		}
		if o.OwnerID != "" {
			if u := users[o.OwnerID]; u == nil || u.AccountID != o.AccountID {
				add("%s.owner_id: %q is not a user of account %q", where, o.OwnerID, o.AccountID)
			}
		}
		checkFollowers(where, o.AccountID, o.Followers)
	}
	return p
}

// WriteDataFile writes the dataset as YAML or JSON, by the extension of name.
func WriteDataFile(name string, w io.Writer, d *Dataset) error {
	if isJSON(name) {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(d)
	}
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(d); err != nil {
		return err
	}
	return enc.Close()
}

// Sort orders every list by account then id, so that output is stable.
func (d *Dataset) Sort() {
	slices.SortFunc(d.Accounts, func(a, b Account) int { return strings.Compare(a.ID, b.ID) })
	slices.SortFunc(d.Users, func(a, b User) int { return cmp2(a.AccountID, a.ID, b.AccountID, b.ID) })
	slices.SortFunc(d.Opportunities, func(a, b Opportunity) int { return cmp2(a.AccountID, a.ID, b.AccountID, b.ID) })
	slices.SortFunc(d.Contacts, func(a, b Contact) int { return cmp2(a.AccountID, a.ID, b.AccountID, b.ID) })
}

func cmp2(a1, a2, b1, b2 string) int {
	if c := strings.Compare(a1, b1); c != 0 {
		return c
	}
	return strings.Compare(a2, b2)
}
