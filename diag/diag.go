package diag

import (
	"fmt"
	"slices"
	"strings"
)

// Severity of a diagnostic.
type Severity string

// Severities.
const (
	Error   Severity = "error"
	Warning Severity = "warning"
)

// Pos is a place in a file; Line and Column are 1-based.
type Pos struct {
	File   string `json:"file"`
	Line   int    `json:"line"`
	Column int    `json:"column"`
}

// FileStart is the first line and column of a file: the place of a problem
// with the file as a whole (unreadable, too large), so that it too carries
// file:line:col.
func FileStart(file string) Pos { return Pos{File: file, Line: 1, Column: 1} }

func (p Pos) String() string {
	if p.Line == 0 {
		return p.File
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Column)
}

// Diagnostic is one problem found in a file.
type Diagnostic struct {
	Pos      Pos      `json:"pos"`
	Severity Severity `json:"severity"`
	// Path is the field path within the document, e.g. steps[1].add_followers.users[3].
	Path    string `json:"path,omitempty"`
	Message string `json:"message"`
	// Snippet, when set, shows the offending source with a caret.
	Snippet string `json:"snippet,omitempty"`
}

func (d Diagnostic) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s: ", d.Pos, d.Severity)
	if d.Path != "" {
		b.WriteString(d.Path)
		b.WriteString(": ")
	}
	b.WriteString(d.Message)
	if d.Snippet != "" {
		b.WriteString("\n")
		b.WriteString(strings.TrimPrefix(d.Snippet, "\n"))
	}
	return b.String()
}

// List collects diagnostics.
type List []Diagnostic

// Errorf adds an error.
func (l *List) Errorf(pos Pos, path, format string, args ...any) {
	*l = append(*l, Diagnostic{Pos: pos, Severity: Error, Path: path, Message: fmt.Sprintf(format, args...)})
}

// Warnf adds a warning.
func (l *List) Warnf(pos Pos, path, format string, args ...any) {
	*l = append(*l, Diagnostic{Pos: pos, Severity: Warning, Path: path, Message: fmt.Sprintf(format, args...)})
}

// HasErrors reports whether any diagnostic is an error.
func (l List) HasErrors() bool {
	return slices.ContainsFunc(l, func(d Diagnostic) bool { return d.Severity == Error })
}

// Count returns the number of errors and warnings.
func (l List) Count() (errors, warnings int) {
	for _, d := range l {
		if d.Severity == Error {
			errors++
		} else {
			warnings++
		}
	}
	return errors, warnings
}

// Sort orders the list by file, line and column.
func (l List) Sort() {
	slices.SortStableFunc(l, func(a, b Diagnostic) int {
		if c := strings.Compare(a.Pos.File, b.Pos.File); c != 0 {
			return c
		}
		if a.Pos.Line != b.Pos.Line {
			return a.Pos.Line - b.Pos.Line
		}
		return a.Pos.Column - b.Pos.Column
	})
}

// Err returns the list as an error when it has errors, else nil.
func (l List) Err() error {
	if !l.HasErrors() {
		return nil
	}
	return &ListError{List: l}
}

// ListError is a list of diagnostics with at least one error, as an error.
type ListError struct {
	List List
}

func (e *ListError) Error() string {
	var b strings.Builder
	n, _ := e.List.Count()
	fmt.Fprintf(&b, "%d error(s):", n)
	for _, d := range e.List {
		if d.Severity == Error {
			b.WriteString("\n")
			b.WriteString(d.String())
		}
	}
	return b.String()
}
