package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/followflow/followflow/engine"
	"github.com/followflow/followflow/record"
	"github.com/followflow/followflow/store"
)

func (e *env) followersCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "followers add|remove|list",
		Short: "Change or list a record's followers by hand, as a given user",
		Long: `Manual follower changes on an opportunity or contact, made as the acting
user --as under the access rules: the actor must be allowed to manage the
record's followers (an admin, a user not restricted to assigned data, the
owner or a follower). The follower rules apply as for workflows, and every
change is recorded in the record's history with the actor.`,
	}
	c.AddCommand(e.followersChangeCmd("add"), e.followersChangeCmd("remove"), e.followersListCmd())
	return c
}

func (e *env) followersChangeCmd(verb string) *cobra.Command {
	var (
		bf    backendFlags
		rf    recordFlags
		users []string
		actor string
	)
	c := &cobra.Command{
		Use:   verb + " (--opportunity ID | --contact ID) --user U [--user U...] --as ACTOR",
		Short: strings.ToUpper(verb[:1]) + verb[1:] + " followers (by id or email)",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			b, kind, id, account, err := openRecord(c.Context(), &bf, &rf)
			if err != nil {
				return err
			}
			defer b.Close()
			eng, err := engine.New(engine.Config{Store: b.Store}, nil)
			if err != nil {
				return err
			}
			out, err := eng.ChangeFollowers(c.Context(), engine.ManualChange{
				AccountID: account, Kind: kind, RecordID: id, ActorID: actor, Users: users, Remove: verb == "remove",
			})
			var denied *engine.DeniedError
			switch {
			case errors.As(err, &denied):
				fmt.Fprintf(e.stderr, "refused: %s\n", denied.Reason)
				return &ExitError{Code: 1}
			case errors.Is(err, store.ErrNotFound):
				return fmt.Errorf("%w in account %q", err, account)
			case err != nil:
				return err
			}
			parts := make([]string, len(out))
			for i, o := range out {
				parts[i] = diffMark(o)
			}
			fmt.Fprintf(e.stdout, "%s %s: %s\n", kind, id, strings.Join(parts, "  "))
			return nil
		},
	}
	bf.register(c.Flags())
	rf.register(c.Flags())
	c.Flags().StringArrayVar(&users, "user", nil, "user id or email (repeat for several)")
	c.Flags().StringVar(&actor, "as", "", "id of the user making the change")
	_ = c.MarkFlagRequired("user")
	_ = c.MarkFlagRequired("as")
	return c
}

func (e *env) followersListCmd() *cobra.Command {
	var (
		bf     backendFlags
		rf     recordFlags
		format string
	)
	c := &cobra.Command{
		Use:   "list (--opportunity ID | --contact ID)",
		Short: "List a record's followers in the order they were added",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			ctx := c.Context()
			b, kind, id, account, err := openRecord(ctx, &bf, &rf)
			if err != nil {
				return err
			}
			defer b.Close()
			var followers []string
			if kind == record.KindOpportunity {
				o, err := b.Store.Opportunity(ctx, account, id)
				if err != nil {
					return fmt.Errorf("opportunity %q of account %q: %w", id, account, err)
				}
				followers = o.Followers
			} else {
				ct, err := b.Store.Contact(ctx, account, id)
				if err != nil {
					return fmt.Errorf("contact %q of account %q: %w", id, account, err)
				}
				followers = ct.Followers
			}
			if format == "json" {
				if followers == nil {
					followers = []string{}
				}
				return json.NewEncoder(e.stdout).Encode(map[string]any{"account_id": account, "kind": kind, "id": id, "followers": followers})
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintf(tw, "%s %s: %d follower(s)\n", kind, id, len(followers))
			for _, f := range followers {
				u, err := b.Store.User(ctx, account, f)
				switch {
				case err == nil:
					fmt.Fprintf(tw, "  %s\t%s\t%s\n", u.ID, u.Name, u.Email)
				default:
					fmt.Fprintf(tw, "  %s\t(user not found)\t\n", f)
				}
			}
			return tw.Flush()
		},
	}
	bf.register(c.Flags())
	rf.register(c.Flags())
	c.Flags().StringVar(&format, "format", "text", "text or json")
	return c
}

