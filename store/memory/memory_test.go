package memory_test

import (
	"testing"

	"github.com/followflow/followflow/store"
	"github.com/followflow/followflow/store/memory"
	"github.com/followflow/followflow/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return memory.New() })
}
