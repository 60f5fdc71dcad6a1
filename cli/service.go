package cli

import "github.com/spf13/cobra"

// addServiceCommands adds the commands that need a durable backend.
func (e *env) addServiceCommands(root *cobra.Command) {}
