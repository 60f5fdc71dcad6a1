package memory

import (
	"time"
	"unsafe"

	"github.com/followflow/followflow/record"
)

// history holds the history of every record, compactly and without
// pointers: an entry is 64 bytes that the garbage collector never scans,
// plus its event id and detail in a byte arena; the other strings of an
// entry (workflow, actor, step, user, outcome) repeat, and are interned.
// A store keeps every entry for its whole life, so this is most of its
// memory after the ledger, and of the time a commit spends.
//
// Entries of all records go, in commit order, into one log of chunks that
// are never copied: an append writes at its end, memory the last append
// just touched. Each entry links back to the previous entry of its record,
// and each record's historyLog to its last: reading a record's history
// (rare) walks the links.
//
// Times come back in UTC, with the instant they had.
type history struct {
	// logs holds the logs of records that are not stored (a changeset may
	// write history for a record it does not write).
	logs    map[histKey]*historyLog
	chunks  [][]entry
	symbols symbols
	text    arena
	// lastEvent is the event id most recently put in the arena: the entries
	// of one changeset share it.
	lastEvent    string
	lastEventRef textRef
}

type histKey struct {
	account string
	kind    record.Kind
	id      string
}

// historyLog is the history of one record: its number of entries and
// where the last is.
type historyLog struct {
	last entryRef
	n    int
}

// entryRef names an entry of the log; 0 is none, n is the log's entry n-1.
type entryRef uint64

// historyChunk is the number of entries of a chunk of the log (64 bytes
// each).
const historyChunk = 1 << 10

// entry is a record.HistoryEntry without its record (the key of its log)
// and its Seq (its position in the record's history, from 1).
type entry struct {
	sec                                        int64
	prev                                       entryRef // previous entry of the record
	nsec                                       int32
	workflowID, actorID, step, userID, outcome symbol
	eventID, detail                            textRef
}

func newHistory() history {
	return history{logs: map[histKey]*historyLog{}, symbols: newSymbols()}
}

// log returns the log of a record that is not stored, created empty if it
// has none. A stored record keeps its log in its slot.
func (h *history) log(k histKey) *historyLog {
	l := h.logs[k]
	if l == nil {
		l = &historyLog{}
		h.logs[k] = l
	}
	return l
}

// appendTo adds e at the end of l, its record's log, with the next Seq.
func (h *history) appendTo(l *historyLog, e *record.HistoryEntry) {
	if e.EventID != h.lastEvent || e.EventID == "" {
		h.lastEvent, h.lastEventRef = e.EventID, h.text.add(e.EventID)
	}
	last := len(h.chunks) - 1
	if last < 0 || len(h.chunks[last]) == historyChunk {
		h.chunks = append(h.chunks, make([]entry, 0, historyChunk))
		last++
	}
	ref := entryRef(last*historyChunk + len(h.chunks[last]) + 1)
	h.chunks[last] = append(h.chunks[last], entry{
		sec:        e.At.Unix(),
		prev:       l.last,
		nsec:       int32(e.At.Nanosecond()),
		workflowID: h.symbols.intern(e.WorkflowID),
		actorID:    h.symbols.intern(e.ActorID),
		step:       h.symbols.intern(e.Step),
		userID:     h.symbols.intern(e.UserID),
		outcome:    h.symbols.intern(string(e.Outcome)),
		eventID:    h.lastEventRef,
		detail:     h.text.add(e.Detail),
	})
	l.last = ref
	l.n++
}

func (h *history) entry(r entryRef) *entry {
	return &h.chunks[(r-1)/historyChunk][(r-1)%historyChunk]
}

// adopt moves the log of a record that was not stored until now, if it has
// one, into dst, the record's slot, which keeps it from now on.
func (h *history) adopt(k histKey, dst *historyLog) {
	if len(h.logs) == 0 {
		return
	}
	if l := h.logs[k]; l != nil {
		*dst = *l
		delete(h.logs, k)
	}
}

// entries returns l, the log of the record k, oldest first; none when l is
// nil.
func (h *history) entries(k histKey, l *historyLog) []record.HistoryEntry {
	if l == nil || l.n == 0 {
		return nil
	}
	out := make([]record.HistoryEntry, l.n)
	r := l.last
	for i := l.n - 1; i >= 0; i-- {
		e := h.entry(r)
		out[i] = record.HistoryEntry{
			Seq:        int64(i + 1),
			AccountID:  k.account,
			Kind:       k.kind,
			RecordID:   k.id,
			At:         time.Unix(e.sec, int64(e.nsec)).UTC(),
			EventID:    h.text.get(e.eventID),
			WorkflowID: h.symbols.get(e.workflowID),
			ActorID:    h.symbols.get(e.actorID),
			Step:       h.symbols.get(e.step),
			UserID:     h.symbols.get(e.userID),
			Outcome:    record.Outcome(h.symbols.get(e.outcome)),
			Detail:     h.text.get(e.detail),
		}
		r = e.prev
	}
	return out
}

// symbol stands for an interned string; 0 is "".
type symbol uint32

// symbols interns strings that repeat. recent remembers the symbols of
// the strings interned last by the address of their bytes: the strings of
// history entries (workflow ids, step names, outcomes) are mostly the very
// same strings each time, so most look-ups skip hashing.
type symbols struct {
	ids    map[string]symbol
	strs   []string
	recent [1024]recentSymbol
}

type recentSymbol struct {
	data *byte
	n    int
	id   symbol
}

func newSymbols() symbols {
	return symbols{ids: map[string]symbol{}, strs: []string{""}}
}

func (s *symbols) intern(v string) symbol {
	if v == "" {
		return 0
	}
	data := unsafe.StringData(v)
	slot := &s.recent[(uintptr(unsafe.Pointer(data))>>3)%uintptr(len(s.recent))]
	// The same address and length are the same bytes: the slot's pointer
	// keeps them from being freed and reused, and strings never change.
	if slot.data == data && slot.n == len(v) {
		return slot.id
	}
	id, ok := s.ids[v]
	if !ok {
		id = symbol(len(s.strs))
		s.strs = append(s.strs, v)
		s.ids[v] = id
	}
	*slot = recentSymbol{data: data, n: len(v), id: id}
	return id
}

func (s *symbols) get(id symbol) string { return s.strs[id] }

// arena keeps strings as bytes, in chunks the garbage collector does not
// scan. A textRef names one.
type arena struct{ chunks [][]byte }

type textRef struct{ chunk, off, n uint32 }

const arenaChunk = 64 << 10

func (a *arena) add(s string) textRef {
	if s == "" {
		return textRef{}
	}
	last := len(a.chunks) - 1
	if last < 0 || cap(a.chunks[last])-len(a.chunks[last]) < len(s) {
		a.chunks = append(a.chunks, make([]byte, 0, max(arenaChunk, len(s))))
		last++
	}
	off := len(a.chunks[last])
	a.chunks[last] = append(a.chunks[last], s...)
	return textRef{uint32(last), uint32(off), uint32(len(s))}
}

func (a *arena) get(r textRef) string {
	if r.n == 0 {
		return ""
	}
	return string(a.chunks[r.chunk][r.off : r.off+r.n])
}
