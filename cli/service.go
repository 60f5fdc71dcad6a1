package cli

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/followflow/followflow/backend"
	"github.com/followflow/followflow/record"
	"github.com/followflow/followflow/store"
)

// backendFlags are the flags of every command that opens a backend.
type backendFlags struct {
	db, redisURL, prefix string
	partitions           int
	leaseTTL             time.Duration
}

func (f *backendFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.db, "db", backend.DefaultDBPath, "SQLite database file (the embedded default backend)")
	fs.StringVar(&f.redisURL, "redis", "", "Redis URL (redis://host:port/db): store and queue in Redis instead of SQLite")
	fs.StringVar(&f.prefix, "prefix", "followflow", "Redis key prefix")
	fs.IntVar(&f.partitions, "partitions", 16, "queue partitions (the same for every worker and producer)")
	fs.DurationVar(&f.leaseTTL, "lease-ttl", 10*time.Second, "partition lease duration: how soon a dead worker's partitions are taken over")
}

func (f *backendFlags) open(ctx context.Context) (*backend.Backend, error) {
	return backend.Open(ctx, backend.Options{
		RedisURL: f.redisURL, DBPath: f.db, Prefix: f.prefix,
		Partitions: f.partitions, LeaseTTL: f.leaseTTL,
	})
}

// envDefaults sets every flag the command line did not set from its
// FOLLOWFLOW_* environment variable (--lease-ttl: FOLLOWFLOW_LEASE_TTL).
func (e *env) envDefaults(c *cobra.Command) error {
	var err error
	c.Flags().VisitAll(func(f *pflag.Flag) {
		if f.Changed || err != nil {
			return
		}
		name := "FOLLOWFLOW_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if f.Name == "redis" {
			name = "FOLLOWFLOW_REDIS_URL"
		}
		if v := e.getenv(name); v != "" {
			if serr := f.Value.Set(v); serr != nil {
				err = usageError{fmt.Errorf("%s=%q: %w", name, v, serr)}
			}
		}
	})
	return err
}

// addServiceCommands adds the commands that need a durable backend.
func (e *env) addServiceCommands(root *cobra.Command) {
	root.PersistentPreRunE = func(c *cobra.Command, _ []string) error { return e.envDefaults(c) }
	root.AddCommand(e.runCmd(), e.pushCmd(), e.loadCmd(), e.exportCmd(), e.followersCmd(), e.historyCmd(), e.dlqCmd())
}

// resolveAccount returns the account flag, or the store's only account.
func resolveAccount(ctx context.Context, st store.Store, flag string) (string, error) {
	if flag != "" {
		return flag, nil
	}
	accounts, err := st.Accounts(ctx)
	if err != nil {
		return "", err
	}
	switch len(accounts) {
	case 1:
		return accounts[0].ID, nil
	case 0:
		return "", fmt.Errorf("the store has no accounts yet: load a data file first (followflow load FILE)")
	}
	ids := make([]string, len(accounts))
	for i, a := range accounts {
		ids[i] = a.ID
	}
	return "", usageError{fmt.Errorf("the store has %d accounts (%s): choose one with --account", len(ids), strings.Join(ids, ", "))}
}

func (e *env) loadCmd() *cobra.Command {
	var bf backendFlags
	c := &cobra.Command{
		Use:   "load FILE",
		Short: "Import a data file (YAML or JSON) into the store",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			ds, err := readData(args[0])
			if err != nil {
				return err
			}
			b, err := bf.open(c.Context())
			if err != nil {
				return err
			}
			defer b.Close()
			before, err := followersBefore(c.Context(), b.Store, ds)
			if err != nil {
				return fmt.Errorf("loading %s: %w", args[0], err)
			}
			if err := b.Store.Load(c.Context(), ds); err != nil {
				return fmt.Errorf("loading %s: %w", args[0], err)
			}
			changes := importHistory(ds, before, "imported from "+args[0], time.Now())
			n := 0
			for _, cs := range changes {
				if err := b.Store.Commit(c.Context(), cs); err != nil {
					return fmt.Errorf("loading %s: the records are loaded, but recording their follower changes in history failed: %w", args[0], err)
				}
				n += len(cs.History)
			}
			fmt.Fprintf(e.stdout, "loaded %d account(s), %d user(s), %d opportunit(ies), %d contact(s) into %s; %d follower change(s) in history\n",
				len(ds.Accounts), len(ds.Users), len(ds.Opportunities), len(ds.Contacts), b.Name, n)
			return nil
		},
	}
	bf.register(c.Flags())
	return c
}

// recordKey names a record of the store.
type recordKey struct {
	kind        record.Kind
	account, id string
}

