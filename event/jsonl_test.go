package event_test

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/followflow/followflow/event"
)

const goodLine = `{"id":"%s","type":"opportunity.activity","account_id":"acme","occurred_at":"2026-11-03T10:00:00Z","opportunity_id":"opp_1","actor_id":"u_rep"}`

func line(id string) string { return strings.Replace(goodLine, "%s", id, 1) }

// TestEachLine: good lines come in order with their numbers, blank lines
// are skipped, and every bad line is reported, with its number, at the end.
func TestEachLine(t *testing.T) {
	in := strings.Join([]string{line("e1"), "", "not json", line("e2"), `{"id":"e3"}`, line("e4")}, "\n")
	var got []string
	err := event.EachLine("events.jsonl", strings.NewReader(in), time.Time{}, func(l event.Line) error {
		got = append(got, l.Event.ID+"@"+strconv.Itoa(l.Number))
		return nil
	})
	if want := "e1@1 e2@4 e4@6"; strings.Join(got, " ") != want {
		t.Errorf("lines %v, want %s", got, want)
	}
	var le *event.LineError
	if !errors.As(err, &le) || len(le.Lines) != 2 || le.Lines[0].Line != 3 || le.Lines[1].Line != 5 {
		t.Fatalf("error %v, want lines 3 and 5", err)
	}
}

// TestEachLineStops: an error of fn stops the reading and is returned as
// it is.
func TestEachLineStops(t *testing.T) {
	stop := errors.New("stop")
	n := 0
	err := event.EachLine("events.jsonl", strings.NewReader(line("e1")+"\n"+line("e2")+"\nbad"), time.Time{}, func(event.Line) error {
		n++
		return stop
	})
	if err != stop || n != 1 {
		t.Errorf("EachLine: %v after %d lines, want %v after 1", err, n, stop)
	}
}

// TestEachLineTooLong: a line over MaxSize is reported with its number,
// blank lines counted.
func TestEachLineTooLong(t *testing.T) {
	in := line("e1") + "\n\n" + strings.Repeat("x", event.MaxSize+10) + "\n"
	var le *event.LineError
	err := event.EachLine("events.jsonl", strings.NewReader(in), time.Time{}, nil)
	if !errors.As(err, &le) || len(le.Lines) != 1 || le.Lines[0].Line != 3 {
		t.Fatalf("error %v, want line 3 too long", err)
	}
}

// FuzzEachLine: any input is split into lines each either handed over or
// reported, never both, none lost, with increasing numbers.
func FuzzEachLine(f *testing.F) {
	f.Add(line("e1") + "\n\nnot json\n" + line("e2"))
	f.Add("\n\n\r\n")
	f.Add(`{"id":"x"}` + "\n" + strings.Repeat("[", 100))
	f.Fuzz(func(t *testing.T, in string) {
		var numbers []int
		err := event.EachLine("fuzz.jsonl", strings.NewReader(in), time.Time{}, func(l event.Line) error {
			if l.Event == nil {
				t.Fatal("a good line without an event")
			}
			numbers = append(numbers, l.Number)
			return nil
		})
		var le *event.LineError
		if err != nil && !errors.As(err, &le) {
			t.Fatalf("error %v is not a *LineError", err)
		}
		if le != nil {
			for _, b := range le.Lines {
				numbers = append(numbers, b.Line)
			}
		}
		seen := map[int]bool{}
		for _, n := range numbers {
			if n < 1 || seen[n] {
				t.Fatalf("line numbers %v: %d repeated or below 1", numbers, n)
			}
			seen[n] = true
		}
		nonBlank := 0
		for _, l := range strings.Split(in, "\n") {
			if strings.TrimSpace(l) != "" {
				nonBlank++
			}
		}
		if len(numbers) > nonBlank {
			t.Fatalf("%d lines handed or reported, %d not blank", len(numbers), nonBlank)
		}
	})
}
