package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/followflow/followflow/event"
	"github.com/followflow/followflow/record"
	"github.com/followflow/followflow/simulate"
	"github.com/followflow/followflow/trace"
	"github.com/followflow/followflow/workflow"
)

func (e *env) simulateCmd() *cobra.Command {
	var (
		workflows                  []string
		dataFile, eventsFile       string
		nowFlag, format, stateFile string
	)
	c := &cobra.Command{
		Use:   "simulate --workflows PATH --data FILE --events FILE",
		Short: "Dry-run workflows against data and events; writes nothing",
		Long: `Dry run: loads the data into memory, processes the events in order exactly
as the worker would, and reports per event which workflows matched (and why
others did not), each condition with its result and each follower change.
Before each event the stale scanner runs at that event's occurred_at, and
once more at the end at --now (default: the last event's time).`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if format != "text" && format != "json" {
				return usageError{fmt.Errorf("--format must be text or json, not %q", format)}
			}
			var now time.Time
			if nowFlag != "" {
				t, err := time.Parse(time.RFC3339, nowFlag)
				if err != nil {
					return usageError{fmt.Errorf("--now: %q is not an RFC 3339 time", nowFlag)}
				}
				now = t
			}
			data, err := readData(dataFile)
			if err != nil {
				return err
			}
			set, diags := workflow.Load(workflows, workflow.Options{Data: data})
			if diags.HasErrors() {
				e.printDiags(diags, "text", e.stderr)
				return fmt.Errorf("workflows have errors; nothing simulated")
			}
			for _, d := range diags {
				fmt.Fprintln(e.stderr, d.String())
			}
			in, err := openEvents(eventsFile, c.InOrStdin())
			if err != nil {
				return err
			}
			defer in.Close()
			events := func(yield func(*event.Event, error) bool) {
				err := in.each(func(l event.Line) error {
					if !yield(l.Event, nil) {
						return errStopped
					}
					return nil
				})
				if err != nil && !errors.Is(err, errStopped) {
					yield(nil, err)
				}
			}
			emit := e.textTrace
			if format == "json" {
				enc := json.NewEncoder(e.stdout)
				emit = func(t *trace.Event) error { return enc.Encode(t) }
			}
			out, err := simulate.Run(c.Context(), simulate.Input{Workflows: set, Data: data, Events: events, Now: now}, emit)
			if err != nil {
				return err
			}
			if format == "text" {
				e.textDiff(out.Before, out.After)
			}
			if stateFile != "" {
				if err := writeData(stateFile, out.After); err != nil {
					return err
				}
			}
			return nil
		},
	}
	fl := c.Flags()
	fl.StringSliceVar(&workflows, "workflows", nil, "workflow files or directories (repeat or comma-separate)")
	fl.StringVar(&dataFile, "data", "", "data file (YAML or JSON)")
	fl.StringVar(&eventsFile, "events", "", "events file (JSON lines; - for standard input)")
	fl.StringVar(&nowFlag, "now", "", "time of the final stale scan (RFC 3339; default: the last event's time)")
	fl.StringVar(&format, "format", "text", "output: text for people, json for tools (one object per event)")
	fl.StringVar(&stateFile, "state-out", "", "write the final records to this data file (YAML or JSON by extension)")
	for _, name := range []string{"workflows", "data", "events"} {
		_ = c.MarkFlagRequired(name)
	}
	return c
}

// errStopped ends a reading of events whose consumer stopped early.
var errStopped = errors.New("stopped")

func writeData(name string, d *record.Dataset) error {
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	if err := record.WriteDataFile(name, f, d); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", name, err)
	}
	return f.Close()
}

