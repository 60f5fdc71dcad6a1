package trace

import "github.com/followflow/followflow/record"

// Event is the trace of one processed event.
type Event struct {
	EventID       string     `json:"event_id"`
	Type          string     `json:"type"`
	AccountID     string     `json:"account_id"`
	OccurredAt    string     `json:"occurred_at,omitempty"`
	OpportunityID string     `json:"opportunity_id,omitempty"`
	ContactID     string     `json:"contact_id,omitempty"`
	Duplicate     bool       `json:"duplicate,omitempty"`
	Workflows     []Workflow `json:"workflows"`
}

// Workflow is the trace of one workflow for one event.
type Workflow struct {
	ID      string `json:"id"`
	Matched bool   `json:"matched"`
	// Reason says why it did not match.
	Reason string `json:"reason,omitempty"`
	Steps  []Step `json:"steps,omitempty"`
}

// Step is the trace of one step. Kind is its YAML name.
type Step struct {
	Kind string `json:"step"`
	Name string `json:"name,omitempty"`
	// Expr, Result and Error: condition and if.
	Expr   string `json:"expr,omitempty"`
	Result *bool  `json:"result,omitempty"`
	Error  string `json:"error,omitempty"`
	// Outcomes: follower actions, one per user.
	Outcomes []UserOutcome `json:"outcomes,omitempty"`
	// Outcome: a follower action without opportunity context.
	Outcome record.Outcome `json:"outcome,omitempty"`
	// OpportunityID: find_opportunity, the opportunity found (if any).
	OpportunityID string `json:"opportunity_id,omitempty"`
	// Steps: the steps of the branch an if took.
	Steps []Step `json:"steps,omitempty"`
	// Branch: which branch an if took ("then", "else" or "" for none).
	Branch string `json:"branch,omitempty"`
}

// UserOutcome is the outcome of a follower action for one user as listed.
type UserOutcome struct {
	User    string         `json:"user"`
	Outcome record.Outcome `json:"outcome"`
}
