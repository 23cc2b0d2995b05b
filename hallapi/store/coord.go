package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"hallmonitor/hallapi/events"
)

// Coordination: the multi-agent task board. Agents register with a
// heartbeat; people and agents create, claim and complete tasks linked by
// predecessors; agents hold advisory file locks and exchange messages. All
// validation lives here so the HTTP handlers and the MCP tools refuse the
// same input the same way (a *CoordError naming the field).

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

// CoordError is a refused coordination request. Code is invalid_field,
// missing_field, not_found or conflict; Field names the input.
type CoordError struct {
	Code    string
	Field   string
	Message string
}

func (e *CoordError) Error() string { return e.Message }

func invalid(field, format string, args ...any) *CoordError {
	return &CoordError{"invalid_field", field, fmt.Sprintf(format, args...)}
}

func missing(field, format string, args ...any) *CoordError {
	return &CoordError{"missing_field", field, fmt.Sprintf(format, args...)}
}

func notFound(field, format string, args ...any) *CoordError {
	return &CoordError{"not_found", field, fmt.Sprintf(format, args...)}
}

func conflict(field, format string, args ...any) *CoordError {
	return &CoordError{"conflict", field, fmt.Sprintf(format, args...)}
}

// Actor is who makes a coordination change: a registered agent (by id) or a
// person (GitHub login or OS user name, decided by the caller).
type Actor struct {
	ID    string
	Agent bool
}

// Agent is a coordination participant (GET /api/coord/agents).
type Agent struct {
	ID           string `json:"id"`
	Name         string `json:"name"`
	Type         string `json:"type"`
	Status       string `json:"status"`
	ActiveTasks  int    `json:"active_tasks"`
	RegisteredAt string `json:"registered_at"`
	LastSeen     string `json:"last_seen"`
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

var (
	agentIDRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
	taskIDRe  = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9._-]{0,31}$`)
	ownerRe   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}$`)
)

// ValidAgentID checks an agent id: 1..64 letters, digits, '.', '_' or '-',
// starting with a letter or digit.
func ValidAgentID(field, id string) error {
	if id == "" {
		return missing(field, "%s is required: the agent's id (letters, digits, '.', '_', '-'), e.g. claude-1", field)
	}
	if !agentIDRe.MatchString(id) {
		return invalid(field, "%s %q is not an agent id: use 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit", field, clip(id))
	}
	return nil
}

// ValidTaskID checks a client-chosen task id: 1..32 letters, digits, '.',
// '_' or '-', starting with a letter (e.g. C1, R3, build-docs).
func ValidTaskID(field, id string) error {
	if !taskIDRe.MatchString(id) {
		return invalid(field, "%s %q is not a task id: use 1 to 32 letters, digits, '.', '_' or '-', starting with a letter (e.g. C1)", field, clip(id))
	}
	return nil
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}

func oneOf(field, v string, allowed []string, fold bool) (string, error) {
	for _, a := range allowed {
		if v == a || fold && strings.EqualFold(v, a) {
			return a, nil
		}
	}
	return "", invalid(field, "%s must be one of %s, not %q", field, strings.Join(allowed, ", "), clip(v))
}

func maxLen(field, v string, n int) error {
	if len(v) > n {
		return invalid(field, "%s is %d bytes long; at most %d are allowed", field, len(v), n)
	}
	return nil
}

func agentStatus(lastSeen, now time.Time) string {
	switch age := now.Sub(lastSeen); {
	case age <= AgentActiveFor:
		return AgentActive
	case age <= AgentIdleFor:
		return AgentIdle
	}
	return AgentOffline
}

// ---- agents ----

// AgentInput is a heartbeat: an agent registers or refreshes itself.
type AgentInput struct {
	ID, Name, Type string
}