// textTrace prints one event's trace for people.
func (e *env) textTrace(t *trace.Event) error {
	w := e.stdout
	subject := t.OpportunityID
	if subject == "" {
		subject = t.ContactID
	}
	fmt.Fprintf(w, "%s  %s  %s  %s\n", t.EventID, t.Type, subject, t.OccurredAt)
	if t.Duplicate {
		fmt.Fprintln(w, "  = duplicate event id: already processed, nothing ran")
	}
	if len(t.Workflows) == 0 && !t.Duplicate {
		fmt.Fprintln(w, "  (no workflow of this account has this trigger)")
	}
	for _, wf := range t.Workflows {
		if !wf.Matched {
			fmt.Fprintf(w, "  - %s: not matched (%s)\n", wf.ID, wf.Reason)
			continue
		}
		fmt.Fprintf(w, "  * %s: matched\n", wf.ID)
		printSteps(w, wf.Steps, "      ")
	}
	fmt.Fprintln(w)
	return nil
}

func printSteps(w io.Writer, steps []trace.Step, indent string) {
	for _, s := range steps {
		switch {
		case s.Expr != "":
			res := "false"
			if s.Result != nil && *s.Result {
				res = "true"
			}
			line := fmt.Sprintf("%s%s %s -> %s", indent, s.Kind, s.Expr, res)
			if s.Error != "" {
				line += " (error: " + s.Error + ")"
			}
			if s.Kind == "condition" && res == "false" {
				line += "; the remaining steps do not run"
			}
			fmt.Fprintln(w, line)
			if s.Kind == "if" {
				if s.Branch == "" {
					fmt.Fprintf(w, "%s  (no branch to run)\n", indent)
				} else {
					fmt.Fprintf(w, "%s  %s:\n", indent, s.Branch)
					printSteps(w, s.Steps, indent+"    ")
				}
			}
		case s.Kind == "find_opportunity":
			if s.OpportunityID == "" {
				fmt.Fprintf(w, "%sfind_opportunity: none found; no opportunity in context\n", indent)
			} else {
				fmt.Fprintf(w, "%sfind_opportunity: %s\n", indent, s.OpportunityID)
			}
		default:
			label := s.Kind
			if s.Name != "" {
				label += fmt.Sprintf(" %q", s.Name)
			}
			if s.Outcome != "" {
				fmt.Fprintf(w, "%s%s: %s (no opportunity in context)\n", indent, label, s.Outcome)
				continue
			}
			parts := make([]string, 0, len(s.Outcomes))
			for _, o := range s.Outcomes {
				parts = append(parts, diffMark(o))
			}
			fmt.Fprintf(w, "%s%s: %s\n", indent, label, strings.Join(parts, "  "))
		}
	}
}

// diffMark writes an outcome as a follower diff: +added, -removed,
// =unchanged, !refused.
func diffMark(o trace.UserOutcome) string {
	switch o.Outcome {
	case record.Added:
		return "+" + o.User
	case record.Removed:
		return "-" + o.User
	case record.AlreadyFollowing:
		return "=" + o.User + " already following"
	case record.NotFollowing:
		return "=" + o.User + " not following"
	case record.InactiveUser:
		return "!" + o.User + " inactive"
	case record.LimitReached:
		return "!" + o.User + " limit reached"
	case record.UnknownUser:
		return "!" + o.User + " unknown user"
	}
	return "?" + o.User + " " + string(o.Outcome)
}

// textDiff prints each record's followers before and after.
func (e *env) textDiff(before, after *record.Dataset) {
	type key struct{ account, id string }
	old := map[key][]string{}
	for _, o := range before.Opportunities {
		old[key{o.AccountID, o.ID}] = o.Followers
	}
	w := e.stdout
	fmt.Fprintln(w, "Follower changes:")
	n := 0
	for _, o := range after.Opportunities {
		prev := old[key{o.AccountID, o.ID}]
		if slices.Equal(prev, o.Followers) {
			continue
		}
		n++
		var parts []string
		for _, f := range o.Followers {
			if !slices.Contains(prev, f) {
				parts = append(parts, "+"+f)
			}
		}
		for _, f := range prev {
			if !slices.Contains(o.Followers, f) {
				parts = append(parts, "-"+f)
			}
		}
		fmt.Fprintf(w, "  opportunity %s (%s): %s  => [%s]\n", o.ID, o.AccountID, strings.Join(parts, " "), strings.Join(o.Followers, ", "))
	}
	if n == 0 {
		fmt.Fprintln(w, "  none")
	}
}
