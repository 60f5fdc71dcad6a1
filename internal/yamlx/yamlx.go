package yamlx

import (
	"fmt"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/followflow/followflow/diag"
)

// Decoder decodes nodes of one file, adding problems to Diags.
type Decoder struct {
	File  string
	Diags *diag.List
	// Src is the file's content. PosIn reads scalars again from it to place
	// a problem inside one; without it, problems go at the scalar's start.
	Src []byte

	// lines holds the byte offset of each line of Src; built on first use.
	lines []int
}

// Pos returns the position of a node.
func (d *Decoder) Pos(n *yaml.Node) diag.Pos {
	return diag.Pos{File: d.File, Line: n.Line, Column: n.Column}
}

// Errorf adds an error at node n.
func (d *Decoder) Errorf(n *yaml.Node, path, format string, args ...any) {
	d.Diags.Errorf(d.Pos(n), path, format, args...)
}

// Warnf adds a warning at node n.
func (d *Decoder) Warnf(n *yaml.Node, path, format string, args ...any) {
	d.Diags.Warnf(d.Pos(n), path, format, args...)
}

// Join appends a key to a field path.
func Join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// Index appends a list index to a field path.
func Index(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }

// Field is one key of a mapping with its value.
type Field struct {
	Key     string
	KeyNode *yaml.Node
	Value   *yaml.Node
}

// RejectAliases reports every alias in the tree: aliases could make a small
// file expand into a huge one, and workflows have no use for them.
func (d *Decoder) RejectAliases(n *yaml.Node) {
	if n == nil {
		return
	}
	if n.Kind == yaml.AliasNode {
		d.Errorf(n, "", "YAML aliases (*%s) are not allowed in workflows", n.Value)
		return
	}
	for _, c := range n.Content {
		d.RejectAliases(c)
	}
}

// Fields returns the fields of a mapping node, reporting a node that is not
// a mapping, non-string and duplicate keys, and keys not in allowed (with a
// suggestion when one is close). Unknown and duplicate keys are left out.
func (d *Decoder) Fields(n *yaml.Node, path string, allowed ...string) []Field {
	if n.Kind == yaml.AliasNode {
		return nil // reported by RejectAliases
	}
	if n.Kind != yaml.MappingNode {
		d.Errorf(n, path, "expected a mapping, got %s", describe(n))
		return nil
	}
	fields := make([]Field, 0, len(n.Content)/2)
	seen := make(map[string]*yaml.Node, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			d.Errorf(k, path, "expected a string key, got %s", describe(k))
			continue
		}
		if first, dup := seen[k.Value]; dup {
			d.Errorf(k, Join(path, k.Value), "duplicate key %q (first at line %d)", k.Value, first.Line)
			continue
		}
		seen[k.Value] = k
		if allowed != nil && !contains(allowed, k.Value) {
			msg := fmt.Sprintf("unknown key %q", k.Value)
			if s := Suggest(k.Value, allowed); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			} else {
				msg += fmt.Sprintf(" (expected one of: %s)", strings.Join(allowed, ", "))
			}
			d.Errorf(k, Join(path, k.Value), "%s", msg)
			continue
		}
		fields = append(fields, Field{Key: k.Value, KeyNode: k, Value: v})
	}
	return fields
}

// String decodes a string scalar. Plain scalars that YAML reads as numbers
// or booleans are taken as written (a stage named 2026, say).
func (d *Decoder) String(n *yaml.Node, path string) (string, bool) {
	if n.Kind == yaml.AliasNode {
		return "", false // reported by RejectAliases
	}
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		d.Errorf(n, path, "expected a string, got %s", describe(n))
		return "", false
	}
	return n.Value, true
}

// NonEmptyString decodes a string scalar that must not be empty.
func (d *Decoder) NonEmptyString(n *yaml.Node, path string) (string, bool) {
	s, ok := d.String(n, path)
	if ok && strings.TrimSpace(s) == "" {
		d.Errorf(n, path, "must not be empty")
		return "", false
	}
	return s, ok
}

// Bool decodes a boolean scalar.
func (d *Decoder) Bool(n *yaml.Node, path string) (bool, bool) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!bool" {
		b, err := strconv.ParseBool(strings.ToLower(n.Value))
		if err == nil {
			return b, true
		}
	}
	d.Errorf(n, path, "expected true or false, got %s", describe(n))
	return false, false
}

// Int decodes an integer scalar.
func (d *Decoder) Int(n *yaml.Node, path string) (int, bool) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!int" {
		i, err := strconv.Atoi(n.Value)
		if err == nil {
			return i, true
		}
	}
	d.Errorf(n, path, "expected an integer, got %s", describe(n))
	return 0, false
}

// Seq returns the items of a sequence node.
func (d *Decoder) Seq(n *yaml.Node, path string) ([]*yaml.Node, bool) {
	if n.Kind == yaml.AliasNode {
		return nil, false // reported by RejectAliases
	}
	if n.Kind != yaml.SequenceNode {
		d.Errorf(n, path, "expected a list, got %s", describe(n))
		return nil, false
	}
	return n.Content, true
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	case yaml.DocumentNode:
		return "a document"
	}
	switch n.Tag {
	case "!!null":
		return "nothing"
	case "!!bool":
		return fmt.Sprintf("the boolean %s", n.Value)
	case "!!int", "!!float":
		return fmt.Sprintf("the number %s", n.Value)
	}
	return fmt.Sprintf("%q", n.Value)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Suggest returns the candidate closest to s when it is within two edits.
func Suggest(s string, candidates []string) string {
	best, bestD := "", 3
	for _, c := range candidates {
		if d := distance(s, c); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
