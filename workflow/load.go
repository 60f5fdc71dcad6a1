package workflow

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/followflow/followflow/actions"
	"github.com/followflow/followflow/diag"
	"github.com/followflow/followflow/event"
	"github.com/followflow/followflow/internal/yamlx"
	"github.com/followflow/followflow/record"
	"github.com/followflow/followflow/triggers"
)

// MaxFileSize bounds one workflow file.
const MaxFileSize = 1 << 20

// MaxDocuments bounds the workflows in one file.
const MaxDocuments = 10000

// Options tune loading.
type Options struct {
	// Data, when set, lets the loader warn about accounts and users the
	// workflows name that the data does not have.
	Data *record.Dataset
}

// Load reads workflow files and directories (every .yaml and .yml file
// under a directory, in lexical order), compiles them and returns the set
// with every diagnostic. The set holds the workflows that compiled; a caller
// that must not run a partial set checks diags.HasErrors().
func Load(paths []string, opts Options) (*Set, diag.List) {
	var diags diag.List
	var files []string
	for _, p := range paths {
		found, err := expand(p)
		if err != nil {
			diags.Errorf(diag.FileStart(p), "", "%v", err)
		}
		files = append(files, found...)
	}
	var wfs []*Workflow
	for _, f := range files {
		src, err := readFile(f)
		if err != nil {
			diags.Errorf(diag.FileStart(f), "", "%v", err)
			continue
		}
		got, d := Parse(f, src)
		diags = append(diags, d...)
		wfs = append(wfs, got...)
	}
	wfs = checkUnique(wfs, &diags)
	if opts.Data != nil {
		checkData(wfs, opts.Data, &diags)
	}
	diags.Sort()
	return NewSet(wfs), diags
}

func expand(p string) ([]string, error) {
	info, err := os.Stat(p)
	if err != nil {
		return nil, fmt.Errorf("reading workflows: %w", err)
	}
	if !info.IsDir() {
		return []string{p}, nil
	}
	var files []string
	err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		ext := strings.ToLower(filepath.Ext(path))
		if !d.IsDir() && (ext == ".yaml" || ext == ".yml") {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading workflows: %w", err)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no .yaml or .yml files in directory %s", p)
	}
	slices.Sort(files)
	return files, nil
}

func readFile(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(b) > MaxFileSize {
		return nil, fmt.Errorf("file larger than %d bytes", MaxFileSize)
	}
	return b, nil
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// Parse compiles the workflows of one file's content (one per YAML
// document) and returns them with every diagnostic.
func Parse(file string, src []byte) ([]*Workflow, diag.List) {
	var diags diag.List
	if len(src) > MaxFileSize {
		diags.Errorf(diag.FileStart(file), "", "file larger than %d bytes", MaxFileSize)
		return nil, diags
	}
	d := &actions.Decoder{Decoder: &yamlx.Decoder{File: file, Diags: &diags, Src: src}, Registry: actions.Default}
	dec := yaml.NewDecoder(bytes.NewReader(src))
	var wfs []*Workflow
	for n := 0; ; n++ {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			pos, msg := diag.FileStart(file), strings.TrimPrefix(err.Error(), "yaml: ")
			if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
				pos.Line, _ = strconv.Atoi(m[1])
				msg = m[2]
			}
			diags.Errorf(pos, "", "invalid YAML: %s", msg)
			break
		}
		if n >= MaxDocuments {
			diags.Errorf(d.Pos(&doc), "", "more than %d workflows in one file", MaxDocuments)
			break
		}
		if len(doc.Content) == 0 || (doc.Content[0].Kind == yaml.ScalarNode && doc.Content[0].Tag == "!!null") {
			continue // an empty document, e.g. after a trailing ---
		}
		if w := decodeWorkflow(d, doc.Content[0]); w != nil {
			wfs = append(wfs, w)
		}
	}
	return wfs, diags
}

var topKeys = []string{"id", "name", "description", "account_id", "enabled", "trigger", "steps"}

