package storetest

import (
	"testing"

	"github.com/followflow/followflow/store"
)

// testCase is one subtest: it gets a new, empty store of its own.
type testCase struct {
	name string
	run  func(t *testing.T, s store.Store)
}

// Run runs the conformance suite. newStore returns a new, empty store for
// each subtest (a Redis backend gives each a unique key prefix); Run closes
// it with t.Cleanup. Subtests of one group run in parallel, so newStore must
// be safe for concurrent calls. See the package documentation for what the
// suite requires beyond the store.Store documentation.
func Run(t *testing.T, newStore func(t *testing.T) store.Store) {
	t.Helper()
	groups := []struct {
		name  string
		cases []testCase
	}{
		{"Load", loadCases()},
		{"Reads", readCases()},
		{"Commit", commitCases()},
		{"Fence", fenceCases()},
		{"History", historyCases()},
		{"Stale", staleCases()},
		{"Times", timeCases()},
		{"Concurrency", concurrencyCases()},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			for _, c := range g.cases {
				t.Run(c.name, func(t *testing.T) {
					t.Parallel()
					s := newStore(t)
					if s == nil {
						t.Fatal("newStore returned nil")
					}
					t.Cleanup(func() {
						if err := s.Close(); err != nil {
							t.Errorf("Close: %v", err)
						}
					})
					c.run(t, s)
				})
			}
		})
	}
}