// Heartbeat registers an agent or refreshes its last_seen (and name/type).
// A coord.agent event is emitted when the agent is new, changed, or was
// not active, so the roster updates live without an event per beat.
func (s *Store) Heartbeat(ctx context.Context, in AgentInput) (Agent, error) {
	if err := ValidAgentID("id", in.ID); err != nil {
		return Agent{}, err
	}
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" {
		in.Name = in.ID
	}
	if err := maxLen("name", in.Name, 80); err != nil {
		return Agent{}, err
	}
	if in.Type == "" {
		in.Type = "other"
	}
	typ, err := oneOf("type", in.Type, AgentTypes, true)
	if err != nil {
		return Agent{}, err
	}
	in.Type = typ
	var a Agent
	err = s.Write(ctx, func(t *Tx) error {
		old, err := t.agent(in.ID)
		isNew := errors.Is(err, sql.ErrNoRows)
		if err != nil && !isNew {
			return err
		}
		now := formatTime(t.now)
		if isNew {
			_, err = t.tx.Exec(`INSERT INTO coord_agents(id, name, type, registered_at, last_seen, last_seen_us) VALUES (?,?,?,?,?,?)`,
				in.ID, in.Name, in.Type, now, now, t.now.UnixMicro())
		} else {
			_, err = t.tx.Exec(`UPDATE coord_agents SET name = ?, type = ?, last_seen = ?, last_seen_us = ? WHERE id = ?`,
				in.Name, in.Type, now, t.now.UnixMicro(), in.ID)
		}
		if err != nil {
			return err
		}
		if a, err = t.agent(in.ID); err != nil {
			return err
		}
		if isNew || old.Name != a.Name || old.Type != a.Type || old.Status != AgentActive {
			_, err = t.Emit(events.CoordAgent, a)
		}
		return err
	})
	return a, err
}

func (t *Tx) agent(id string) (Agent, error) {
	a, us, err := scanAgent(t.tx.QueryRow(`SELECT `+agentCols+` FROM coord_agents a WHERE id = ?`, id))
	if err == nil {
		a.Status = agentStatus(time.UnixMicro(us), t.now)
	}
	return a, err
}

const agentCols = `id, name, type, registered_at, last_seen, last_seen_us,
	(SELECT count(*) FROM coord_tasks WHERE claimed_by = a.id AND status = 'in_progress')`

func scanAgent(sc scanner) (Agent, int64, error) {
	var a Agent
	var us int64
	err := sc.Scan(&a.ID, &a.Name, &a.Type, &a.RegisteredAt, &a.LastSeen, &us, &a.ActiveTasks)
	return a, us, err
}

// touch checks that an agent actor is registered and refreshes its
// last_seen (an action is a sign of life); a person actor passes as is.
func (t *Tx) touch(by Actor, field string) error {
	if !by.Agent {
		if by.ID == "" {
			return errors.New("coordination change without an actor")
		}
		return nil
	}
	if err := ValidAgentID(field, by.ID); err != nil {
		return err
	}
	old, err := t.agent(by.ID)
	if errors.Is(err, sql.ErrNoRows) {
		return invalid(field, "%s %q is not a registered agent: send a heartbeat (POST /api/coord/agents/heartbeat) first", field, by.ID)
	}
	if err != nil {
		return err
	}
	now := formatTime(t.now)
	if _, err := t.tx.Exec(`UPDATE coord_agents SET last_seen = ?, last_seen_us = ? WHERE id = ?`, now, t.now.UnixMicro(), by.ID); err != nil {
		return err
	}
	if old.Status != AgentActive {
		old.Status, old.LastSeen = AgentActive, now
		_, err = t.Emit(events.CoordAgent, old)
	}
	return err
}