// decodeWorkflow returns the workflow of one document, or nil when the
// document has errors (every one reported, aliases included: a field that
// is an alias decodes to nothing, reported only by RejectAliases).
func decodeWorkflow(d *actions.Decoder, root *yaml.Node) *Workflow {
	before := len(*d.Diags)
	d.RejectAliases(root)
	w := &Workflow{Enabled: true, Pos: d.Pos(root)}
	fields := d.Fields(root, "", topKeys...)
	if root.Kind != yaml.MappingNode {
		return nil
	}
	var hasID, hasAccount, hasTrigger, hasSteps bool
	for _, f := range fields {
		switch f.Key {
		case "id":
			w.ID, _ = d.NonEmptyString(f.Value, "id")
			hasID = true
		case "name":
			w.Name, _ = d.String(f.Value, "name")
		case "description":
			d.String(f.Value, "description")
		case "account_id":
			w.AccountID, _ = d.NonEmptyString(f.Value, "account_id")
			hasAccount = true
		case "enabled":
			w.Enabled, _ = d.Bool(f.Value, "enabled")
		case "trigger":
			hasTrigger = true
			w.Trigger = decodeTrigger(d, f.Value)
		case "steps":
			hasSteps = true
			w.Steps = d.Steps(f.Value, "steps")
			if f.Value.Kind == yaml.SequenceNode && len(f.Value.Content) == 0 {
				d.Errorf(f.Value, "steps", "a workflow needs at least one step")
			}
		}
	}
	for _, m := range []struct {
		has  bool
		name string
	}{{hasID, "id"}, {hasAccount, "account_id"}, {hasTrigger, "trigger"}, {hasSteps, "steps"}} {
		if !m.has {
			d.Errorf(root, m.name, "required")
		}
	}
	if w.Trigger != nil {
		checkContext(d, w.Trigger, w.Steps)
	}
	if (*d.Diags)[before:].HasErrors() {
		return nil
	}
	w.UsesContact = usesContact(w.Steps)
	return w
}

func decodeTrigger(d *actions.Decoder, n *yaml.Node) *triggers.Trigger {
	fields := d.Fields(n, "trigger")
	if n.Kind != yaml.MappingNode {
		return nil
	}
	typeField := slices.IndexFunc(fields, func(f yamlx.Field) bool { return f.Key == "type" })
	if typeField < 0 {
		d.Errorf(n, "trigger.type", "required; one of: %s", strings.Join(triggers.Default.Names(), ", "))
		return nil
	}
	name, ok := d.NonEmptyString(fields[typeField].Value, "trigger.type")
	if !ok {
		return nil
	}
	kind, ok := triggers.Default.Lookup(name)
	if !ok {
		msg := fmt.Sprintf("unknown trigger type %q", name)
		if s := yamlx.Suggest(name, triggers.Default.Names()); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		} else {
			msg += "; one of: " + strings.Join(triggers.Default.Names(), ", ")
		}
		d.Errorf(fields[typeField].Value, "trigger.type", "%s", msg)
		return nil
	}
	t := &triggers.Trigger{Kind: kind}
	good := true
	for _, f := range fields {
		if f.Key == "type" {
			continue
		}
		path := yamlx.Join("trigger", f.Key)
		spec, ok := kind.Filter(f.Key)
		if !ok {
			msg := fmt.Sprintf("unknown filter %q for %s", f.Key, kind.Type)
			if len(kind.Filters) == 0 {
				msg += " (it takes no filters)"
			} else if s := yamlx.Suggest(f.Key, kind.FilterNames()); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			} else {
				msg += " (filters: " + strings.Join(kind.FilterNames(), ", ") + ")"
			}
			d.Errorf(f.KeyNode, path, "%s", msg)
			good = false
			continue
		}
		var value string
		if spec.Integer {
			i, ok := d.Int(f.Value, path)
			if ok && i < 1 {
				d.Errorf(f.Value, path, "must be at least 1, got %d", i)
				ok = false
			}
			if !ok {
				good = false
				continue
			}
			value = strconv.Itoa(i)
		} else {
			v, ok := d.NonEmptyString(f.Value, path)
			if !ok {
				good = false
				continue
			}
			if (f.Key == "to_status" || f.Key == "from_status") && !record.ValidStatus(v) {
				d.Errorf(f.Value, path, "%q is not open, won, lost or abandoned", v)
				good = false
				continue
			}
			value = v
		}
		t.Filters = append(t.Filters, triggers.Filter{Spec: spec, Value: value})
	}
	for i := range kind.Filters {
		spec := &kind.Filters[i]
		if spec.Required && !slices.ContainsFunc(fields, func(f yamlx.Field) bool { return f.Key == spec.Name }) {
			d.Errorf(n, yamlx.Join("trigger", spec.Name), "required for %s", kind.Type)
			good = false
		}
	}
	if !good {
		return nil
	}
	return t
}

