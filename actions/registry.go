package actions

import (
	"fmt"
	"slices"
	"sync/atomic"

	"go.yaml.in/yaml/v3"

	"github.com/followflow/followflow/conditions"
	"github.com/followflow/followflow/diag"
	"github.com/followflow/followflow/internal/yamlx"
	"github.com/followflow/followflow/record"
	"github.com/followflow/followflow/trace"
)

// Step is one compiled step of a workflow.
type Step interface {
	// Kind is the step's YAML name.
	Kind() string
	// Pos is where the step is written.
	Pos() diag.Pos
	// Run runs the step, appending its trace to out when r.Trace is set.
	// It returns false when the remaining steps must not run. An error is a
	// failure of the store, not of the workflow: the event is retried.
	Run(r *Run, out *[]trace.Step) (bool, error)
}

// Branching is a step that holds other steps (if/then/else).
type Branching interface {
	Branches() [][]Step
}

// OpportunityUser is a step that acts on the opportunity in context.
type OpportunityUser interface {
	NeedsOpportunity() bool
}

// OpportunityProvider is a step that sets the opportunity in context.
type OpportunityProvider interface {
	ProvidesOpportunity() bool
}

// ExprUser is a step that evaluates expressions.
type ExprUser interface {
	Programs() []*conditions.Program
}

// UserLister is a step that names users (by id or email).
type UserLister interface {
	UserRefs() []UserRef
}

// UserRef is a user as a workflow names it: an id or an email.
type UserRef struct {
	Ref  string
	Pos  diag.Pos
	Path string
	// memo remembers what the reference resolved to last, for stores that
	// version their users; copies of the reference share it. nil: none.
	memo *userMemo
}

type userMemo struct{ last atomic.Pointer[ResolvedUser] }

// ResolvedUser is what a user reference resolved to in an account, at a
// version of the store's users (store.UsersVersioner). It is never changed
// once made: the user is kept in it, one memory access from the memo.
type ResolvedUser struct {
	Version   uint64
	AccountID string
	// Found: the reference names User; else it names no user of the
	// account.
	Found bool
	User  record.User
}

// user returns the user, or nil when none was found.
func (res *ResolvedUser) user() *record.User {
	if !res.Found {
		return nil
	}
	return &res.User
}

// Remembered returns what the reference resolved to in the account at the
// users version, if it was remembered. The user is shared: never change it.
func (r *UserRef) Remembered(accountID string, version uint64) (*record.User, bool) {
	if r.memo == nil {
		return nil, false
	}
	last := r.memo.last.Load()
	if last == nil || last.Version != version || last.AccountID != accountID {
		return nil, false
	}
	return last.user(), true
}

// Remember keeps what the reference resolved to, for Remembered, and
// returns its user as Remembered would.
func (r *UserRef) Remember(res *ResolvedUser) *record.User {
	if r.memo != nil {
		r.memo.last.Store(res)
	}
	return res.user()
}

// Kind is a step kind.
type Kind struct {
	// Name is the YAML key that selects the kind.
	Name string
	// Siblings are other keys the step's mapping may hold (then, else).
	Siblings []string
	// Decode decodes a step whose mapping is node, holding fields, and
	// reports problems through d. It returns nil when the step is unusable.
	Decode func(d *Decoder, node *yaml.Node, fields []yamlx.Field, path string) Step
}

// Registry maps step names to kinds.
type Registry struct {
	kinds map[string]*Kind
	names []string
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{kinds: map[string]*Kind{}} }

// Register adds a kind; a second kind of the same name is an error.
func (r *Registry) Register(k *Kind) error {
	if _, dup := r.kinds[k.Name]; dup {
		return fmt.Errorf("registering step kind %q: already registered", k.Name)
	}
	r.kinds[k.Name] = k
	r.names = append(r.names, k.Name)
	slices.Sort(r.names)
	return nil
}

// Lookup returns the kind of that name.
func (r *Registry) Lookup(name string) (*Kind, bool) {
	k, ok := r.kinds[name]
	return k, ok
}

// Names returns the kinds' names, sorted.
func (r *Registry) Names() []string { return slices.Clone(r.names) }

// Default is the registry of the built-in step kinds.
var Default = func() *Registry {
	r := NewRegistry()
	for _, k := range []*Kind{conditionKind, ifKind, addFollowersKind, removeFollowersKind, findOpportunityKind} {
		if err := r.Register(k); err != nil {
			panic(err) // a programming error in this file
		}
	}
	return r
}()

// Decoder decodes steps of one file.
type Decoder struct {
	*yamlx.Decoder
	Registry *Registry
}

// Steps decodes a list of steps.
func (d *Decoder) Steps(n *yaml.Node, path string) []Step {
	items, ok := d.Seq(n, path)
	if !ok {
		return nil
	}
	steps := make([]Step, 0, len(items))
	for i, item := range items {
		if s := d.Step(item, yamlx.Index(path, i)); s != nil {
			steps = append(steps, s)
		}
	}
	return steps
}

// Step decodes one step: a mapping with exactly one key naming its kind.
func (d *Decoder) Step(n *yaml.Node, path string) Step {
	fields := d.Fields(n, path)
	if len(fields) == 0 {
		if n.Kind == yaml.MappingNode && len(n.Content) == 0 {
			d.Errorf(n, path, "empty step; expected one of: %s", join(d.Registry.Names()))
		}
		return nil
	}
	var kind *Kind
	var kindField yamlx.Field
	for _, f := range fields {
		if k, ok := d.Registry.Lookup(f.Key); ok {
			if kind != nil {
				d.Errorf(f.KeyNode, yamlx.Join(path, f.Key), "a step has one kind; this one already is %s", kind.Name)
				return nil
			}
			kind, kindField = k, f
		}
	}
	if kind == nil {
		f := fields[0]
		msg := fmt.Sprintf("unknown step kind %q", f.Key)
		if s := yamlx.Suggest(f.Key, d.Registry.Names()); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		} else {
			msg += "; expected one of: " + join(d.Registry.Names())
		}
		d.Errorf(f.KeyNode, yamlx.Join(path, f.Key), "%s", msg)
		return nil
	}
	ok := true
	for _, f := range fields {
		if f.Key != kindField.Key && !slices.Contains(kind.Siblings, f.Key) {
			d.Errorf(f.KeyNode, yamlx.Join(path, f.Key), "unknown key %q in a %s step", f.Key, kind.Name)
			ok = false
		}
	}
	s := kind.Decode(d, n, fields, path)
	if !ok {
		return nil
	}
	return s
}

func join(names []string) string {
	out := ""
	for i, n := range names {
		if i > 0 {
			out += ", "
		}
		out += n
	}
	return out
}

func field(fields []yamlx.Field, key string) (yamlx.Field, bool) {
	for _, f := range fields {
		if f.Key == key {
			return f, true
		}
	}
	return yamlx.Field{}, false
}
