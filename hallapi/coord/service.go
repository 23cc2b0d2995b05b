package coord

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"hallmonitor/hallapi/events"
)

// Service applies the board's rules over a Repo. It is a small value: make
// one where it is needed (New(store)).
type Service struct {
	repo Repo
}

// New returns the board over repo.
func New(repo Repo) *Service { return &Service{repo: repo} }

// ---- agents ----

// Heartbeat registers an agent or refreshes its last_seen (and name/type).
// A coord.agent event is emitted when the agent is new, changed, or was
// not active, so the roster updates live without an event per beat.
func (s *Service) Heartbeat(ctx context.Context, in AgentInput) (Agent, error) {
	if err := normalizeAgent(&in); err != nil {
		return Agent{}, err
	}
	var a Agent
	err := s.repo.CoordWrite(ctx, func(tx Tx) error {
		old, found, err := agent(tx, in.ID)
		if err != nil {
			return err
		}
		if err := tx.SaveAgent(in, !found); err != nil {
			return err
		}
		if a, _, err = agent(tx, in.ID); err != nil {
			return err
		}
		if !found || old.Name != a.Name || old.Type != a.Type || old.Status != AgentActive {
			return tx.Emit(events.CoordAgent, a)
		}
		return nil
	})
	return a, err
}

// agent reads an agent with its status now.
func agent(tx Tx, id string) (Agent, bool, error) {
	a, found, err := tx.Agent(id)
	if found && err == nil {
		a.Status = AgentStatus(a.LastSeenAt, tx.Now())
	}
	return a, found, err
}

// touch checks that an agent actor is registered and refreshes its
// last_seen (an action is a sign of life); a person actor passes as is.
func touch(tx Tx, by Actor, field string) error {
	if !by.Agent {
		if by.ID == "" {
			return errors.New("coordination change without an actor")
		}
		return nil
	}
	if err := ValidAgentID(field, by.ID); err != nil {
		return err
	}
	old, found, err := agent(tx, by.ID)
	if err != nil {
		return err
	}
	if !found {
		return invalid(field, "%s %q is not a registered agent: send a heartbeat (POST /api/coord/agents/heartbeat) first", field, by.ID)
	}
	if err := tx.TouchAgent(by.ID); err != nil {
		return err
	}
	if old.Status != AgentActive {
		old.Status, old.LastSeen = AgentActive, tx.Format(tx.Now())
		return tx.Emit(events.CoordAgent, old)
	}
	return nil
}

// ListAgents lists the registered agents, most recently seen first.
func (s *Service) ListAgents(ctx context.Context) ([]Agent, error) {
	as, err := s.repo.CoordAgents(ctx)
	if err != nil {
		return nil, err
	}
	now := s.repo.Now()
	for i := range as {
		as[i].Status = AgentStatus(as[i].LastSeenAt, now)
	}
	return as, nil
}

// ---- tasks ----

func taskOr404(tx Tx, field, id string) (Task, error) {
	tk, found, err := tx.Task(id)
	if err == nil && !found {
		return tk, notFound(field, "no task %q: list the tasks with GET /api/coord/tasks", clip(id))
	}
	return tk, err
}

// blockedIn is blocked with the predecessors' statuses read in tx.
func blockedIn(tx Tx, tk Task, starting bool) (string, error) {
	return blocked(tk, starting, func(id string) (string, bool, error) {
		pt, found, err := tx.Task(id)
		return pt.Status, found, err
	})
}

// CreateTask validates and stores a new pending task (coord.task.created).
func (s *Service) CreateTask(ctx context.Context, in TaskInput, by Actor) (Task, error) {
	var tk Task
	err := s.repo.CoordWrite(ctx, func(tx Tx) error {
		var err error
		tk, err = createTask(tx, "", in, by)
		return err
	})
	return tk, err
}

