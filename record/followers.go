package record

import "slices"

// Outcome is what a follower action did for one user (or, for
// SkippedNoOpportunity, for the whole action).
type Outcome string

// Outcomes of follower actions (SPEC §4).
const (
	Added                Outcome = "added"
	AlreadyFollowing     Outcome = "already_following"
	Removed              Outcome = "removed"
	NotFollowing         Outcome = "not_following"
	LimitReached         Outcome = "limit_reached"
	InactiveUser         Outcome = "inactive_user"
	UnknownUser          Outcome = "unknown_user"
	SkippedNoOpportunity Outcome = "skipped_no_opportunity"
)

// Changed reports whether the outcome changed the follower list.
func (o Outcome) Changed() bool { return o == Added || o == Removed }

// AddFollower applies follower rules 1–5 to adding user u to followers of a
// record of accountID. u is nil when the user does not exist. The returned
// slice is new when the outcome is Added; followers is never changed in
// place, so a caller may share it.
func AddFollower(followers []string, accountID string, u *User) ([]string, Outcome) {
	outcome := CheckAdd(followers, accountID, u)
	if outcome != Added {
		return followers, outcome
	}
	out := make([]string, len(followers), len(followers)+1)
	copy(out, followers)
	return append(out, u.ID), Added
}

// CheckAdd returns what AddFollower would do, without doing it: Added when
// rules 1–5 allow u to follow.
func CheckAdd(followers []string, accountID string, u *User) Outcome {
	switch {
	case u == nil || u.AccountID != accountID:
		return UnknownUser
	case slices.Contains(followers, u.ID):
		return AlreadyFollowing
	case !u.Active:
		return InactiveUser
	case len(followers) >= MaxFollowers:
		return LimitReached
	}
	return Added
}

// RemoveFollower removes userID from followers, keeping the order of the
// others. The returned slice is new when the outcome is Removed.
func RemoveFollower(followers []string, userID string) ([]string, Outcome) {
	i := slices.Index(followers, userID)
	if i < 0 {
		return followers, NotFollowing
	}
	out := make([]string, 0, len(followers)-1)
	out = append(out, followers[:i]...)
	return append(out, followers[i+1:]...), Removed
}
