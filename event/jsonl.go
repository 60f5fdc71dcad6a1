package event

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// LineError is a JSONL input with bad lines: every bad line with its
// number and reason.
type LineError struct {
	File  string
	Lines []BadLine
}

// BadLine is one bad line of a JSONL input.
type BadLine struct {
	Line int
	Err  error
}

func (e *LineError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d invalid line(s)", e.File, len(e.Lines))
	for _, l := range e.Lines {
		fmt.Fprintf(&b, "\n%s:%d: %v", e.File, l.Line, l.Err)
	}
	return b.String()
}

// Line is one decoded line of a JSONL input.
type Line struct {
	// Number is the 1-based line number.
	Number int
	Event  *Event
	// Raw is the line as read, without the newline and surrounding
	// space; EachLine reuses its memory for the next line.
	Raw []byte
}

// EachLine decodes a JSONL input: one event per line, blank lines skipped.
// It hands each good line to fn as it is read, so that an input of any
// length takes the memory of one line; Line.Raw is valid only until fn
// returns. fn may be nil (a check of the input). An error of fn stops the
// reading and is returned as it is; otherwise, after the last line, every
// bad line is returned in a *LineError. To refuse a whole input before
// acting on any line, call EachLine twice: first with a nil fn. pushedAt
// fills a missing occurred_at (pass the zero time to keep it zero).
func EachLine(name string, r io.Reader, pushedAt time.Time, fn func(Line) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), MaxSize+1)
	var bad []BadLine
	n := 0
	for n = 1; sc.Scan(); n++ {
		raw := bytes.TrimSpace(sc.Bytes())
		if len(raw) == 0 {
			continue
		}
		ev, err := Decode(raw, pushedAt)
		if err != nil {
			bad = append(bad, BadLine{Line: n, Err: err})
			continue
		}
		if fn != nil {
			if err := fn(Line{Number: n, Event: ev, Raw: raw}); err != nil {
				return err
			}
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			bad = append(bad, BadLine{Line: n, Err: fmt.Errorf("line longer than %d bytes", MaxSize)})
		} else {
			return fmt.Errorf("reading %s: %w", name, err)
		}
	}
	if len(bad) > 0 {
		return &LineError{File: name, Lines: bad}
	}
	return nil
}