// ListAgents lists the registered agents, most recently seen first.
func (s *Store) ListAgents(ctx context.Context) ([]Agent, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+agentCols+` FROM coord_agents a ORDER BY last_seen_us DESC, id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	now := s.Now()
	out := []Agent{}
	for rows.Next() {
		a, us, err := scanAgent(rows)
		if err != nil {
			return nil, err
		}
		a.Status = agentStatus(time.UnixMicro(us), now)
		out = append(out, a)
	}
	return out, rows.Err()
}

// ---- tasks ----

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

// normalize validates and completes a task's editable fields (prefix is
// the JSON path of the object, "" or "follow_up.").
func normalizeTask(prefix string, tk *Task) error {
	tk.Title = strings.TrimSpace(tk.Title)
	if tk.Title == "" {
		return missing(prefix+"title", "%stitle is required: say what needs to be done", prefix)
	}
	checks := []struct {
		field, v string
		n        int
	}{{"title", tk.Title, 200}, {"details", tk.Details, 10000}, {"section", tk.Section, 80}, {"location", tk.Location, 1024}}
	for _, c := range checks {
		if err := maxLen(prefix+c.field, c.v, c.n); err != nil {
			return err
		}
	}
	if tk.Owner == "" {
		tk.Owner = OwnerAny
	}
	if !ownerRe.MatchString(tk.Owner) {
		return invalid(prefix+"owner", "%sowner %q is not an agent id, a person's name or \"any\" (letters, digits, '.', '_', '@', '+', '-')", prefix, clip(tk.Owner))
	}
	var err error
	if tk.Priority == "" {
		tk.Priority = "P1"
	}
	if tk.Priority, err = oneOf(prefix+"priority", tk.Priority, Priorities, true); err != nil {
		return err
	}
	if tk.AgentType == "" {
		tk.AgentType = "any"
	}
	if tk.AgentType, err = oneOf(prefix+"agent_type", tk.AgentType, TaskAgentTypes, true); err != nil {
		return err
	}
	if tk.DepType == "" {
		tk.DepType = DepFS
	}
	if tk.DepType, err = oneOf(prefix+"dep_type", tk.DepType, DepTypes, true); err != nil {
		return err
	}
	tk.Section = strings.TrimSpace(tk.Section)
	if tk.Section == "" {
		tk.Section = DefaultSection
	}
	tk.Location = strings.TrimSpace(tk.Location)
	if tk.Predecessors == nil {
		tk.Predecessors = []string{}
	}
	if len(tk.Predecessors) > 100 {
		return invalid(prefix+"predecessors", "%spredecessors lists %d tasks; at most 100 are allowed", prefix, len(tk.Predecessors))
	}
	seen := map[string]bool{}
	for i, p := range tk.Predecessors {
		f := fmt.Sprintf("%spredecessors[%d]", prefix, i)
		if err := ValidTaskID(f, p); err != nil {
			return err
		}
		if seen[p] {
			return invalid(f, "%s: %s is listed twice", f, p)
		}
		seen[p] = true
		if p == tk.ID {
			return invalid(f, "%s: a task cannot depend on itself (%s)", f, p)
		}
	}
	return nil
}

const taskCols = `id, title, details, owner, priority, agent_type, section, location, predecessors, dep_type, status,
	claimed_by, result, created_by, updated_by, completed_by, created_at, updated_at, claimed_at, completed_at`

func scanTask(sc scanner) (Task, error) {
	var tk Task
	var preds string
	err := sc.Scan(&tk.ID, &tk.Title, &tk.Details, &tk.Owner, &tk.Priority, &tk.AgentType, &tk.Section, &tk.Location, &preds,
		&tk.DepType, &tk.Status, &tk.ClaimedBy, &tk.Result, &tk.CreatedBy, &tk.UpdatedBy, &tk.CompletedBy, &tk.CreatedAt,
		&tk.UpdatedAt, &tk.ClaimedAt, &tk.CompletedAt)
	if err != nil {
		return tk, err
	}
	if err := json.Unmarshal([]byte(preds), &tk.Predecessors); err != nil || tk.Predecessors == nil {
		tk.Predecessors = []string{}
	}
	return tk, nil
}

func (t *Tx) task(id string) (Task, error) {
	return scanTask(t.tx.QueryRow(`SELECT `+taskCols+` FROM coord_tasks WHERE id = ?`, id))
}

func (t *Tx) taskOr404(field, id string) (Task, error) {
	tk, err := t.task(id)
	if errors.Is(err, sql.ErrNoRows) {
		return tk, notFound(field, "no task %q: list the tasks with GET /api/coord/tasks", clip(id))
	}
	return tk, err
}

// graph reads every task's predecessors (id -> predecessor ids).
func (t *Tx) graph() (map[string][]string, error) {
	rows, err := t.tx.Query(`SELECT id, predecessors FROM coord_tasks`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	g := map[string][]string{}
	for rows.Next() {
		var id, preds string
		if err := rows.Scan(&id, &preds); err != nil {
			return nil, err
		}
		var ps []string
		_ = json.Unmarshal([]byte(preds), &ps) // written by this file: always a JSON array
		g[id] = ps
	}
	return g, rows.Err()
}

// checkPredecessors refuses unknown predecessors and, with id's new
// predecessors preds, a dependency cycle through id.
func (t *Tx) checkPredecessors(prefix, id string, preds []string) error {
	g, err := t.graph()
	if err != nil {
		return err
	}
	for i, p := range preds {
		if _, ok := g[p]; !ok {
			f := fmt.Sprintf("%spredecessors[%d]", prefix, i)
			return invalid(f, "%s: there is no task %s (create it first, or remove it from predecessors)", f, p)
		}
	}
	g[id] = preds
	// Depth-first search from id along predecessors; reaching id again is a cycle.
	var chain []string
	seen := map[string]bool{}
	var visit func(n string) bool
	visit = func(n string) bool {
		chain = append(chain, n)
		for _, p := range g[n] {
			if p == id {
				chain = append(chain, p)
				return true
			}
			if !seen[p] {
				seen[p] = true
				if visit(p) {
					return true
				}
			}
		}
		chain = chain[:len(chain)-1]
		return false
	}
	if visit(id) {
		return invalid(prefix+"predecessors", "%spredecessors would make a dependency cycle, %s (each waits for the next): remove one of these links",
			prefix, strings.Join(chain, " → "))
	}
	return nil
}

// blocked says why a task cannot start (starting) or finish (!starting)
// yet under its dependency type, or "" when it can: FS needs finished
// predecessors to start, SS started ones; to finish, FS and FF need them
// finished, SS and SF started.
func (t *Tx) blocked(tk Task, starting bool) (string, error) {
	needDone := false
	switch tk.DepType {
	case DepFS:
		needDone = true
	case DepFF:
		if starting {
			return "", nil
		}
		needDone = true
	case DepSF:
		if starting {
			return "", nil
		}
	}
	var waiting []string
	for _, p := range tk.Predecessors {
		pt, err := t.task(p)
		if errors.Is(err, sql.ErrNoRows) {
			continue // a predecessor that no longer exists blocks nothing
		}
		if err != nil {
			return "", err
		}
		if pt.Status == TaskDone || !needDone && pt.Status == TaskInProgress {
			continue
		}
		waiting = append(waiting, p+" ("+pt.Status+")")
	}
	if len(waiting) == 0 {
		return "", nil
	}
	verb, need := "start", "started"
	if !starting {
		verb = "finish"
	}
	if needDone {
		need = "done"
	}
	return fmt.Sprintf("%s cannot %s yet: with dependency %s its predecessors must be %s, and %s not", tk.ID, verb, tk.DepType, need, strings.Join(waiting, ", ")), nil
}

func (t *Tx) nextTaskID() (string, error) {
	var n int64
	if err := t.tx.QueryRow(`SELECT coalesce(max(seq), 0) + 1 FROM coord_tasks`).Scan(&n); err != nil {
		return "", err
	}
	for ; ; n++ {
		id := "T" + strconv.FormatInt(n, 10)
		var one int
		err := t.tx.QueryRow(`SELECT 1 FROM coord_tasks WHERE id = ?`, id).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return id, nil
		}
		if err != nil {
			return "", err
		}
	}
}

// CreateTask validates and stores a new pending task (coord.task.created).
func (s *Store) CreateTask(ctx context.Context, in TaskInput, by Actor) (Task, error) {
	var tk Task
	err := s.Write(ctx, func(t *Tx) error {
		var err error
		tk, err = t.createTask("", in, by)
		return err
	})
	return tk, err
}

func (t *Tx) createTask(prefix string, in TaskInput, by Actor) (Task, error) {
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
	if err := t.touch(by, "agent_id"); err != nil {
		return tk, err
	}
	if tk.ID == "" {
		id, err := t.nextTaskID()
		if err != nil {
			return tk, err
		}
		tk.ID = id
	} else if _, err := t.task(tk.ID); err == nil {
		return tk, conflict(prefix+"id", "%sid %s is taken: choose another id, or leave id out to get the next T<n>", prefix, tk.ID)
	} else if !errors.Is(err, sql.ErrNoRows) {
		return tk, err
	}
	if err := t.checkPredecessors(prefix, tk.ID, tk.Predecessors); err != nil {
		return tk, err
	}
	now := formatTime(t.now)
	tk.Status, tk.CreatedBy, tk.UpdatedBy, tk.CreatedAt, tk.UpdatedAt = TaskPending, by.ID, by.ID, now, now
	preds, _ := json.Marshal(tk.Predecessors)
	if _, err := t.tx.Exec(`INSERT INTO coord_tasks(id, title, details, owner, priority, agent_type, section, location, predecessors,
		dep_type, status, created_by, updated_by, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
		tk.ID, tk.Title, tk.Details, tk.Owner, tk.Priority, tk.AgentType, tk.Section, tk.Location, string(preds),
		tk.DepType, tk.Status, tk.CreatedBy, tk.UpdatedBy, now, now); err != nil {
		return tk, err
	}
	_, err := t.Emit(events.CoordTaskCreated, tk)
	return tk, err
}

