package sqlite

import (
	"path/filepath"
	"testing"

	"github.com/followflow/followflow/store"
	"github.com/followflow/followflow/store/storetest"
)

// TestConformance runs the shared suite of store.Store, each subtest on a
// database file of its own.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := Open(t.Context(), filepath.Join(t.TempDir(), "followflow.db"), Config{})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		return s
	})
}
