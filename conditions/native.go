package conditions

import (
	"math"
	"strings"

	"github.com/expr-lang/expr/ast"

	"github.com/followflow/followflow/event"
	"github.com/followflow/followflow/record"
)

// A native evaluator runs the common shapes of condition in plain Go, with
// no interpretation and no boxing: field comparisons against constants,
// joined by and, or and not. It returns ok false when it cannot give
// exactly the VM's answer (a field of a record that is not in context:
// the VM reports the error); Eval then runs the VM. Everything else an
// expression may hold (functions, arithmetic, times, event data, ...)
// leaves the program without a native evaluator. It reads the records in
// place (Facts), so that most conditions never build an Env. A fuzz test
// checks that both always agree.
type nativeBool func(*Facts) (v, ok bool)

type (
	nativeNum  func(*Facts) (float64, bool)
	nativeStr  func(*Facts) (string, bool)
	nativeList func(*Facts) ([]string, bool)
)

// compileNative returns the native evaluator of a type-checked expression,
// or nil.
func compileNative(n ast.Node) nativeBool { return nativeBoolOf(n) }

func nativeBoolOf(n ast.Node) nativeBool {
	switch n := n.(type) {
	case *ast.BoolNode:
		v := n.Value
		return func(*Facts) (bool, bool) { return v, true }
	case *ast.ConstantNode:
		if v, isBool := n.Value.(bool); isBool {
			return func(*Facts) (bool, bool) { return v, true }
		}
	case *ast.UnaryNode:
		if n.Operator != "!" && n.Operator != "not" {
			return nil
		}
		x := nativeBoolOf(n.Node)
		if x == nil {
			return nil
		}
		return func(e *Facts) (bool, bool) {
			v, ok := x(e)
			return !v, ok
		}
	case *ast.BinaryNode:
		return nativeBinary(n)
	}
	return nil
}

func nativeBinary(n *ast.BinaryNode) nativeBool {
	switch n.Operator {
	case "&&", "and", "||", "or":
		l, r := nativeBoolOf(n.Left), nativeBoolOf(n.Right)
		if l == nil || r == nil {
			return nil
		}
		if n.Operator == "&&" || n.Operator == "and" {
			return func(e *Facts) (bool, bool) {
				if v, ok := l(e); !ok || !v {
					return false, ok
				}
				return r(e)
			}
		}
		return func(e *Facts) (bool, bool) {
			if v, ok := l(e); !ok || v {
				return v, ok
			}
			return r(e)
		}
	case "in":
		needle, list := nativeStrOf(n.Left), nativeListOf(n.Right)
		if needle == nil || list == nil {
			return nil
		}
		return func(e *Facts) (bool, bool) {
			s, ok := needle(e)
			if !ok {
				return false, false
			}
			l, ok := list(e)
			if !ok {
				return false, false
			}
			for _, x := range l {
				if x == s {
					return true, true
				}
			}
			return false, true
		}
	case "==", "!=", "<", "<=", ">", ">=":
		if l, r := nativeNumOf(n.Left), nativeNumOf(n.Right); l != nil && r != nil {
			return compare(n.Operator, l, r)
		}
		if l, r := nativeStrOf(n.Left), nativeStrOf(n.Right); l != nil && r != nil {
			return compare(n.Operator, l, r)
		}
		if n.Operator == "==" || n.Operator == "!=" {
			if l, r := nativeBoolOf(n.Left), nativeBoolOf(n.Right); l != nil && r != nil {
				eq := n.Operator == "=="
				return func(e *Facts) (bool, bool) {
					a, ok := l(e)
					if !ok {
						return false, false
					}
					b, ok := r(e)
					return (a == b) == eq, ok
				}
			}
		}
	case "contains", "startsWith", "endsWith":
		l, r := nativeStrOf(n.Left), nativeStrOf(n.Right)
		if l == nil || r == nil {
			return nil
		}
		f := map[string]func(string, string) bool{
			"contains": strings.Contains, "startsWith": strings.HasPrefix, "endsWith": strings.HasSuffix,
		}[n.Operator]
		return func(e *Facts) (bool, bool) {
			a, ok := l(e)
			if !ok {
				return false, false
			}
			b, ok := r(e)
			return ok && f(a, b), ok
		}
	}
	return nil
}

// compare compares two numbers or two strings with Go's operators, which
// the VM uses too (so NaN compares as it does there).
func compare[T float64 | string](op string, l, r func(*Facts) (T, bool)) nativeBool {
	var cmp func(a, b T) bool
	switch op {
	case "==":
		cmp = func(a, b T) bool { return a == b }
	case "!=":
		cmp = func(a, b T) bool { return a != b }
	case "<":
		cmp = func(a, b T) bool { return a < b }
	case "<=":
		cmp = func(a, b T) bool { return a <= b }
	case ">":
		cmp = func(a, b T) bool { return a > b }
	default:
		cmp = func(a, b T) bool { return a >= b }
	}
	return func(e *Facts) (bool, bool) {
		a, ok := l(e)
		if !ok {
			return false, false
		}
		b, ok := r(e)
		return ok && cmp(a, b), ok
	}
}

// exactInt bounds the integers a float64 holds exactly: numbers are
// compared as float64, as the VM does for an int and a float, and give the
// same answer for two ints within this bound.
const exactInt = 1 << 53

