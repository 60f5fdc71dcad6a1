package redis_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/followflow/followflow/internal/redistest"
	"github.com/followflow/followflow/record"
	"github.com/followflow/followflow/store"
	"github.com/followflow/followflow/store/redis"
)

// BenchmarkCommitBatch commits batches of 100 changesets shaped like the
// bench's (one opportunity written of 100 accounts, a fence, an event id,
// a history entry now and then) on a server of its own, and reports the
// server's CPU per changeset (server-us/op) beside the client's time.
func BenchmarkCommitBatch(b *testing.B) {
	ctx := b.Context()
	srv := redistest.Start(b)
	client := srv.Client(b)
	s, err := redis.New(client, redis.Config{Prefix: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	t0 := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	const accounts, opps, batch = 100, 100, 100
	d := &record.Dataset{}
	for a := range accounts {
		acc := fmt.Sprintf("acct-%d", a)
		d.Accounts = append(d.Accounts, record.Account{ID: acc, Name: acc})
		for u := range 20 {
			d.Users = append(d.Users, record.User{ID: fmt.Sprintf("u-%d", u), AccountID: acc, Name: "U", Role: record.RoleUser, Active: true})
		}
		for o := range opps {
			d.Opportunities = append(d.Opportunities, record.Opportunity{
				ID: fmt.Sprintf("opp-%d-%d", a, o), AccountID: acc, Name: "Deal " + strconv.Itoa(o), Pipeline: "Sales", Stage: "New",
				Status: record.StatusOpen, Value: 1000, OwnerID: "u-1", ContactID: fmt.Sprintf("c-%d", o/4),
				Tags: []string{"inbound"}, CreatedAt: t0, UpdatedAt: t0, LastOwnerActivityAt: t0,
			})
		}
	}
	if err := s.Load(ctx, d); err != nil {
		b.Fatal(err)
	}
	state := map[string]record.Opportunity{}
	for _, o := range d.Opportunities {
		o.Version = 1
		state[o.AccountID+"/"+o.ID] = o
	}
	rng := rand.New(rand.NewPCG(1, 1))
	css := make([]*store.Changeset, batch)
	n := 0
	cpu0 := serverCPU(ctx, b, client)
	b.ResetTimer()
	for b.Loop() {
		for i := range css {
			a, o := rng.IntN(accounts), rng.IntN(opps)
			key := fmt.Sprintf("acct-%d/opp-%d-%d", a, a, o)
			opp := state[key]
			at := t0.Add(time.Duration(n) * time.Second)
			switch n % 4 {
			case 0:
				opp.Tags = append(opp.Tags[:1:1], "tag"+strconv.Itoa(n%7))
			case 1:
				opp.Stage = "Stage " + strconv.Itoa(n%5)
			case 2:
				opp.LastOwnerActivityAt = at
			}
			opp.UpdatedAt = at
			cs := &store.Changeset{
				AccountID: opp.AccountID, EventID: "ev-" + strconv.Itoa(n), ProcessedAt: at,
				Fence:         &store.Fence{Partition: o % 16, Epoch: 1},
				Opportunities: []record.Opportunity{opp},
			}
			if n%3 == 0 {
				cs.History = []record.HistoryEntry{{AccountID: opp.AccountID, Kind: record.KindOpportunity, RecordID: opp.ID, At: at,
					EventID: cs.EventID, WorkflowID: "wf-1", Step: "add_followers", UserID: "u-2", Outcome: record.Added}}
			}
			css[i] = cs
			opp.Version++
			state[key] = opp
			n++
		}
		// Two changesets of one record in a batch: the engine sends the
		// second in a later batch; so does this.
		seen := map[string]bool{}
		var now, later []*store.Changeset
		for _, cs := range css {
			k := cs.AccountID + "/" + cs.Opportunities[0].ID
			if seen[k] {
				later = append(later, cs)
				continue
			}
			seen[k] = true
			now = append(now, cs)
		}
		for _, part := range [][]*store.Changeset{now, later} {
			errs, err := s.CommitBatch(ctx, part)
			if err != nil {
				b.Fatal(err)
			}
			for _, err := range errs {
				if err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(serverCPU(ctx, b, client)-cpu0)/float64(n), "server-us/changeset")
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(n), "client-us/changeset")
}

// serverCPU returns the server's user and system CPU time so far, in µs.
func serverCPU(ctx context.Context, b *testing.B, c *goredis.Client) int64 {
	info, err := c.Info(ctx, "cpu").Result()
	if err != nil {
		b.Fatal(err)
	}
	var total float64
	for _, line := range strings.Split(info, "\r\n") {
		k, v, ok := strings.Cut(line, ":")
		if ok && (k == "used_cpu_user" || k == "used_cpu_sys") {
			f, _ := strconv.ParseFloat(v, 64)
			total += f
		}
	}
	return int64(total * 1e6)
}
