package cli

import (
	"fmt"
	"io"
	"os"
	"time"

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
is reported with its number and reason, and nothing is pushed.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			name, in := "stdin", io.Reader(c.InOrStdin())
			if len(args) == 1 && args[0] != "-" {
				f, err := os.Open(args[0])
				if err != nil {
					return err
				}
				defer f.Close()
				name, in = args[0], f
			}
			lines, err := event.ReadLines(name, in, time.Time{})
			if err != nil {
				fmt.Fprintln(e.stderr, err)
				fmt.Fprintln(e.stderr, "nothing pushed")
				return &ExitError{Code: 1}
			}
			b, err := bf.open(c.Context())
			if err != nil {
				return err
			}
			defer b.Close()
			for start := 0; start < len(lines); start += pushChunk {
				chunk := lines[start:min(start+pushChunk, len(lines))]
				evs := make([]*event.Event, len(chunk))
				bodies := make([][]byte, len(chunk))
				for i, l := range chunk {
					evs[i], bodies[i] = l.Event, l.Raw
				}
				if err := b.Queue.Push(c.Context(), evs, bodies); err != nil {
					return fmt.Errorf("pushing lines %d-%d of %s (%d pushed before): %w", chunk[0].Number, chunk[len(chunk)-1].Number, name, start, err)
				}
			}
			fmt.Fprintf(e.stdout, "pushed %d event(s) to %s\n", len(lines), b.Name)
			return nil
		},
	}
	bf.register(c.Flags())
	return c
}
