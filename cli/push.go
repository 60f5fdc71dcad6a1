package cli

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/followflow/followflow/event"
)

// pushChunk is how many events one Queue.Push carries.
const pushChunk = 500

func (e *env) pushCmd() *cobra.Command {
	var bf backendFlags
	c := &cobra.Command{
		Use:   "push [FILE|-]",
		Short: "Validate JSONL events and push them onto the queue",
		Long: `Reads events, one JSON object per line, from FILE or standard input (- or
no argument). Every line is validated first: if any is invalid, each bad line
is reported with its number and reason, and nothing is pushed. Then the
events are read again and pushed in chunks, so that a file of any length
takes little memory (standard input is first copied into a temporary file).`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			name := "-"
			if len(args) == 1 {
				name = args[0]
			}
			in, err := openEvents(name, c.InOrStdin())
			var le *event.LineError
			if errors.As(err, &le) {
				fmt.Fprintln(e.stderr, err)
				fmt.Fprintln(e.stderr, "nothing pushed")
				return &ExitError{Code: 1}
			}
			if err != nil {
				return err
			}
			defer in.Close()
			b, err := bf.open(c.Context())
			if err != nil {
				return err
			}
			defer b.Close()
			// The events go in chunks, read one chunk at a time.
			var (
				evs         []*event.Event
				bodies      [][]byte
				first, last int // the chunk's line numbers
				pushed      int
			)
			flush := func() error {
				if len(evs) == 0 {
					return nil
				}
				if err := b.Queue.Push(c.Context(), evs, bodies); err != nil {
					return fmt.Errorf("pushing lines %d-%d of %s (%d pushed before): %w", first, last, in.name, pushed, err)
				}
				pushed += len(evs)
				evs, bodies = nil, nil
				return nil
			}
			err = in.each(func(l event.Line) error {
				if len(evs) == 0 {
					first = l.Number
					evs, bodies = make([]*event.Event, 0, pushChunk), make([][]byte, 0, pushChunk)
				}
				evs, bodies, last = append(evs, l.Event), append(bodies, bytes.Clone(l.Raw)), l.Number
				if len(evs) == pushChunk {
					return flush()
				}
				return nil
			})
			if err == nil {
				err = flush()
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "pushed %d event(s) to %s\n", pushed, b.Name)
			return nil
		},
	}
	bf.register(c.Flags())
	return c
}
