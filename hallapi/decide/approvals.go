package decide

import (
	"context"
	"errors"

	"hallmonitor/hallapi/apierr"
	"hallmonitor/hallapi/store"
)

// ResolveApproval records a person's answer (approve, deny or escalate) to a
// pending approval. by names the person.
func (s *Service) ResolveApproval(ctx context.Context, id, action, note, by string) (store.Approval, error) {
	if e := apierr.ValidID("approval_id", id); e != nil {
		return store.Approval{}, e
	}
	switch action {
	case store.ActionApprove, store.ActionDeny, store.ActionEscalate:
	case "":
		return store.Approval{}, apierr.New(apierr.MissingField, "action", "action is required: approve, deny or escalate")
	default:
		return store.Approval{}, apierr.New(apierr.InvalidField, "action", "action must be approve, deny or escalate, not %s", apierr.Quote(action))
	}
	if len(note) > 2000 {
		return store.Approval{}, apierr.New(apierr.InvalidField, "note", "note must be at most 2000 characters")
	}
	a, err := s.st.ResolveApproval(ctx, id, action, note, by)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return a, apierr.New(apierr.NotFound, "approval_id", "no approval %s", apierr.Quote(id))
	case errors.Is(err, store.ErrConflict):
		return a, apierr.New(apierr.Conflict, "approval_id", "%v", err)
	}
	return a, err
}
