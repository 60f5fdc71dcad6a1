package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/followflow/followflow/engine"
	"github.com/followflow/followflow/record"
	"github.com/followflow/followflow/store"
	"github.com/followflow/followflow/store/memory"
)

// Stores the stale benchmark runs on.
const (
	StoreMemory = "memory"
	StoreSQLite = "sqlite"
	StoreRedis  = "redis"
)

// Defaults of StaleConfig.
const (
	DefaultStale         = 1000
	DefaultStaleAccounts = 100
	// StaleTarget is the most the scan at the largest size may take, as a
	// multiple of the scan at the smallest.
	StaleTarget = 1.2
)

// DefaultStaleSizes are the opportunity counts scanned by default.
var DefaultStaleSizes = []int{100_000, 1_000_000}

// StaleConfig configures the stale scan benchmark.
type StaleConfig struct {
	// Store is StoreMemory (default), StoreSQLite or StoreRedis; Target
	// says where SQLite's file (DBPath) or Redis's keys (RedisURL, Prefix)
	// go.
	Store  string
	Target Target
	// Sizes are the opportunity counts scanned at, ascending: one store is
	// loaded for each. Default DefaultStaleSizes.
	Sizes []int
	// Stale is the number of stale opportunities, the same ones at every
	// size (all among the first Sizes[0]). Default DefaultStale.
	Stale int
	// Accounts spreads the opportunities; each account has one stale
	// workflow (days: 14). Default DefaultStaleAccounts.
	Accounts int
	// Repeat is the number of scans timed at each size, after one untimed
	// scan; the fastest and the median are reported. Default 11.
	Repeat int
	// Progress, when set, shows the loading progress.
	Progress io.Writer
}

// WithDefaults returns c with every zero field set to its default.
func (c StaleConfig) WithDefaults() StaleConfig {
	if c.Store == "" {
		c.Store = StoreMemory
	}
	if len(c.Sizes) == 0 {
		c.Sizes = slices.Clone(DefaultStaleSizes)
	}
	if c.Stale == 0 {
		c.Stale = DefaultStale
	}
	if c.Accounts == 0 {
		c.Accounts = DefaultStaleAccounts
	}
	if c.Repeat == 0 {
		c.Repeat = 11
	}
	return c
}

// Validate names the first bad field.
func (c StaleConfig) Validate() error {
	switch {
	case c.Store != StoreMemory && c.Store != StoreSQLite && c.Store != StoreRedis:
		return fmt.Errorf("stale bench: Store %q is not memory, sqlite or redis", c.Store)
	case c.Store == StoreRedis && c.Target.RedisURL == "":
		return errors.New("stale bench: the redis store needs a Redis URL (--redis)")
	case len(c.Sizes) == 0 || !slices.IsSorted(c.Sizes) || c.Sizes[0] < 1:
		return errors.New("stale bench: Sizes must be positive and ascending")
	case c.Stale < 1 || c.Stale > c.Sizes[0]:
		return fmt.Errorf("stale bench: Stale must be between 1 and the smallest size (%d)", c.Sizes[0])
	case c.Accounts < 1:
		return errors.New("stale bench: Accounts must be at least 1")
	case c.Repeat < 1:
		return errors.New("stale bench: Repeat must be at least 1")
	}
	return nil
}

// StalePoint is the scan at one size.
type StalePoint struct {
	Opportunities int `json:"opportunities"`
	// LoadSeconds is the time the store of this size took to load.
	LoadSeconds float64 `json:"load_seconds"`
	// ScanMS is the fastest of the timed scans: the scan's own cost, least
	// disturbed by whatever else the machine does. ScanMedianMS and
	// ScanMaxMS are the median and the slowest.
	ScanMS       float64 `json:"scan_ms"`
	ScanMedianMS float64 `json:"scan_median_ms"`
	ScanMaxMS    float64 `json:"scan_max_ms"`
	// Found is the number of stale events the scan returned.
	Found int `json:"found"`
}

