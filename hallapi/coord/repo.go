package coord

import (
	"context"
	"time"
)

// Repo stores the board (hallapi/store implements it with SQL). Service
// reads through it and makes every change inside one CoordWrite.
type Repo interface {
	// CoordWrite runs fn in one write transaction; an error from fn rolls
	// it back, and events fn emitted are published after the commit.
	CoordWrite(ctx context.Context, fn func(Tx) error) error
	// CoordAgents lists the agents, most recently seen first (Status unset).
	CoordAgents(ctx context.Context) ([]Agent, error)
	// CoordTasks lists the tasks matching f in creation order (at most 5,000).
	CoordTasks(ctx context.Context, f TaskFilter) ([]Task, error)
	// CoordLocks lists the locks neither released nor expired at now, oldest first.
	CoordLocks(ctx context.Context, now time.Time) ([]Lock, error)
	// CoordMessages lists up to f.Limit messages newest first, with ids below
	// f.Before (when > 0), sent to, by or for all when f.For is set.
	CoordMessages(ctx context.Context, f MessageFilter) ([]Message, error)
	// Now is the repository's clock.
	Now() time.Time
}

// Tx is one write transaction of a Repo. Found is false (and the error nil)
// when a looked-up row does not exist.
type Tx interface {
	// Now is the transaction's time; Format writes a time as stored.
	Now() time.Time
	Format(t time.Time) string
	// Emit records an event (hallapi/events) published after the commit.
	Emit(typ string, data any) error

	// Agent reads an agent (Status unset, LastSeenAt set).
	Agent(id string) (a Agent, found bool, err error)
	// SaveAgent registers an agent (new) or updates its name and type; both
	// set last_seen to now.
	SaveAgent(in AgentInput, new bool) error
	// TouchAgent sets an agent's last_seen to now.
	TouchAgent(id string) error

	Task(id string) (t Task, found bool, err error)
	// TaskGraph maps every task id to its predecessors.
	TaskGraph() (map[string][]string, error)
	// NextTaskID is the first free id T<n> after the newest task's number.
	NextTaskID() (string, error)
	InsertTask(t Task) error
	UpdateTask(t Task) error

	// LiveLock reads the lock on path neither released nor expired at Now;
	// seq identifies it for ExtendLock and ReleaseLock.
	LiveLock(path string) (l Lock, seq int64, found bool, err error)
	InsertLock(l Lock, expires time.Time) error
	ExtendLock(seq int64, expires time.Time) error
	ReleaseLock(seq int64, releasedAt, releasedBy string) error

	// InsertMessage stores a message and returns its id.
	InsertMessage(m Message) (int64, error)
}
