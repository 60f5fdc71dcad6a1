package redisstream

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// streamID is a parsed stream entry id, <ms>-<seq>.
type streamID struct{ ms, seq uint64 }

func parseID(s string) (streamID, error) {
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return streamID{}, fmt.Errorf("stream id %q: want <ms>-<seq>", s)
	}
	ms, err := strconv.ParseUint(a, 10, 64)
	if err != nil {
		return streamID{}, fmt.Errorf("stream id %q: %w", s, err)
	}
	seq, err := strconv.ParseUint(b, 10, 64)
	if err != nil {
		return streamID{}, fmt.Errorf("stream id %q: %w", s, err)
	}
	return streamID{ms, seq}, nil
}

func (id streamID) String() string {
	return strconv.FormatUint(id.ms, 10) + "-" + strconv.FormatUint(id.seq, 10)
}

// less reports whether id is smaller than o.
func (id streamID) less(o streamID) bool {
	return id.ms < o.ms || id.ms == o.ms && id.seq < o.seq
}

// next returns the smallest id greater than id.
func (id streamID) next() streamID {
	if id.seq == ^uint64(0) {
		return streamID{id.ms + 1, 0}
	}
	return streamID{id.ms, id.seq + 1}
}

// idTime returns the time in an entry id (when Redis added it), or the
// zero time when s is not an id.
func idTime(s string) time.Time {
	id, err := parseID(s)
	if err != nil {
		return time.Time{}
	}
	return time.UnixMilli(int64(id.ms)).UTC()
}