// StaleReport is the result of the stale scan benchmark.
type StaleReport struct {
	Store    string       `json:"store"`
	Where    string       `json:"where"`
	Stale    int          `json:"stale"`
	Accounts int          `json:"accounts"`
	Repeat   int          `json:"repeat"`
	Points   []StalePoint `json:"points"`
	// Ratio is the fastest scan at the largest size over the fastest at the
	// smallest, MedianRatio the same of the medians; Met reports Ratio <=
	// Target.
	Ratio       float64 `json:"ratio"`
	MedianRatio float64 `json:"median_ratio"`
	Target      float64 `json:"target"`
	Met         bool    `json:"met"`
	Machine     Machine `json:"machine"`
}

// staleNow is the clock of the stale benchmark.
var staleNow = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)

// staleLoadChunk bounds the opportunities of one Store.Load call.
const staleLoadChunk = 10_000

// Stale loads one store per size and times the stale scan on each, the
// scans of the different sizes taking turns, so that whatever else the
// machine does disturbs them alike.
func Stale(ctx context.Context, cfg StaleConfig) (rep *StaleReport, err error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	rep = &StaleReport{Store: cfg.Store, Where: "in memory", Stale: cfg.Stale, Accounts: cfg.Accounts, Repeat: cfg.Repeat, Target: StaleTarget, Machine: thisMachine()}
	var s *site
	if cfg.Store != StoreMemory {
		t := cfg.Target
		if cfg.Store == StoreSQLite {
			t.RedisURL = ""
		}
		if s, err = openSite(ctx, t); err != nil {
			return nil, err
		}
		defer func() { err = errors.Join(err, s.close()) }()
		rep.Where = s.where()
	}
	set, err := parseWorkflows(staleWorkflows(cfg.Accounts))
	if err != nil {
		return nil, err
	}
	step := cfg.Sizes[0] / cfg.Stale
	engines := make([]*engine.Engine, len(cfg.Sizes))
	for i, size := range cfg.Sizes {
		var st store.Store = memory.New()
		if s != nil {
			b, berr := s.openBackend(ctx, strconv.Itoa(size), false)
			if berr != nil {
				return nil, berr
			}
			defer func() { err = errors.Join(err, b.Close()) }()
			st = b.Store
		}
		start := time.Now()
		bar := newProgress(cfg.Progress, "load "+shortCount(size), size)
		for lo := 0; lo < size; lo += staleLoadChunk {
			hi := min(lo+staleLoadChunk, size)
			if err := st.Load(ctx, staleData(cfg.Accounts, lo, hi, step, cfg.Stale)); err != nil {
				bar.finish()
				return nil, fmt.Errorf("loading opportunities %d-%d: %w", lo, hi-1, err)
			}
			bar.set(hi)
		}
		bar.finish()
		rep.Points = append(rep.Points, StalePoint{Opportunities: size, LoadSeconds: time.Since(start).Seconds()})
		if engines[i], err = engine.New(engine.Config{Store: st, Clock: func() time.Time { return staleNow }}, set); err != nil {
			return nil, err
		}
	}
	// One untimed scan each (caches, lazily built state), and no garbage
	// collection of the loads' leftovers during the timed ones.
	for _, eng := range engines {
		if _, err := eng.StaleEvents(ctx, staleNow); err != nil {
			return nil, err
		}
	}
	runtime.GC()
	times := make([][]time.Duration, len(engines))
	for range cfg.Repeat {
		for i, eng := range engines {
			t0 := time.Now()
			evs, err := eng.StaleEvents(ctx, staleNow)
			times[i] = append(times[i], time.Since(t0))
			if err != nil {
				return nil, err
			}
			if len(evs) != cfg.Stale {
				return nil, fmt.Errorf("the scan over %d opportunities found %d stale events, want %d", cfg.Sizes[i], len(evs), cfg.Stale)
			}
			rep.Points[i].Found = len(evs)
		}
	}
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	for i := range rep.Points {
		lat := Summarize(times[i])
		p := &rep.Points[i]
		p.ScanMS, p.ScanMedianMS, p.ScanMaxMS = ms(times[i][0]), ms(lat.P50), ms(lat.Max)
	}
	first, last := rep.Points[0], rep.Points[len(rep.Points)-1]
	if first.ScanMS > 0 {
		rep.Ratio = last.ScanMS / first.ScanMS
	}
	if first.ScanMedianMS > 0 {
		rep.MedianRatio = last.ScanMedianMS / first.ScanMedianMS
	}
	rep.Met = rep.Ratio <= rep.Target
	return rep, nil
}

