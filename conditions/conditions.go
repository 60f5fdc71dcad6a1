package conditions

import (
	"errors"
	"fmt"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/vm"
)

// MaxNodes bounds the size of one expression's syntax tree.
const MaxNodes = 500

// MaxLength bounds the source of one expression, in bytes.
const MaxLength = 4096

// CompileError is an expression that does not compile: a syntax error, an
// unknown field, or a type that is not boolean. Line and Column are 1-based
// within the expression's source.
type CompileError struct {
	Source  string
	Line    int
	Column  int
	Message string
	// Snippet is the source line with a caret under the problem.
	Snippet string
}

func (e *CompileError) Error() string {
	return fmt.Sprintf("%d:%d: %s", e.Line, e.Column, e.Message)
}

// Program is a compiled, type-checked boolean expression.
type Program struct {
	source  string
	program *vm.Program
	// native evaluates the program without the VM, when it can (see
	// nativeBool); nil when the expression has another shape.
	native nativeBool
}

// Source returns the expression as written.
func (p *Program) Source() string { return p.source }

// Compile compiles a boolean expression against Env.
func Compile(src string) (*Program, error) {
	if len(src) > MaxLength {
		return nil, &CompileError{Source: src, Line: 1, Column: 1, Message: fmt.Sprintf("expression longer than %d bytes", MaxLength)}
	}
	p, err := expr.Compile(src, expr.Env(Env{}), expr.AsBool(), expr.MaxNodes(MaxNodes), expr.DisableBuiltin("env"))
	if err != nil {
		return nil, compileError(src, err)
	}
	return &Program{source: src, program: p, native: compileNative(p.Node())}, nil
}

func compileError(src string, err error) *CompileError {
	var fe *file.Error
	if errors.As(err, &fe) {
		line := max(fe.Line, 1)
		return &CompileError{Source: src, Line: line, Column: fe.Column + 1, Message: goNames.Replace(fe.Message), Snippet: fe.Snippet}
	}
	return &CompileError{Source: src, Line: 1, Column: 1, Message: err.Error()}
}

// goNames turns the Go type names expr mentions into the names users write.
var goNames = strings.NewReplacer(
	"type conditions.Opportunity", "opportunity",
	"type conditions.Contact", "contact",
	"type conditions.Event", "event",
	"type event.Data", "event.data",
	"conditions.Opportunity", "opportunity",
	"conditions.Contact", "contact",
	"conditions.Event", "event",
	"event.Data", "event.data",
)

// Evaluator evaluates programs with a reused VM and environment. It is not
// safe for concurrent use: give each goroutine its own.
type Evaluator struct {
	vm  vm.VM
	env envBuf
}

// Eval runs p against the facts. A run-time error (a field of a missing
// opportunity, say) is returned with the result false.
func (e *Evaluator) Eval(p *Program, f *Facts) (bool, error) {
	if p.native != nil {
		if v, ok := p.native(f); ok {
			return v, nil
		}
	}
	out, err := e.vm.Run(p.program, e.env.fill(f))
	if err != nil {
		msg := err.Error()
		var fe *file.Error
		if errors.As(err, &fe) {
			msg = fe.Message
		}
		switch {
		case f.Opportunity == nil && strings.Contains(msg, "from opportunity"):
			msg = "no opportunity in context"
		case f.Contact == nil && strings.Contains(msg, "from contact"):
			msg = "no contact in context"
		}
		return false, errors.New(goNames.Replace(msg))
	}
	b, ok := out.(bool)
	if !ok {
		return false, fmt.Errorf("expression gave %T, not a boolean", out)
	}
	return b, nil
}