func (e *env) historyCmd() *cobra.Command {
	var (
		bf     backendFlags
		rf     recordFlags
		format string
	)
	c := &cobra.Command{
		Use:   "history (--opportunity ID | --contact ID)",
		Short: "A record's follower history: who or which workflow, which event, when, outcome",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			b, kind, id, account, err := openRecord(c.Context(), &bf, &rf)
			if err != nil {
				return err
			}
			defer b.Close()
			h, err := b.Store.History(c.Context(), account, kind, id)
			if err != nil {
				return err
			}
			if format == "json" {
				enc := json.NewEncoder(e.stdout)
				for _, entry := range h {
					if err := enc.Encode(entry); err != nil {
						return err
					}
				}
				return nil
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "SEQ\tAT\tBY\tEVENT\tSTEP\tUSER\tOUTCOME\tDETAIL")
			for _, entry := range h {
				by := "workflow " + entry.WorkflowID
				switch {
				case entry.ActorID != "":
					by = "user " + entry.ActorID
				case entry.WorkflowID == "":
					by = "load" // an import
				}
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", entry.Seq, entry.At.UTC().Format(time.RFC3339),
					by, dash(entry.EventID), dash(entry.Step), dash(entry.UserID), entry.Outcome, entry.Detail)
			}
			if len(h) == 0 {
				fmt.Fprintf(tw, "(no history for %s %s)\n", kind, id)
			}
			return tw.Flush()
		},
	}
	bf.register(c.Flags())
	rf.register(c.Flags())
	c.Flags().StringVar(&format, "format", "text", "text or json (one entry per line)")
	return c
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func (e *env) dlqCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "dlq list|replay|purge",
		Short: "The dead-letter queue: messages that could not be processed, with why",
	}
	var bf backendFlags
	var format string
	list := &cobra.Command{
		Use:   "list",
		Short: "List dead letters, oldest first",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			b, err := bf.open(c.Context())
			if err != nil {
				return err
			}
			defer b.Close()
			dls, err := b.Queue.DeadLetters(c.Context(), 0)
			if err != nil {
				return err
			}
			if format == "json" {
				enc := json.NewEncoder(e.stdout)
				for _, d := range dls {
					if err := enc.Encode(struct {
						ID         string    `json:"id"`
						Reason     string    `json:"reason"`
						Partition  int       `json:"partition"`
						Deliveries int       `json:"deliveries"`
						FailedAt   time.Time `json:"failed_at"`
						Body       string    `json:"body"`
					}{d.ID, d.Reason, d.Partition, d.Deliveries, d.FailedAt, string(d.Body)}); err != nil {
						return err
					}
				}
				return nil
			}
			for _, d := range dls {
				fmt.Fprintf(e.stdout, "%s  partition %d  %s  %s\n  body: %s\n", d.ID, d.Partition, d.FailedAt.UTC().Format(time.RFC3339), d.Reason, d.Body)
			}
			fmt.Fprintf(e.stdout, "%d dead letter(s)\n", len(dls))
			return nil
		},
	}
	list.Flags().StringVar(&format, "format", "text", "text or json")
	bf.register(list.Flags())
	mk := func(verb, past, short string, do func(b *backendFlags, c *cobra.Command, ids []string) (int, error)) *cobra.Command {
		var bf backendFlags
		cmd := &cobra.Command{
			Use:   verb + " [ID...]",
			Short: short,
			RunE: func(c *cobra.Command, ids []string) error {
				n, err := do(&bf, c, ids)
				if err != nil {
					return err
				}
				fmt.Fprintf(e.stdout, "%s %d dead letter(s)\n", past, n)
				return nil
			},
		}
		bf.register(cmd.Flags())
		return cmd
	}
	replay := mk("replay", "replayed", "Push dead letters (all, or the given ids) back onto the queue", func(bf *backendFlags, c *cobra.Command, ids []string) (int, error) {
		b, err := bf.open(c.Context())
		if err != nil {
			return 0, err
		}
		defer b.Close()
		return b.Queue.Replay(c.Context(), ids)
	})
	purge := mk("purge", "purged", "Delete dead letters (all, or the given ids)", func(bf *backendFlags, c *cobra.Command, ids []string) (int, error) {
		b, err := bf.open(c.Context())
		if err != nil {
			return 0, err
		}
		defer b.Close()
		return b.Queue.Purge(c.Context(), ids)
	})
	c.AddCommand(list, replay, purge)
	return c
}
