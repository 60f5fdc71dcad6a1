package cli

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"
)

// ExitError carries an exit code for Main, after the command has already
// said what went wrong.
type ExitError struct {
	Code int
}

func (e *ExitError) Error() string { return fmt.Sprintf("exit status %d", e.Code) }

// env is what commands share: the output writers.
type env struct {
	stdout, stderr io.Writer
	getenv         func(string) string
}

// Main runs the command line with args (without the program name) and
// returns the process exit code.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	e := &env{stdout: stdout, stderr: stderr, getenv: getenv}
	root := e.root()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	markRunErrors(root)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return 0
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		return ee.Code
	}
	var ran ranError
	if !errors.As(err, &ran) {
		// cobra refused the command line before running anything: an
		// unknown command, a missing required flag, the wrong number of
		// arguments.
		fmt.Fprintf(stderr, "followflow: %v\nrun '%s --help' for usage\n", err, cmd.CommandPath())
		return 2
	}
	fmt.Fprintf(stderr, "followflow: %v\n", err)
	if isUsage(err) {
		return 2
	}
	return 1
}

type usageError struct{ error }

func isUsage(err error) bool {
	var u usageError
	return errors.As(err, &u)
}

// ranError marks an error a command returned once it ran, as opposed to
// one cobra returned about the command line before running it.
type ranError struct{ error }

func (e ranError) Unwrap() error { return e.error }

// markRunErrors wraps the RunE of c and every command under it so that
// their errors are ranErrors.
func markRunErrors(c *cobra.Command) {
	if run := c.RunE; run != nil {
		c.RunE = func(c *cobra.Command, args []string) error {
			if err := run(c, args); err != nil {
				return ranError{err}
			}
			return nil
		}
	}
	for _, sub := range c.Commands() {
		markRunErrors(sub)
	}
}

func (e *env) root() *cobra.Command {
	root := &cobra.Command{
		Use:   "followflow",
		Short: "Keep the right people following CRM opportunities and contacts",
		Long: `followflow matches CRM events against YAML workflows and runs idempotent
Add/Remove Follower actions. Dry-run them with simulate before turning them on.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageError{fmt.Errorf("%w\nrun '%s --help' for usage", err, c.CommandPath())}
	})
	root.AddCommand(e.validateCmd(), e.simulateCmd(), e.benchCmd())
	e.addServiceCommands(root)
	return root
}
