package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/followflow/followflow/diag"
	"github.com/followflow/followflow/record"
	"github.com/followflow/followflow/workflow"
)

func (e *env) validateCmd() *cobra.Command {
	var dataFile, format string
	c := &cobra.Command{
		Use:   "validate PATH... [--data FILE]",
		Short: "Check workflow files; every error and warning with file:line:col",
		Long: `Check workflow files and directories. Every problem is reported with
file:line:column and a field path, not just the first. Exit 1 on any error;
warnings (a follower action without opportunity context, a user or account
not in --data) exit 0.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			var data *record.Dataset
			if dataFile != "" {
				d, err := readData(dataFile)
				if err != nil {
					return err
				}
				data = d
			}
			set, diags := workflow.Load(args, workflow.Options{Data: data})
			if err := e.printDiags(diags, format, e.stdout); err != nil {
				return err
			}
			errs, warns := diags.Count()
			if format != "json" {
				fmt.Fprintf(e.stdout, "%d valid workflow(s), %d error(s), %d warning(s)\n", set.Len(), errs, warns)
			}
			if errs > 0 {
				return &ExitError{Code: 1}
			}
			return nil
		},
	}
	c.Flags().StringVar(&dataFile, "data", "", "data file (YAML or JSON) to check users and accounts against")
	c.Flags().StringVar(&format, "format", "text", "output format: text or json")
	return c
}

func (e *env) printDiags(diags diag.List, format string, w io.Writer) error {
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		for _, d := range diags {
			if err := enc.Encode(d); err != nil {
				return err
			}
		}
	case "text", "":
		for _, d := range diags {
			fmt.Fprintln(w, d.String())
		}
	default:
		return usageError{fmt.Errorf("--format must be text or json, not %q", format)}
	}
	return nil
}

func readData(name string) (*record.Dataset, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return record.ReadDataFile(name, f)
}
