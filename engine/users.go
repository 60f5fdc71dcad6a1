package engine

import (
	"context"
	"errors"
	"strings"

	"github.com/followflow/followflow/actions"
	"github.com/followflow/followflow/record"
	"github.com/followflow/followflow/store"
)

// ResolveUser implements actions.State. An event sees one answer per
// reference, whatever happens to users meanwhile. With a store that
// versions its users (store.UsersVersioner), the reference remembers its
// answer across events while the version holds: workflows name the same
// few users in every event, and a remembered one costs no store look-up.
func (t *tx) ResolveUser(ctx context.Context, accountID string, ref *actions.UserRef) (*record.User, error) {
	for _, e := range t.users {
		if e.ref == ref.Ref {
			return e.user, nil
		}
	}
	var up *record.User
	if uv, ok := t.st.(store.UsersVersioner); ok {
		version := uv.UsersVersion() // before the users it stands for
		var remembered bool
		if up, remembered = ref.Remembered(accountID, version); !remembered {
			u, found, err := lookUpUser(ctx, t.st, accountID, ref.Ref)
			if err != nil {
				return nil, err
			}
			up = ref.Remember(&actions.ResolvedUser{Version: version, AccountID: accountID, Found: found, User: u})
		}
	} else {
		u, found, err := lookUpUser(ctx, t.st, accountID, ref.Ref)
		if err != nil {
			return nil, err
		}
		if found {
			if cap(t.spareUsers) == len(t.spareUsers) {
				// A new backing array: pointers into the old one stay valid.
				t.spareUsers = make([]record.User, 0, max(4, 2*cap(t.spareUsers)))
			}
			t.spareUsers = append(t.spareUsers, u)
			up = &t.spareUsers[len(t.spareUsers)-1]
		}
	}
	t.users = append(t.users, userEntry{ref: ref.Ref, user: up})
	return up, nil
}

// lookUpUser reads the user ref names from the store: by id or, when it
// has an @ and no user has it as id, by email.
func lookUpUser(ctx context.Context, st store.Store, accountID, ref string) (u record.User, found bool, err error) {
	u, err = st.User(ctx, accountID, ref)
	if errors.Is(err, store.ErrNotFound) && strings.Contains(ref, "@") {
		u, err = st.UserByEmail(ctx, accountID, ref)
	}
	switch {
	case err == nil:
		return u, true, nil
	case errors.Is(err, store.ErrNotFound):
		return record.User{}, false, nil
	}
	return record.User{}, false, err
}
