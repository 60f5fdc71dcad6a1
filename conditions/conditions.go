package conditions

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/vm"
)

// MaxNodes bounds the size of one expression's syntax tree.
const MaxNodes = 500

// MaxLength bounds the source of one expression, in bytes.
const MaxLength = 4096

// CompileError is an expression that does not compile: a syntax error, an
// unknown field, or a type that is not boolean.
type CompileError struct {
	Source string
	// Offset places the problem in Source: the index of a rune of Source
	// (counted in runes, not bytes; 0 for an empty Source).
	Offset int
	// Line and Column (1-based, Column in runes) are the same place as
	// Offset, by Source's lines.
	Line   int
	Column int
	// Whole: the problem is the expression as a whole (its type, its
	// length) rather than one place in it; Offset is then its first
	// non-blank rune.
	Whole   bool
	Message string
	// Snippet is the source line with a caret under the problem, or with
	// carets under every line of the expression when Whole, in expr's
	// layout: "\n | line\n | ....^".
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
		// The caret goes under the first rune past the limit.
		cut := MaxLength
		for cut > 0 && !utf8.RuneStart(src[cut]) {
			cut--
		}
		return nil, newCompileError(src, utf8.RuneCountInString(src[:cut]), false, fmt.Sprintf("expression longer than %d bytes", MaxLength))
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
		// From is a rune index; at the end of the input it can be one past
		// the last rune: keep it on the last one.
		return newCompileError(src, fe.From, false, goNames.Replace(fe.Message))
	}
	// expr gives no place for some errors, such as a type that is not
	// boolean: they are about the whole expression.
	return newCompileError(src, 0, true, goNames.Replace(err.Error()))
}

// newCompileError places a problem at rune index at of src (or, when whole,
// at its first non-blank rune) and draws its snippet.
func newCompileError(src string, at int, whole bool, msg string) *CompileError {
	runes := []rune(src)
	if whole {
		at = 0
		for at < len(runes)-1 && unicode.IsSpace(runes[at]) {
			at++
		}
	}
	at = max(0, min(at, len(runes)-1))
	e := &CompileError{Source: src, Offset: at, Line: 1, Column: 1, Whole: whole, Message: msg}
	lineStart := 0
	for i := 0; i < at; i++ {
		if runes[i] == '\n' {
			e.Line++
			lineStart = i + 1
		}
	}
	e.Column = at - lineStart + 1
	if whole {
		e.Snippet = underline(runes)
	} else {
		e.Snippet = caret(runes, lineStart, at)
	}
	return e
}

// snippetLines bounds the lines a snippet shows.
const snippetLines = 5

var tabs = strings.NewReplacer("\t", " ")

// caret draws the line that starts at rune lineStart with a caret under
// rune at.
func caret(runes []rune, lineStart, at int) string {
	end := lineStart
	for end < len(runes) && runes[end] != '\n' {
		end++
	}
	return "\n | " + tabs.Replace(string(runes[lineStart:end])) + "\n | " + strings.Repeat(".", at-lineStart) + "^"
}

// underline draws every line of the expression (up to snippetLines) with
// carets under its non-blank part.
func underline(runes []rune) string {
	var b strings.Builder
	lines := strings.Split(strings.TrimRightFunc(string(runes), unicode.IsSpace), "\n")
	shown := 0
	for _, line := range lines {
		text := []rune(tabs.Replace(line))
		first := 0
		for first < len(text) && unicode.IsSpace(text[first]) {
			first++
		}
		if first == len(text) {
			continue
		}
		if shown == snippetLines {
			b.WriteString("\n | ...")
			break
		}
		shown++
		last := len(text)
		for unicode.IsSpace(text[last-1]) {
			last--
		}
		fmt.Fprintf(&b, "\n | %s\n | %s%s", string(text), strings.Repeat(".", first), strings.Repeat("^", last-first))
	}
	return b.String()
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