// followersBefore returns the followers of ds's records that the store
// holds already (none for a record it does not hold).
func followersBefore(ctx context.Context, st store.Store, ds *record.Dataset) (map[recordKey][]string, error) {
	out := map[recordKey][]string{}
	// keep records what a read found; a record not there has none.
	keep := func(k recordKey, followers []string, err error) error {
		if err == nil {
			out[k] = followers
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		return nil
	}
	for _, o := range ds.Opportunities {
		stored, err := st.Opportunity(ctx, o.AccountID, o.ID)
		if err := keep(recordKey{record.KindOpportunity, o.AccountID, o.ID}, stored.Followers, err); err != nil {
			return nil, err
		}
	}
	for _, c := range ds.Contacts {
		stored, err := st.Contact(ctx, c.AccountID, c.ID)
		if err := keep(recordKey{record.KindContact, c.AccountID, c.ID}, stored.Followers, err); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// importHistory returns, per account, a changeset of history alone: the
// follower changes that loading ds made to each record (SPEC §1, rule 6:
// import is a path like any other), the users it removed, then the ones it
// added, with step "load" and detail saying from where.
func importHistory(ds *record.Dataset, before map[recordKey][]string, detail string, at time.Time) []*store.Changeset {
	byAccount := map[string]*store.Changeset{}
	var out []*store.Changeset
	add := func(k recordKey, now []string) {
		was := before[k]
		entry := func(user string, outcome record.Outcome) {
			cs := byAccount[k.account]
			if cs == nil {
				cs = &store.Changeset{AccountID: k.account, ProcessedAt: at}
				byAccount[k.account] = cs
				out = append(out, cs)
			}
			cs.History = append(cs.History, record.HistoryEntry{
				AccountID: k.account, Kind: k.kind, RecordID: k.id, At: at,
				Step: "load", UserID: user, Outcome: outcome, Detail: detail,
			})
		}
		for _, u := range was {
			if !slices.Contains(now, u) {
				entry(u, record.Removed)
			}
		}
		for _, u := range now {
			if !slices.Contains(was, u) {
				entry(u, record.Added)
			}
		}
	}
	for _, o := range ds.Opportunities {
		add(recordKey{record.KindOpportunity, o.AccountID, o.ID}, o.Followers)
	}
	for _, c := range ds.Contacts {
		add(recordKey{record.KindContact, c.AccountID, c.ID}, c.Followers)
	}
	return out
}

func (e *env) exportCmd() *cobra.Command {
	var bf backendFlags
	c := &cobra.Command{
		Use:   "export FILE",
		Short: "Write the store's records to a data file (YAML or JSON by extension)",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			b, err := bf.open(c.Context())
			if err != nil {
				return err
			}
			defer b.Close()
			ds, err := b.Store.Export(c.Context())
			if err != nil {
				return err
			}
			if err := writeData(args[0], ds); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "exported %d account(s), %d user(s), %d opportunit(ies), %d contact(s) to %s\n",
				len(ds.Accounts), len(ds.Users), len(ds.Opportunities), len(ds.Contacts), args[0])
			return nil
		},
	}
	bf.register(c.Flags())
	return c
}

// recordFlags name one record with followers.
type recordFlags struct {
	account, opportunity, contact string
}

func (f *recordFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.account, "account", "", "account of the record (default: the store's only account)")
	fs.StringVar(&f.opportunity, "opportunity", "", "opportunity id")
	fs.StringVar(&f.contact, "contact", "", "contact id")
}

// openRecord opens the backend and names the record the flags give: its
// kind, id and account (the store's only account when --account is not
// given). The caller closes the backend.
func openRecord(ctx context.Context, bf *backendFlags, rf *recordFlags) (*backend.Backend, record.Kind, string, string, error) {
	kind, id, err := rf.kindID()
	if err != nil {
		return nil, "", "", "", err
	}
	b, err := bf.open(ctx)
	if err != nil {
		return nil, "", "", "", err
	}
	account, err := resolveAccount(ctx, b.Store, rf.account)
	if err != nil {
		b.Close()
		return nil, "", "", "", err
	}
	return b, kind, id, account, nil
}

func (f *recordFlags) kindID() (record.Kind, string, error) {
	switch {
	case f.opportunity != "" && f.contact != "":
		return "", "", usageError{fmt.Errorf("give --opportunity or --contact, not both")}
	case f.opportunity != "":
		return record.KindOpportunity, f.opportunity, nil
	case f.contact != "":
		return record.KindContact, f.contact, nil
	}
	return "", "", usageError{fmt.Errorf("name the record with --opportunity ID or --contact ID")}
}
