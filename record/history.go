package record

import "time"

// HistoryEntry records one follower change on a record, or one refused
// follower action, or one condition that failed to evaluate (follower rule
// 6): who or which workflow, which event, when and why.
type HistoryEntry struct {
	// Seq orders the entries of one record; the store assigns it.
	Seq int64 `json:"seq" yaml:"seq"`
	// AccountID, Kind and RecordID name the record.
	AccountID string `json:"account_id" yaml:"account_id"`
	Kind      Kind   `json:"record_kind" yaml:"record_kind"`
	RecordID  string `json:"record_id" yaml:"record_id"`
	// At is when the change happened: the event's occurred_at, or the clock
	// for a manual change.
	At time.Time `json:"at" yaml:"at"`
	// EventID is the event that caused it; empty for a manual change.
	EventID string `json:"event_id,omitempty" yaml:"event_id,omitempty"`
	// WorkflowID is the workflow that made the change; empty for a manual one.
	WorkflowID string `json:"workflow_id,omitempty" yaml:"workflow_id,omitempty"`
	// ActorID is the user who made a manual change.
	ActorID string `json:"actor_id,omitempty" yaml:"actor_id,omitempty"`
	// Step is the label of the step (its name) or its kind.
	Step string `json:"step,omitempty" yaml:"step,omitempty"`
	// UserID is the follower concerned; empty for a condition error.
	UserID string `json:"user_id,omitempty" yaml:"user_id,omitempty"`
	// Outcome is a follower outcome, or "condition_error".
	Outcome Outcome `json:"outcome" yaml:"outcome"`
	// Detail says why, in words (the error of a failed condition, say).
	Detail string `json:"detail,omitempty" yaml:"detail,omitempty"`
}

// ConditionError is the Outcome of a history entry for a condition that
// failed at run time.
const ConditionError Outcome = "condition_error"