// checkContext warns about follower actions that can never have an
// opportunity in context: a trigger without one and no find_opportunity
// step before them.
func checkContext(d *actions.Decoder, t *triggers.Trigger, steps []actions.Step) {
	spec, _ := event.Lookup(t.Kind.Type)
	walkContext(d, steps, spec.Subject == record.KindOpportunity)
}

// walkContext warns about each step of steps that needs an opportunity
// but can never have one: has says whether one may be in context before
// the steps. It returns whether one may be after them: a step after a
// branching step may have one when any branch may provide it.
func walkContext(d *actions.Decoder, steps []actions.Step, has bool) bool {
	for _, s := range steps {
		if p, ok := s.(actions.OpportunityProvider); ok && p.ProvidesOpportunity() {
			has = true
		}
		if u, ok := s.(actions.OpportunityUser); ok && u.NeedsOpportunity() && !has {
			d.Diags.Warnf(s.Pos(), "", "%s has no opportunity in context (the trigger gives none and no find_opportunity step comes before it): it will always be skipped_no_opportunity", s.Kind())
		}
		if b, ok := s.(actions.Branching); ok {
			after := has
			for _, branch := range b.Branches() {
				after = walkContext(d, branch, has) || after
			}
			has = after
		}
	}
	return has
}

func checkUnique(wfs []*Workflow, diags *diag.List) []*Workflow {
	first := map[[2]string]*Workflow{}
	out := wfs[:0]
	for _, w := range wfs {
		key := [2]string{w.AccountID, w.ID}
		if f, dup := first[key]; dup {
			diags.Errorf(w.Pos, "id", "duplicate workflow id %q in account %q (first at %s)", w.ID, w.AccountID, f.Pos)
			continue
		}
		first[key] = w
		out = append(out, w)
	}
	return out
}

func checkData(wfs []*Workflow, data *record.Dataset, diags *diag.List) {
	accounts := map[string]bool{}
	for _, a := range data.Accounts {
		accounts[a.ID] = true
	}
	type userKey struct{ account, ref string }
	users := map[userKey]*record.User{}
	for i := range data.Users {
		u := &data.Users[i]
		users[userKey{u.AccountID, u.ID}] = u
		if u.Email != "" {
			users[userKey{u.AccountID, "@" + strings.ToLower(u.Email)}] = u
		}
	}
	for _, w := range wfs {
		if !accounts[w.AccountID] {
			diags.Warnf(w.Pos, "account_id", "account %q is not in the data", w.AccountID)
			continue
		}
		walkUsers(w.Steps, func(ref actions.UserRef) {
			u := users[userKey{w.AccountID, ref.Ref}]
			if u == nil {
				u = users[userKey{w.AccountID, "@" + strings.ToLower(ref.Ref)}]
			}
			switch {
			case u == nil:
				diags.Warnf(ref.Pos, ref.Path, "user %q not found in account %q: it will be unknown_user", ref.Ref, w.AccountID)
			case !u.Active:
				diags.Warnf(ref.Pos, ref.Path, "user %q is inactive: it will be inactive_user", ref.Ref)
			}
		})
	}
}

func walkUsers(steps []actions.Step, fn func(actions.UserRef)) {
	for _, s := range steps {
		if l, ok := s.(actions.UserLister); ok {
			for _, r := range l.UserRefs() {
				fn(r)
			}
		}
		if b, ok := s.(actions.Branching); ok {
			for _, branch := range b.Branches() {
				walkUsers(branch, fn)
			}
		}
	}
}