func (t *Tx) saveTask(tk *Task, by Actor, event string) error {
	tk.UpdatedBy, tk.UpdatedAt = by.ID, formatTime(t.now)
	preds, _ := json.Marshal(tk.Predecessors)
	if _, err := t.tx.Exec(`UPDATE coord_tasks SET title = ?, details = ?, owner = ?, priority = ?, agent_type = ?, section = ?,
		location = ?, predecessors = ?, dep_type = ?, status = ?, claimed_by = ?, result = ?, updated_by = ?, completed_by = ?,
		updated_at = ?, claimed_at = ?, completed_at = ? WHERE id = ?`,
		tk.Title, tk.Details, tk.Owner, tk.Priority, tk.AgentType, tk.Section, tk.Location, string(preds), tk.DepType, tk.Status,
		tk.ClaimedBy, tk.Result, tk.UpdatedBy, tk.CompletedBy, tk.UpdatedAt, tk.ClaimedAt, tk.CompletedAt, tk.ID); err != nil {
		return err
	}
	_, err := t.Emit(event, *tk)
	return err
}

// UpdateTask applies a patch to a task's editable fields (coord.task.updated).
func (s *Store) UpdateTask(ctx context.Context, id string, p TaskPatch, by Actor) (Task, error) {
	var tk Task
	err := s.Write(ctx, func(t *Tx) error {
		var err error
		if tk, err = t.taskOr404("id", id); err != nil {
			return err
		}
		if err := t.touch(by, "agent_id"); err != nil {
			return err
		}
		set := func(dst *string, v *string) {
			if v != nil {
				*dst = *v
			}
		}
		set(&tk.Title, p.Title)
		set(&tk.Details, p.Details)
		set(&tk.Owner, p.Owner)
		set(&tk.Priority, p.Priority)
		set(&tk.AgentType, p.AgentType)
		set(&tk.Section, p.Section)
		set(&tk.Location, p.Location)
		set(&tk.DepType, p.DepType)
		if p.Predecessors != nil {
			tk.Predecessors = *p.Predecessors
		}
		if err := normalizeTask("", &tk); err != nil {
			return err
		}
		if p.Predecessors != nil {
			if err := t.checkPredecessors("", tk.ID, tk.Predecessors); err != nil {
				return err
			}
		}
		return t.saveTask(&tk, by, events.CoordTaskUpdated)
	})
	return tk, err
}

