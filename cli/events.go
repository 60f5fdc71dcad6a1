package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/followflow/followflow/event"
)

// eventsInput is a JSONL events input that can be read twice: first to
// check every line, so that a bad line anywhere refuses the whole input
// before anything is done with it; then to use its events one at a time,
// so that an input of any length takes the memory of one line. A file is
// read where it is; standard input or a pipe is first copied into a
// temporary file.
type eventsInput struct {
	name string
	f    *os.File
	temp bool
}

// openEvents opens the events of name ("-" for in) and checks every line:
// the error is an *event.LineError listing each bad line.
func openEvents(name string, in io.Reader) (*eventsInput, error) {
	ei := &eventsInput{name: name}
	if name == "-" {
		ei.name = "stdin"
	} else {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		ei.f = f
		if _, err := f.Seek(0, io.SeekCurrent); err != nil { // a pipe
			in, ei.f = f, nil
			defer f.Close()
		}
	}
	if ei.f == nil {
		if err := ei.spool(in); err != nil {
			return nil, err
		}
	}
	if err := event.EachLine(ei.name, ei.f, time.Time{}, nil); err != nil {
		ei.Close()
		return nil, err
	}
	return ei, nil
}

// spool copies in into a temporary file, removed by Close.
func (ei *eventsInput) spool(in io.Reader) error {
	f, err := os.CreateTemp("", "followflow-events-*.jsonl")
	if err != nil {
		return fmt.Errorf("keeping %s to read it twice: %w", ei.name, err)
	}
	ei.f, ei.temp = f, true
	_, err = io.Copy(f, in)
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		ei.Close()
		return fmt.Errorf("keeping %s to read it twice: %w", ei.name, err)
	}
	return nil
}

// each reads the events again, handing each line to fn (Line.Raw valid
// until fn returns); an error of fn stops it and is returned as it is.
func (ei *eventsInput) each(fn func(event.Line) error) error {
	if _, err := ei.f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("reading %s again: %w", ei.name, err)
	}
	err := event.EachLine(ei.name, ei.f, time.Time{}, fn)
	var le *event.LineError
	if errors.As(err, &le) {
		return fmt.Errorf("%w (did %s change while it was read?)", err, ei.name)
	}
	return err
}

// Close closes the input and removes its temporary file.
func (ei *eventsInput) Close() error {
	if ei.f == nil {
		return nil
	}
	err := ei.f.Close()
	if ei.temp {
		os.Remove(ei.f.Name())
	}
	ei.f = nil
	return err
}