// createTask creates a task in tx (prefix is the JSON path of its input,
// "" or "follow_up.").
func createTask(tx Tx, prefix string, in TaskInput, by Actor) (Task, error) {
	tk := Task{ID: in.ID, Title: in.Title, Details: in.Details, Owner: in.Owner, Priority: in.Priority, AgentType: in.AgentType,
		Section: in.Section, Location: in.Location, Predecessors: in.Predecessors, DepType: in.DepType}
	if tk.ID != "" {
		if err := ValidTaskID(prefix+"id", tk.ID); err != nil {
			return tk, err
		}
	}
	if err := normalizeTask(prefix, &tk); err != nil {
		return tk, err
	}
	if err := touch(tx, by, "agent_id"); err != nil {
		return tk, err
	}
	if tk.ID == "" {
		id, err := tx.NextTaskID()
		if err != nil {
			return tk, err
		}
		tk.ID = id
	} else if _, found, err := tx.Task(tk.ID); err != nil {
		return tk, err
	} else if found {
		return tk, conflict(prefix+"id", "%sid %s is taken: choose another id, or leave id out to get the next T<n>", prefix, tk.ID)
	}
	g, err := tx.TaskGraph()
	if err != nil {
		return tk, err
	}
	if err := checkPredecessors(g, prefix, tk.ID, tk.Predecessors); err != nil {
		return tk, err
	}
	now := tx.Format(tx.Now())
	tk.Status, tk.CreatedBy, tk.UpdatedBy, tk.CreatedAt, tk.UpdatedAt = TaskPending, by.ID, by.ID, now, now
	if err := tx.InsertTask(tk); err != nil {
		return tk, err
	}
	return tk, tx.Emit(events.CoordTaskCreated, tk)
}

// saveTask stores a changed task and emits event with it.
func saveTask(tx Tx, tk *Task, by Actor, event string) error {
	tk.UpdatedBy, tk.UpdatedAt = by.ID, tx.Format(tx.Now())
	if err := tx.UpdateTask(*tk); err != nil {
		return err
	}
	return tx.Emit(event, *tk)
}

// UpdateTask applies a patch to a task's editable fields (coord.task.updated).
func (s *Service) UpdateTask(ctx context.Context, id string, p TaskPatch, by Actor) (Task, error) {
	var tk Task
	err := s.repo.CoordWrite(ctx, func(tx Tx) error {
		var err error
		if tk, err = taskOr404(tx, "id", id); err != nil {
			return err
		}
		if err := touch(tx, by, "agent_id"); err != nil {
			return err
		}
		p.apply(&tk)
		if err := normalizeTask("", &tk); err != nil {
			return err
		}
		if p.Predecessors != nil {
			g, err := tx.TaskGraph()
			if err != nil {
				return err
			}
			if err := checkPredecessors(g, "", tk.ID, tk.Predecessors); err != nil {
				return err
			}
		}
		return saveTask(tx, &tk, by, events.CoordTaskUpdated)
	})
	return tk, err
}

// apply sets the patched fields of tk.
func (p TaskPatch) apply(tk *Task) {
	for _, f := range []struct{ dst, v *string }{
		{&tk.Title, p.Title}, {&tk.Details, p.Details}, {&tk.Owner, p.Owner}, {&tk.Priority, p.Priority},
		{&tk.AgentType, p.AgentType}, {&tk.Section, p.Section}, {&tk.Location, p.Location}, {&tk.DepType, p.DepType},
	} {
		if f.v != nil {
			*f.dst = *f.v
		}
	}
	if p.Predecessors != nil {
		tk.Predecessors = *p.Predecessors
	}
}

// ClaimTask starts a pending task for the actor (coord.task.updated).
// Claiming a task one already holds changes nothing.
func (s *Service) ClaimTask(ctx context.Context, id string, by Actor) (Task, error) {
	var tk Task
	err := s.repo.CoordWrite(ctx, func(tx Tx) error {
		var err error
		if tk, err = taskOr404(tx, "id", id); err != nil {
			return err
		}
		if err := touch(tx, by, "agent_id"); err != nil {
			return err
		}
		switch {
		case tk.Status == TaskDone:
			return conflict("id", "%s is already done (completed by %s)", tk.ID, tk.CompletedBy)
		case tk.Status == TaskInProgress && tk.ClaimedBy == by.ID:
			return nil
		case tk.Status == TaskInProgress:
			return conflict("id", "%s is already claimed by %s: ask them, or reassign it", tk.ID, tk.ClaimedBy)
		}
		why, err := blockedIn(tx, tk, true)
		if err != nil {
			return err
		}
		if why != "" {
			return conflict("predecessors", "%s", why)
		}
		tk.Status, tk.ClaimedBy, tk.ClaimedAt = TaskInProgress, by.ID, tx.Format(tx.Now())
		return saveTask(tx, &tk, by, events.CoordTaskUpdated)
	})
	return tk, err
}