// ClaimTask starts a pending task for the actor (coord.task.updated).
// Claiming a task one already holds changes nothing.
func (s *Store) ClaimTask(ctx context.Context, id string, by Actor) (Task, error) {
	var tk Task
	err := s.Write(ctx, func(t *Tx) error {
		var err error
		if tk, err = t.taskOr404("id", id); err != nil {
			return err
		}
		if err := t.touch(by, "agent_id"); err != nil {
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
		why, err := t.blocked(tk, true)
		if err != nil {
			return err
		}
		if why != "" {
			return conflict("predecessors", "%s", why)
		}
		tk.Status, tk.ClaimedBy, tk.ClaimedAt = TaskInProgress, by.ID, formatTime(t.now)
		return t.saveTask(&tk, by, events.CoordTaskUpdated)
	})
	return tk, err
}

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

// CompleteTask marks a task done (coord.task.completed), creates the
// follow-up and posts the notifications, all in one transaction.
func (s *Store) CompleteTask(ctx context.Context, id string, in CompleteInput, by Actor) (Completion, error) {
	out := Completion{Messages: []Message{}}
	if err := maxLen("summary", in.Summary, 10000); err != nil {
		return out, err
	}
	err := s.Write(ctx, func(t *Tx) error {
		tk, err := t.taskOr404("id", id)
		if err != nil {
			return err
		}
		if err := t.touch(by, "agent_id"); err != nil {
			return err
		}
		if tk.Status == TaskDone {
			return conflict("id", "%s is already done (completed by %s at %s)", tk.ID, tk.CompletedBy, tk.CompletedAt)
		}
		why, err := t.blocked(tk, false)
		if err != nil {
			return err
		}
		if why != "" {
			return conflict("predecessors", "%s", why)
		}
		now := formatTime(t.now)
		tk.Status, tk.Result, tk.CompletedBy, tk.CompletedAt = TaskDone, strings.TrimSpace(in.Summary), by.ID, now
		if err := t.saveTask(&tk, by, events.CoordTaskCompleted); err != nil {
			return err
		}
		out.Task = tk
		notify := func(text, typ, taskID string) error {
			m, err := t.postMessage(Message{From: by.ID, To: MessageToAll, Message: text, TaskID: taskID, MsgType: typ})
			out.Messages = append(out.Messages, m)
			return err
		}
		if in.Notify {
			text := fmt.Sprintf("TASK COMPLETE: [%s] %s", tk.ID, tk.Title)
			if tk.Result != "" {
				text += " — " + tk.Result
			}
			if err := notify(clipRunes(text, 4000), MsgResult, tk.ID); err != nil {
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
		f, err := t.createTask("follow_up.", fu, by)
		if err != nil {
			return err
		}
		out.FollowUp = &f
		if in.Notify {
			return notify(clipRunes(fmt.Sprintf("NEW FOLLOW-UP TASK: [%s] %s (owner: %s, dep: %s from %s)", f.ID, f.Title, f.Owner, f.DepType, tk.ID), 4000), MsgAlert, f.ID)
		}
		return nil
	})
	return out, err
}

func clipRunes(s string, n int) string {
	r := []rune(s)
	if len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// ReassignTask gives a task another owner (coord.task.updated).
func (s *Store) ReassignTask(ctx context.Context, id, owner string, by Actor) (Task, error) {
	if owner == "" {
		return Task{}, missing("owner", "owner is required: an agent id, a person's name or \"any\"")
	}
	o := owner
	return s.UpdateTask(ctx, id, TaskPatch{Owner: &o}, by)
}

// TaskFilter selects tasks ("" matches all).
type TaskFilter struct {
	Status, Owner string
}

// ListTasks lists tasks in creation order.
func (s *Store) ListTasks(ctx context.Context, f TaskFilter) ([]Task, error) {
	switch f.Status {
	case "", TaskPending, TaskInProgress, TaskDone:
	default:
		return nil, invalid("status", "status must be pending, in_progress or done, not %q", clip(f.Status))
	}
	q := `SELECT ` + taskCols + ` FROM coord_tasks WHERE 1=1`
	var args []any
	if f.Status != "" {
		q += ` AND status = ?`
		args = append(args, f.Status)
	}
	if f.Owner != "" {
		q += ` AND owner = ?`
		args = append(args, f.Owner)
	}
	return queryAll(ctx, s.r, scanTask, q+` ORDER BY seq LIMIT 5000`, args...)
}

// ---- locks ----

// CleanLockPath validates a lock path and returns its clean form
// (slashes, no "." or ".." elements, no trailing slash).
func CleanLockPath(p string) (string, error) {
	if strings.TrimSpace(p) == "" {
		return "", missing("path", "path is required: the file (or directory) to lock, e.g. src/app.ts")
	}
	if len(p) > 1024 || strings.ContainsRune(p, 0) {
		return "", invalid("path", "path must be at most 1024 bytes without NUL characters")
	}
	return path.Clean(strings.ReplaceAll(p, "\\", "/")), nil
}

const lockCols = `path, holder, acquired_at, expires_at, released_at, released_by`

func scanLock(sc scanner) (Lock, error) {
	var l Lock
	err := sc.Scan(&l.Path, &l.Holder, &l.AcquiredAt, &l.ExpiresAt, &l.ReleasedAt, &l.ReleasedBy)
	return l, err
}

// AcquireLock takes (or, for its holder, extends) the lock on a path for
// ttlSeconds (DefaultLockTTL when 0). A lock held by another and not
// expired is a conflict naming the holder.
func (s *Store) AcquireLock(ctx context.Context, p string, ttlSeconds int64, by Actor) (Lock, error) {
	p, err := CleanLockPath(p)
	if err != nil {
		return Lock{}, err
	}
	ttl := DefaultLockTTL
	if ttlSeconds != 0 {
		if ttlSeconds < 1 || ttlSeconds > int64(MaxLockTTL/time.Second) {
			return Lock{}, invalid("ttl_seconds", "ttl_seconds must be from 1 to %d (0 or absent: %d)", int64(MaxLockTTL/time.Second), int64(DefaultLockTTL/time.Second))
		}
		ttl = time.Duration(ttlSeconds) * time.Second
	}
	var l Lock
	err = s.Write(ctx, func(t *Tx) error {
		if err := t.touch(by, "agent_id"); err != nil {
			return err
		}
		var seq int64
		row := t.tx.QueryRow(`SELECT seq, `+lockCols+` FROM coord_locks WHERE path = ? AND released_at = '' AND expires_us > ?`, p, t.now.UnixMicro())
		var cur Lock
		err := row.Scan(&seq, &cur.Path, &cur.Holder, &cur.AcquiredAt, &cur.ExpiresAt, &cur.ReleasedAt, &cur.ReleasedBy)
		exp := t.now.Add(ttl)
		switch {
		case err == nil && cur.Holder != by.ID:
			return conflict("path", "%s is locked by %s until %s: wait, or ask them to release it", p, cur.Holder, cur.ExpiresAt)
		case err == nil:
			cur.ExpiresAt = formatTime(exp)
			if _, err := t.tx.Exec(`UPDATE coord_locks SET expires_at = ?, expires_us = ? WHERE seq = ?`, cur.ExpiresAt, exp.UnixMicro(), seq); err != nil {
				return err
			}
			l = cur
		case errors.Is(err, sql.ErrNoRows):
			l = Lock{Path: p, Holder: by.ID, AcquiredAt: formatTime(t.now), ExpiresAt: formatTime(exp)}
			if _, err := t.tx.Exec(`INSERT INTO coord_locks(path, holder, acquired_at, expires_at, expires_us) VALUES (?,?,?,?,?)`,
				l.Path, l.Holder, l.AcquiredAt, l.ExpiresAt, exp.UnixMicro()); err != nil {
				return err
			}
		default:
			return err
		}
		_, err = t.Emit(events.CoordLockAcquired, l)
		return err
	})
	return l, err
}

// ReleaseLock releases the actor's lock on a path. Another holder's lock
// is a conflict; no live lock is not_found.
func (s *Store) ReleaseLock(ctx context.Context, p string, by Actor) (Lock, error) {
	p, err := CleanLockPath(p)
	if err != nil {
		return Lock{}, err
	}
	var l Lock
	err = s.Write(ctx, func(t *Tx) error {
		if err := t.touch(by, "agent_id"); err != nil {
			return err
		}
		var seq int64
		err := t.tx.QueryRow(`SELECT seq, `+lockCols+` FROM coord_locks WHERE path = ? AND released_at = '' AND expires_us > ?`, p, t.now.UnixMicro()).
			Scan(&seq, &l.Path, &l.Holder, &l.AcquiredAt, &l.ExpiresAt, &l.ReleasedAt, &l.ReleasedBy)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return notFound("path", "%s is not locked (or its lock expired)", p)
		case err != nil:
			return err
		case l.Holder != by.ID:
			return conflict("path", "%s is locked by %s, not by %s: only the holder releases a lock", p, l.Holder, by.ID)
		}
		l.ReleasedAt, l.ReleasedBy = formatTime(t.now), by.ID
		if _, err := t.tx.Exec(`UPDATE coord_locks SET released_at = ?, released_by = ? WHERE seq = ?`, l.ReleasedAt, l.ReleasedBy, seq); err != nil {
			return err
		}
		_, err = t.Emit(events.CoordLockReleased, l)
		return err
	})
	return l, err
}

// ActiveLocks lists the locks neither released nor expired, oldest first.
func (s *Store) ActiveLocks(ctx context.Context) ([]Lock, error) {
	return queryAll(ctx, s.r, scanLock, `SELECT `+lockCols+` FROM coord_locks WHERE released_at = '' AND expires_us > ? ORDER BY seq`, s.Now().UnixMicro())
}

// ---- messages ----

// MessageInput is a message to post; From comes from the actor.
type MessageInput struct {
	To, Message, TaskID, MsgType string
}

// PostMessage stores a message from the actor (coord.message). To is "all"
// or a registered agent id.
func (s *Store) PostMessage(ctx context.Context, in MessageInput, by Actor) (Message, error) {
	var m Message
	err := s.Write(ctx, func(t *Tx) error {
		if err := t.touch(by, "agent_id"); err != nil {
			return err
		}
		if in.To == "" {
			in.To = MessageToAll
		}
		if in.To != MessageToAll {
			if err := ValidAgentID("to", in.To); err != nil {
				return err
			}
			if _, err := t.agent(in.To); errors.Is(err, sql.ErrNoRows) {
				return invalid("to", "to %q is not a registered agent: use \"all\" or an id from GET /api/coord/agents", in.To)
			} else if err != nil {
				return err
			}
		}
		in.Message = strings.TrimSpace(in.Message)
		if in.Message == "" {
			return missing("message", "message is required: the text to send")
		}
		if err := maxLen("message", in.Message, 4000); err != nil {
			return err
		}
		if in.MsgType == "" {
			in.MsgType = MsgMessage
		}
		typ, err := oneOf("msg_type", in.MsgType, MessageTypes, false)
		if err != nil {
			return err
		}
		if in.TaskID != "" {
			if _, err := t.task(in.TaskID); errors.Is(err, sql.ErrNoRows) {
				return invalid("task_id", "task_id %q is not a task: leave it out, or use an id from GET /api/coord/tasks", clip(in.TaskID))
			} else if err != nil {
				return err
			}
		}
		m, err = t.postMessage(Message{From: by.ID, To: in.To, Message: in.Message, TaskID: in.TaskID, MsgType: typ})
		return err
	})
	return m, err
}

func (t *Tx) postMessage(m Message) (Message, error) {
	m.CreatedAt = formatTime(t.now)
	res, err := t.tx.Exec(`INSERT INTO coord_messages(from_id, to_id, message, task_id, msg_type, created_at) VALUES (?,?,?,?,?,?)`,
		m.From, m.To, m.Message, m.TaskID, m.MsgType, m.CreatedAt)
	if err != nil {
		return m, err
	}
	if m.ID, err = res.LastInsertId(); err != nil {
		return m, err
	}
	_, err = t.Emit(events.CoordMessage, m)
	return m, err
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

// ListMessages returns a page of messages.
func (s *Store) ListMessages(ctx context.Context, f MessageFilter) (MessagePage, error) {
	page := MessagePage{Messages: []Message{}}
	if f.Limit == 0 {
		f.Limit = 50
	}
	if f.Limit < 1 || f.Limit > 200 {
		return page, invalid("limit", "limit must be from 1 to 200, not %d", f.Limit)
	}
	if f.Before < 0 {
		return page, invalid("before", "before must be a message id (next_before of the previous page)")
	}
	if f.For != "" {
		if err := ValidAgentID("for", f.For); err != nil {
			return page, err
		}
	}
	q := `SELECT id, from_id, to_id, message, task_id, msg_type, created_at FROM coord_messages WHERE 1=1`
	var args []any
	if f.Before > 0 {
		q += ` AND id < ?`
		args = append(args, f.Before)
	}
	if f.For != "" {
		q += ` AND (to_id = ? OR to_id = 'all' OR from_id = ?)`
		args = append(args, f.For, f.For)
	}
	rows, err := s.r.QueryContext(ctx, q+` ORDER BY id DESC LIMIT ?`, append(args, f.Limit)...)
	if err != nil {
		return page, err
	}
	defer rows.Close()
	for rows.Next() {
		var m Message
		if err := rows.Scan(&m.ID, &m.From, &m.To, &m.Message, &m.TaskID, &m.MsgType, &m.CreatedAt); err != nil {
			return page, err
		}
		page.Messages = append(page.Messages, m)
	}
	if len(page.Messages) == f.Limit {
		next := page.Messages[len(page.Messages)-1].ID
		page.NextBefore = &next
	}
	return page, rows.Err()
}
