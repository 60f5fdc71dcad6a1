// Package access holds the access decisions of SPEC §1 "Access": whether a
// user may view or edit a record, manage its followers, or change its owner,
// and why, in a sentence a CLI can print.
//
// Decide is a pure function of a user, a Subject (the parts of a record that
// access depends on) and an Action. The rules:
//
//   - Nothing crosses accounts: a user of another account gets nothing, not
//     even an admin.
//   - An inactive user gets nothing. The SPEC is silent here; a deactivated
//     user keeping access is not what anyone would expect.
//   - View, Edit and ManageFollowers (editing the followers is editing the
//     record): allowed when the user is an admin, is not restricted to "only
//     assigned data", owns the record or follows it. Following the contact
//     linked to an opportunity grants View of that opportunity, not Edit.
//   - ChangeOwner: only the record's owner or an admin. Following never
//     grants it.
//
// Because nothing is stored here, removing a follower revokes exactly the
// access that following gave: decide again with the new follower list, and
// access the user has for other reasons stays.
//
// The package does not load records or users, enforce the follower rules
// (package record) or perform any change; callers decide first, then act.
package access