// CompleteTask marks a task done (coord.task.completed), creates the
// follow-up and posts the notifications, all in one transaction.
func (s *Service) CompleteTask(ctx context.Context, id string, in CompleteInput, by Actor) (Completion, error) {
	out := Completion{Messages: []Message{}}
	if err := maxLen("summary", in.Summary, 10000); err != nil {
		return out, err
	}
	err := s.repo.CoordWrite(ctx, func(tx Tx) error {
		tk, err := taskOr404(tx, "id", id)
		if err != nil {
			return err
		}
		if err := touch(tx, by, "agent_id"); err != nil {
			return err
		}
		if tk.Status == TaskDone {
			return conflict("id", "%s is already done (completed by %s at %s)", tk.ID, tk.CompletedBy, tk.CompletedAt)
		}
		why, err := blockedIn(tx, tk, false)
		if err != nil {
			return err
		}
		if why != "" {
			return conflict("predecessors", "%s", why)
		}
		tk.Status, tk.Result, tk.CompletedBy, tk.CompletedAt = TaskDone, strings.TrimSpace(in.Summary), by.ID, tx.Format(tx.Now())
		if err := saveTask(tx, &tk, by, events.CoordTaskCompleted); err != nil {
			return err
		}
		out.Task = tk
		return completeFollowUp(tx, tk, in, by, &out)
	})
	return out, err
}

// completeFollowUp posts the completion notice (Notify), creates the
// follow-up task, which depends on the completed one, and announces it.
func completeFollowUp(tx Tx, tk Task, in CompleteInput, by Actor, out *Completion) error {
	notify := func(text, typ, taskID string) error {
		m, err := postMessage(tx, Message{From: by.ID, To: MessageToAll, Message: clipRunes(text, 4000), TaskID: taskID, MsgType: typ})
		out.Messages = append(out.Messages, m)
		return err
	}
	if in.Notify {
		text := fmt.Sprintf("TASK COMPLETE: [%s] %s", tk.ID, tk.Title)
		if tk.Result != "" {
			text += " — " + tk.Result
		}
		if err := notify(text, MsgResult, tk.ID); err != nil {
			return err
		}
	}
	if in.FollowUp == nil {
		return nil
	}
	fu := *in.FollowUp
	if fu.Section == "" {
		fu.Section = tk.Section
	}
	if !slices.Contains(fu.Predecessors, tk.ID) {
		fu.Predecessors = append([]string{tk.ID}, fu.Predecessors...)
	}
	f, err := createTask(tx, "follow_up.", fu, by)
	if err != nil {
		return err
	}
	out.FollowUp = &f
	if in.Notify {
		return notify(fmt.Sprintf("NEW FOLLOW-UP TASK: [%s] %s (owner: %s, dep: %s from %s)", f.ID, f.Title, f.Owner, f.DepType, tk.ID), MsgAlert, f.ID)
	}
	return nil
}

// ReassignTask gives a task another owner (coord.task.updated).
func (s *Service) ReassignTask(ctx context.Context, id, owner string, by Actor) (Task, error) {
	if owner == "" {
		return Task{}, missing("owner", "owner is required: an agent id, a person's name or \"any\"")
	}
	o := owner
	return s.UpdateTask(ctx, id, TaskPatch{Owner: &o}, by)
}

// ListTasks lists tasks in creation order.
func (s *Service) ListTasks(ctx context.Context, f TaskFilter) ([]Task, error) {
	if err := normalizeTaskFilter(f); err != nil {
		return nil, err
	}
	return s.repo.CoordTasks(ctx, f)
}

// ---- locks ----

// AcquireLock takes (or, for its holder, extends) the lock on a path for
// ttlSeconds (DefaultLockTTL when 0). A lock held by another and not
// expired is a conflict naming the holder.
func (s *Service) AcquireLock(ctx context.Context, p string, ttlSeconds int64, by Actor) (Lock, error) {
	p, err := CleanLockPath(p)
	if err != nil {
		return Lock{}, err
	}
	ttl, err := lockTTL(ttlSeconds)
	if err != nil {
		return Lock{}, err
	}
	var l Lock
	err = s.repo.CoordWrite(ctx, func(tx Tx) error {
		if err := touch(tx, by, "agent_id"); err != nil {
			return err
		}
		cur, seq, found, err := tx.LiveLock(p)
		if err != nil {
			return err
		}
		exp := tx.Now().Add(ttl)
		switch {
		case found && cur.Holder != by.ID:
			return conflict("path", "%s is locked by %s until %s: wait, or ask them to release it", p, cur.Holder, cur.ExpiresAt)
		case found:
			cur.ExpiresAt = tx.Format(exp)
			if err := tx.ExtendLock(seq, exp); err != nil {
				return err
			}
			l = cur
		default:
			l = Lock{Path: p, Holder: by.ID, AcquiredAt: tx.Format(tx.Now()), ExpiresAt: tx.Format(exp)}
			if err := tx.InsertLock(l, exp); err != nil {
				return err
			}
		}
		return tx.Emit(events.CoordLockAcquired, l)
	})
	return l, err
}