// staleWorkflows gives each account one stale workflow.
func staleWorkflows(accounts int) []byte {
	var b strings.Builder
	for a := range accounts {
		fmt.Fprintf(&b, "---\nid: stale-%d\naccount_id: %s\ntrigger: {type: opportunity.stale, days: 14}\nsteps:\n  - add_followers: {users: [%s]}\n", a, accountID(a), userID(a, 1))
	}
	return []byte(b.String())
}

// staleData returns opportunities lo to hi-1 (and, with lo 0, the accounts
// and their two users: the owner and the lead). Opportunity n belongs to
// account n % accounts; it is stale (last owner activity 30 days and n
// seconds before staleNow) when n is a multiple of step below step*stale,
// and active in the last 12 days otherwise.
func staleData(accounts, lo, hi, step, stale int) *record.Dataset {
	d := &record.Dataset{}
	if lo == 0 {
		for a := range accounts {
			d.Accounts = append(d.Accounts, record.Account{ID: accountID(a)})
			for u := range 2 {
				d.Users = append(d.Users, record.User{ID: userID(a, u), AccountID: accountID(a), Role: record.RoleUser, Active: true})
			}
		}
	}
	d.Opportunities = make([]record.Opportunity, 0, hi-lo)
	for n := lo; n < hi; n++ {
		a := n % accounts
		at := staleNow.Add(-time.Duration(n%(12*24*60)) * time.Minute)
		if n%step == 0 && n/step < stale {
			at = staleNow.Add(-30*24*time.Hour - time.Duration(n)*time.Second)
		}
		d.Opportunities = append(d.Opportunities, record.Opportunity{
			ID: "o-" + strconv.Itoa(n), AccountID: accountID(a), Pipeline: "Sales", Stage: stage(0),
			Status: record.StatusOpen, Value: float64(n % 50000), OwnerID: userID(a, 0),
			Tags: []string{}, Followers: []string{}, CreatedAt: at, UpdatedAt: at, LastOwnerActivityAt: at,
		})
	}
	return d
}

func shortCount(n int) string {
	switch {
	case n >= 1_000_000 && n%1_000_000 == 0:
		return strconv.Itoa(n/1_000_000) + "M"
	case n >= 1000 && n%1000 == 0:
		return strconv.Itoa(n/1000) + "k"
	}
	return strconv.Itoa(n)
}

// WriteJSON writes the report as one JSON object and a newline.
func (r *StaleReport) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteText writes the report for people.
func (r *StaleReport) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "followflow bench stale: store %s (%s)\n", r.Store, r.Where)
	fmt.Fprintf(&b, "%d stale opportunities at every size, %d accounts with one stale workflow (days: 14) each; %d timed scans per size\n",
		r.Stale, r.Accounts, r.Repeat)
	fmt.Fprintf(&b, "machine   %s/%s, %d CPUs, %s\n\n", r.Machine.OS, r.Machine.Arch, r.Machine.CPUs, r.Machine.GoVersion)
	var table strings.Builder
	tw := tabwriter.NewWriter(&table, 0, 0, 3, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "opportunities\tstale events\tscan ms (fastest)\tmedian\tslowest\tload s\t\n")
	for _, p := range r.Points {
		fmt.Fprintf(tw, "%s\t%s\t%.3f\t%.3f\t%.3f\t%.1f\t\n", group(float64(p.Opportunities), 0), group(float64(p.Found), 0), p.ScanMS, p.ScanMedianMS, p.ScanMaxMS, p.LoadSeconds)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	b.WriteString(unpad(table.String()))
	verdict := "met"
	if !r.Met {
		verdict = "NOT met"
	}
	first, last := r.Points[0], r.Points[len(r.Points)-1]
	fmt.Fprintf(&b, "\n%s / %s: %.2fx fastest, %.2fx median (target <= %.1fx: %s)\n",
		shortCount(last.Opportunities), shortCount(first.Opportunities), r.Ratio, r.MedianRatio, r.Target, verdict)
	_, err := io.WriteString(w, b.String())
	return err
}
