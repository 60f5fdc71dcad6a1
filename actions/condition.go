package actions

import (
	"go.yaml.in/yaml/v3"

	"github.com/followflow/followflow/conditions"
	"github.com/followflow/followflow/diag"
	"github.com/followflow/followflow/internal/yamlx"
	"github.com/followflow/followflow/record"
	"github.com/followflow/followflow/trace"
)

// Condition stops the workflow when its expression is false.
type Condition struct {
	pos     diag.Pos
	Program *conditions.Program
}

var conditionKind = &Kind{
	Name: "condition",
	Decode: func(d *Decoder, node *yaml.Node, fields []yamlx.Field, path string) Step {
		f, _ := field(fields, "condition")
		p := d.Expr(f.Value, yamlx.Join(path, "condition"))
		if p == nil {
			return nil
		}
		return &Condition{pos: d.Pos(node), Program: p}
	},
}

// Programs implements ExprUser.
func (c *Condition) Programs() []*conditions.Program { return []*conditions.Program{c.Program} }

// Kind implements Step.
func (c *Condition) Kind() string { return "condition" }

// Pos implements Step.
func (c *Condition) Pos() diag.Pos { return c.pos }

// Run implements Step.
func (c *Condition) Run(r *Run, out *[]trace.Step) (bool, error) {
	ok, err := r.evaluate(c.Program, "condition")
	if r.Trace {
		*out = append(*out, exprTrace("condition", c.Program, ok, err))
	}
	return ok, nil
}

// If runs Then when its expression is true, else Else.
type If struct {
	pos     diag.Pos
	Program *conditions.Program
	Then    []Step
	Else    []Step
}

var ifKind = &Kind{
	Name:     "if",
	Siblings: []string{"then", "else"},
	Decode: func(d *Decoder, node *yaml.Node, fields []yamlx.Field, path string) Step {
		f, _ := field(fields, "if")
		s := &If{pos: d.Pos(node), Program: d.Expr(f.Value, yamlx.Join(path, "if"))}
		then, ok := field(fields, "then")
		if !ok {
			d.Errorf(node, path, "an if step needs then: [steps]")
		} else {
			s.Then = d.Steps(then.Value, yamlx.Join(path, "then"))
		}
		if els, ok := field(fields, "else"); ok {
			s.Else = d.Steps(els.Value, yamlx.Join(path, "else"))
		}
		if s.Program == nil {
			return nil
		}
		return s
	},
}

// Programs implements ExprUser.
func (s *If) Programs() []*conditions.Program { return []*conditions.Program{s.Program} }

// Kind implements Step.
func (s *If) Kind() string { return "if" }

// Pos implements Step.
func (s *If) Pos() diag.Pos { return s.pos }

// Branches implements Branching.
func (s *If) Branches() [][]Step { return [][]Step{s.Then, s.Else} }

// Run implements Step. A false condition inside the branch stops the whole
// workflow, as it would outside it.
func (s *If) Run(r *Run, out *[]trace.Step) (bool, error) {
	ok, err := r.evaluate(s.Program, "if")
	branch, name := s.Else, "else"
	if ok {
		branch, name = s.Then, "then"
	}
	if len(branch) == 0 {
		name = ""
	}
	var t *trace.Step
	var nested *[]trace.Step
	if r.Trace {
		*out = append(*out, exprTrace("if", s.Program, ok, err))
		t = &(*out)[len(*out)-1]
		t.Branch = name
		t.Steps = []trace.Step{}
		nested = &t.Steps
	}
	for _, step := range branch {
		cont, err := step.Run(r, nested)
		if err != nil || !cont {
			return cont, err
		}
	}
	return true, nil
}

func exprTrace(kind string, p *conditions.Program, ok bool, err error) trace.Step {
	t := trace.Step{Kind: kind, Expr: p.Source(), Result: &ok}
	if err != nil {
		t.Error = err.Error()
	}
	return t
}

// evaluate runs a program; an error makes it false and is recorded in the
// history of the event's record.
func (r *Run) evaluate(p *conditions.Program, kind string) (bool, error) {
	ok, err := r.Eval.Eval(p, r.facts())
	if err != nil {
		k, id := r.Event.RecordKey()
		r.addHistory(k, id, kind, "", record.ConditionError, p.Source()+": "+err.Error())
	}
	return ok, err
}

// Expr compiles the expression held by node, reporting a compile error at
// its place in the file (inside the scalar, whatever its style) with a caret
// snippet.
func (d *Decoder) Expr(node *yaml.Node, path string) *conditions.Program {
	src, ok := d.NonEmptyString(node, path)
	if !ok {
		return nil
	}
	p, err := conditions.Compile(src)
	if err == nil {
		return p
	}
	ce := err.(*conditions.CompileError)
	*d.Diags = append(*d.Diags, diag.Diagnostic{
		Pos: d.PosIn(node, ce.Offset), Severity: diag.Error, Path: path,
		Message: "expression: " + ce.Message, Snippet: ce.Snippet,
	})
	return nil
}