// ReleaseLock releases the actor's lock on a path. Another holder's lock
// is a conflict; no live lock is not_found.
func (s *Service) ReleaseLock(ctx context.Context, p string, by Actor) (Lock, error) {
	p, err := CleanLockPath(p)
	if err != nil {
		return Lock{}, err
	}
	var l Lock
	err = s.repo.CoordWrite(ctx, func(tx Tx) error {
		if err := touch(tx, by, "agent_id"); err != nil {
			return err
		}
		var seq int64
		var found bool
		l, seq, found, err = tx.LiveLock(p)
		switch {
		case err != nil:
			return err
		case !found:
			return notFound("path", "%s is not locked (or its lock expired)", p)
		case l.Holder != by.ID:
			return conflict("path", "%s is locked by %s, not by %s: only the holder releases a lock", p, l.Holder, by.ID)
		}
		l.ReleasedAt, l.ReleasedBy = tx.Format(tx.Now()), by.ID
		if err := tx.ReleaseLock(seq, l.ReleasedAt, l.ReleasedBy); err != nil {
			return err
		}
		return tx.Emit(events.CoordLockReleased, l)
	})
	return l, err
}

// ActiveLocks lists the locks neither released nor expired, oldest first.
func (s *Service) ActiveLocks(ctx context.Context) ([]Lock, error) {
	return s.repo.CoordLocks(ctx, s.repo.Now())
}

// ---- messages ----

// PostMessage stores a message from the actor (coord.message). To is "all"
// or a registered agent id.
func (s *Service) PostMessage(ctx context.Context, in MessageInput, by Actor) (Message, error) {
	var m Message
	err := s.repo.CoordWrite(ctx, func(tx Tx) error {
		if err := touch(tx, by, "agent_id"); err != nil {
			return err
		}
		if in.To == "" {
			in.To = MessageToAll
		}
		if in.To != MessageToAll {
			if err := ValidAgentID("to", in.To); err != nil {
				return err
			}
			if _, found, err := tx.Agent(in.To); err != nil {
				return err
			} else if !found {
				return invalid("to", "to %q is not a registered agent: use \"all\" or an id from GET /api/coord/agents", in.To)
			}
		}
		if err := normalizeMessageText(&in); err != nil {
			return err
		}
		if in.TaskID != "" {
			if _, found, err := tx.Task(in.TaskID); err != nil {
				return err
			} else if !found {
				return invalid("task_id", "task_id %q is not a task: leave it out, or use an id from GET /api/coord/tasks", clip(in.TaskID))
			}
		}
		var err error
		m, err = postMessage(tx, Message{From: by.ID, To: in.To, Message: in.Message, TaskID: in.TaskID, MsgType: in.MsgType})
		return err
	})
	return m, err
}

// postMessage stores m at now and emits it.
func postMessage(tx Tx, m Message) (Message, error) {
	m.CreatedAt = tx.Format(tx.Now())
	id, err := tx.InsertMessage(m)
	if err != nil {
		return m, err
	}
	m.ID = id
	return m, tx.Emit(events.CoordMessage, m)
}

// ListMessages returns a page of messages, newest first.
func (s *Service) ListMessages(ctx context.Context, f MessageFilter) (MessagePage, error) {
	page := MessagePage{Messages: []Message{}}
	if err := normalizeMessageFilter(&f); err != nil {
		return page, err
	}
	ms, err := s.repo.CoordMessages(ctx, f)
	if err != nil {
		return page, err
	}
	page.Messages = append(page.Messages, ms...)
	if len(page.Messages) == f.Limit {
		next := page.Messages[len(page.Messages)-1].ID
		page.NextBefore = &next
	}
	return page, nil
}
