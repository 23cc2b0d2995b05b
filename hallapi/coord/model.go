package coord

import (
	"time"

	"hallmonitor/hallapi/apierr"
)

// Task statuses, priorities, dependency types and message types.
const (
	TaskPending    = "pending"
	TaskInProgress = "in_progress"
	TaskDone       = "done"

	DepFS = "FS" // finish-to-start: start after the predecessors finish
	DepSS = "SS" // start-to-start: start once the predecessors started
	DepFF = "FF" // finish-to-finish: finish after the predecessors finish
	DepSF = "SF" // start-to-finish: finish once the predecessors started

	MsgMessage = "message"
	MsgResult  = "result"
	MsgAlert   = "alert"

	// MessageToAll addresses every agent.
	MessageToAll = "all"
	// OwnerAny is a task anyone may take.
	OwnerAny = "any"
)

// Agent statuses, derived from last_seen.
const (
	AgentActive  = "active"
	AgentIdle    = "idle"
	AgentOffline = "offline"
	// AgentActiveFor and AgentIdleFor bound the statuses: seen within
	// AgentActiveFor is active, within AgentIdleFor idle, else offline.
	AgentActiveFor = 2 * time.Minute
	AgentIdleFor   = 15 * time.Minute
)

// Lock lifetimes.
const (
	DefaultLockTTL = 10 * time.Minute
	MaxLockTTL     = 24 * time.Hour
)

// AgentTypes and TaskAgentTypes are the accepted agent kinds.
var (
	AgentTypes     = []string{"llm", "code", "gpu", "human", "other"}
	TaskAgentTypes = []string{"any", "llm", "code", "gpu", "human"}
	Priorities     = []string{"P0", "P1", "P2"}
	DepTypes       = []string{DepFS, DepSS, DepFF, DepSF}
	MessageTypes   = []string{MsgMessage, MsgResult, MsgAlert}
)

// Error is a refused coordination request (apierr.Error): Code is
// invalid_field, missing_field, not_found or conflict; Field names the input.
type Error = apierr.Error

func invalid(field, format string, args ...any) *Error {
	return apierr.New(apierr.InvalidField, field, format, args...)
}

func missing(field, format string, args ...any) *Error {
	return apierr.New(apierr.MissingField, field, format, args...)
}

func notFound(field, format string, args ...any) *Error {
	return apierr.New(apierr.NotFound, field, format, args...)
}

func conflict(field, format string, args ...any) *Error {
	return apierr.New(apierr.Conflict, field, format, args...)
}

// Actor is who makes a coordination change: a registered agent (by id) or a
// person (GitHub login or OS user name, decided by the caller).
type Actor struct {
	ID    string
	Agent bool
}

// Agent is a coordination participant (GET /api/coord/agents). Status is
// derived from LastSeenAt (AgentStatus).
type Agent struct {
	ID           string    `json:"id"`
	Name         string    `json:"name"`
	Type         string    `json:"type"`
	Status       string    `json:"status"`
	ActiveTasks  int       `json:"active_tasks"`
	RegisteredAt string    `json:"registered_at"`
	LastSeen     string    `json:"last_seen"`
	LastSeenAt   time.Time `json:"-"`
}

// Task is one item of the task board.
type Task struct {
	ID           string   `json:"id"`
	Title        string   `json:"title"`
	Details      string   `json:"details"`
	Owner        string   `json:"owner"`
	Priority     string   `json:"priority"`
	AgentType    string   `json:"agent_type"`
	Section      string   `json:"section"`
	Location     string   `json:"location"`
	Predecessors []string `json:"predecessors"`
	DepType      string   `json:"dep_type"`
	Status       string   `json:"status"`
	ClaimedBy    string   `json:"claimed_by"`
	Result       string   `json:"result"`
	CreatedBy    string   `json:"created_by"`
	UpdatedBy    string   `json:"updated_by"`
	CompletedBy  string   `json:"completed_by"`
	CreatedAt    string   `json:"created_at"`
	UpdatedAt    string   `json:"updated_at"`
	ClaimedAt    string   `json:"claimed_at"`
	CompletedAt  string   `json:"completed_at"`
}

// Lock is an advisory file lock.
type Lock struct {
	Path       string `json:"path"`
	Holder     string `json:"holder"`
	AcquiredAt string `json:"acquired_at"`
	ExpiresAt  string `json:"expires_at"`
	ReleasedAt string `json:"released_at"`
	ReleasedBy string `json:"released_by"`
}

// Message is a note between agents and people.
type Message struct {
	ID        int64  `json:"id"`
	From      string `json:"from"`
	To        string `json:"to"`
	Message   string `json:"message"`
	TaskID    string `json:"task_id"`
	MsgType   string `json:"msg_type"`
	CreatedAt string `json:"created_at"`
}

// AgentInput is a heartbeat: an agent registers or refreshes itself.
type AgentInput struct {
	ID, Name, Type string
}

// TaskInput creates a task. Empty fields take their defaults: an id T<n>,
// owner any, priority P1, agent_type any, section "Ad Hoc", dep_type FS.
type TaskInput struct {
	ID           string
	Title        string
	Details      string
	Owner        string
	Priority     string
	AgentType    string
	Section      string
	Location     string
	Predecessors []string
	DepType      string
}

// TaskPatch changes some fields of a task (nil: unchanged).
type TaskPatch struct {
	Title, Details, Owner, Priority, AgentType, Section, Location, DepType *string
	Predecessors                                                           *[]string
}

// DefaultSection is the section of a task created without one.
const DefaultSection = "Ad Hoc"

// CompleteInput finishes a task: a result summary, an optional follow-up
// task (it depends on the completed one with its own dep_type, keeps the
// location and section it is given, and defaults its section to the
// completed task's), and Notify to broadcast the result to all.
type CompleteInput struct {
	Summary  string
	FollowUp *TaskInput
	Notify   bool
}

// Completion is the result of CompleteTask.
type Completion struct {
	Task     Task      `json:"task"`
	FollowUp *Task     `json:"follow_up"`
	Messages []Message `json:"messages"`
}

// TaskFilter selects tasks ("" matches all).
type TaskFilter struct {
	Status, Owner string
}

// MessageInput is a message to post; From comes from the actor.
type MessageInput struct {
	To, Message, TaskID, MsgType string
}

// MessageFilter pages messages newest first: Limit 1..200 (0: 50), Before
// an exclusive message id (0: from the newest); For keeps what an agent
// should read (sent to it, to all, or by it).
type MessageFilter struct {
	Limit  int
	Before int64
	For    string
}

// MessagePage is a page of messages, newest first; NextBefore continues it
// (nil on the last page).
type MessagePage struct {
	Messages   []Message `json:"messages"`
	NextBefore *int64    `json:"next_before"`
}