func nativeNumOf(n ast.Node) nativeNum {
	var v float64
	switch n := n.(type) {
	case *ast.IntegerNode:
		if n.Value <= -exactInt || n.Value >= exactInt {
			return nil
		}
		v = float64(n.Value)
	case *ast.FloatNode:
		v = n.Value
	case *ast.ConstantNode:
		switch c := n.Value.(type) {
		case int:
			if c <= -exactInt || c >= exactInt {
				return nil
			}
			v = float64(c)
		case float64:
			v = c
		default:
			return nil
		}
	case *ast.UnaryNode:
		if n.Operator != "-" {
			return nil
		}
		if x := nativeNumOf(n.Node); x != nil {
			return func(e *Facts) (float64, bool) {
				v, ok := x(e)
				return -v, ok
			}
		}
		return nil
	case *ast.MemberNode:
		return nativeField[nativeNum](n, numFields)
	default:
		return nil
	}
	if math.IsNaN(v) {
		return nil
	}
	return func(*Facts) (float64, bool) { return v, true }
}

func nativeStrOf(n ast.Node) nativeStr {
	switch n := n.(type) {
	case *ast.StringNode:
		v := n.Value
		return func(*Facts) (string, bool) { return v, true }
	case *ast.ConstantNode:
		if v, isStr := n.Value.(string); isStr {
			return func(*Facts) (string, bool) { return v, true }
		}
	case *ast.MemberNode:
		return nativeField[nativeStr](n, strFields)
	}
	return nil
}

func nativeListOf(n ast.Node) nativeList {
	if m, isMember := n.(*ast.MemberNode); isMember {
		return nativeField[nativeList](m, listFields)
	}
	return nil
}

// nativeField returns the reader of a record's field (opportunity.value),
// or nil for any other member expression.
func nativeField[F any](m *ast.MemberNode, fields map[string]F) F {
	var none F
	root, isIdent := m.Node.(*ast.IdentifierNode)
	prop, isStr := m.Property.(*ast.StringNode)
	if !isIdent || !isStr || m.Optional || m.Method {
		return none
	}
	return fields[root.Value+"."+prop.Value]
}

// The fields the native evaluator reads, by the path expressions use. A
// record not in context gives ok false.
var (
	numFields = map[string]nativeNum{
		"opportunity.value": func(e *Facts) (float64, bool) {
			if e.Opportunity == nil {
				return 0, false
			}
			return e.Opportunity.Value, true
		},
		"opportunity.days_inactive": func(e *Facts) (float64, bool) {
			if e.Opportunity == nil {
				return 0, false
			}
			days := DaysBetween(e.Opportunity.LastOwnerActivityAt, e.Now)
			if days >= exactInt {
				return 0, false
			}
			return float64(days), true
		},
	}
	strFields = map[string]nativeStr{
		"opportunity.id":         oppStr(func(o *record.Opportunity) string { return o.ID }),
		"opportunity.account_id": oppStr(func(o *record.Opportunity) string { return o.AccountID }),
		"opportunity.name":       oppStr(func(o *record.Opportunity) string { return o.Name }),
		"opportunity.pipeline":   oppStr(func(o *record.Opportunity) string { return o.Pipeline }),
		"opportunity.stage":      oppStr(func(o *record.Opportunity) string { return o.Stage }),
		"opportunity.status":     oppStr(func(o *record.Opportunity) string { return o.Status }),
		"opportunity.owner_id":   oppStr(func(o *record.Opportunity) string { return o.OwnerID }),
		"opportunity.contact_id": oppStr(func(o *record.Opportunity) string { return o.ContactID }),
		"contact.id":             contactStr(func(c *record.Contact) string { return c.ID }),
		"contact.account_id":     contactStr(func(c *record.Contact) string { return c.AccountID }),
		"contact.name":           contactStr(func(c *record.Contact) string { return c.Name }),
		"contact.email":          contactStr(func(c *record.Contact) string { return c.Email }),
		"contact.owner_id":       contactStr(func(c *record.Contact) string { return c.OwnerID }),
		"event.id":               eventStr(func(ev *event.Event) string { return ev.ID }),
		"event.type":             eventStr(func(ev *event.Event) string { return ev.Type }),
		"event.account_id":       eventStr(func(ev *event.Event) string { return ev.AccountID }),
		"event.actor_id":         eventStr(func(ev *event.Event) string { return ev.ActorID }),
		"event.opportunity_id":   eventStr(func(ev *event.Event) string { return ev.OpportunityID }),
		"event.contact_id":       eventStr(func(ev *event.Event) string { return ev.ContactID }),
	}
	listFields = map[string]nativeList{
		"opportunity.tags": func(e *Facts) ([]string, bool) {
			if e.Opportunity == nil {
				return nil, false
			}
			return e.Opportunity.Tags, true
		},
		"opportunity.followers": func(e *Facts) ([]string, bool) {
			if e.Opportunity == nil {
				return nil, false
			}
			return e.Opportunity.Followers, true
		},
		"contact.tags": func(e *Facts) ([]string, bool) {
			if e.Contact == nil {
				return nil, false
			}
			return e.Contact.Tags, true
		},
		"contact.followers": func(e *Facts) ([]string, bool) {
			if e.Contact == nil {
				return nil, false
			}
			return e.Contact.Followers, true
		},
	}
)

func oppStr(f func(*record.Opportunity) string) nativeStr {
	return func(e *Facts) (string, bool) {
		if e.Opportunity == nil {
			return "", false
		}
		return f(e.Opportunity), true
	}
}

func contactStr(f func(*record.Contact) string) nativeStr {
	return func(e *Facts) (string, bool) {
		if e.Contact == nil {
			return "", false
		}
		return f(e.Contact), true
	}
}

func eventStr(f func(*event.Event) string) nativeStr {
	return func(e *Facts) (string, bool) {
		if e.Event == nil {
			return "", false
		}
		return f(e.Event), true
	}
}
