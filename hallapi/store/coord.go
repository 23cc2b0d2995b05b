package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"hallmonitor/hallapi/coord"
)

// Coordination storage: the SQL of the task board (coord_agents,
// coord_tasks, coord_locks, coord_messages; migration 0004). The board's
// validation and rules are hallapi/coord's, which calls this through
// coord.Repo and coord.Tx.

var _ coord.Repo = (*Store)(nil)

// CoordWrite runs fn in one write transaction (Write) over the board.
func (s *Store) CoordWrite(ctx context.Context, fn func(coord.Tx) error) error {
	return s.Write(ctx, func(t *Tx) error { return fn(coordTx{t}) })
}

// coordTx is a Tx seen as a coord.Tx.
type coordTx struct{ t *Tx }

func (c coordTx) Now() time.Time            { return c.t.now }
func (c coordTx) Format(t time.Time) string { return formatTime(t) }
func (c coordTx) Emit(typ string, data any) error {
	_, err := c.t.Emit(typ, data)
	return err
}

// rowFound turns sql.ErrNoRows into found == false.
func rowFound(err error) (bool, error) {
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// ---- agents ----

const agentCols = `id, name, type, registered_at, last_seen, last_seen_us,
	(SELECT count(*) FROM coord_tasks WHERE claimed_by = a.id AND status = 'in_progress')`

func scanAgent(sc scanner) (coord.Agent, error) {
	var a coord.Agent
	var us int64
	err := sc.Scan(&a.ID, &a.Name, &a.Type, &a.RegisteredAt, &a.LastSeen, &us, &a.ActiveTasks)
	a.LastSeenAt = time.UnixMicro(us)
	return a, err
}

func (c coordTx) Agent(id string) (coord.Agent, bool, error) {
	a, err := scanAgent(c.t.tx.QueryRow(`SELECT `+agentCols+` FROM coord_agents a WHERE id = ?`, id))
	ok, err := rowFound(err)
	return a, ok, err
}

func (c coordTx) SaveAgent(in coord.AgentInput, isNew bool) error {
	now, us := formatTime(c.t.now), c.t.now.UnixMicro()
	var err error
	if isNew {
		_, err = c.t.tx.Exec(`INSERT INTO coord_agents(id, name, type, registered_at, last_seen, last_seen_us) VALUES (?,?,?,?,?,?)`,
			in.ID, in.Name, in.Type, now, now, us)
	} else {
		_, err = c.t.tx.Exec(`UPDATE coord_agents SET name = ?, type = ?, last_seen = ?, last_seen_us = ? WHERE id = ?`,
			in.Name, in.Type, now, us, in.ID)
	}
	return err
}

func (c coordTx) TouchAgent(id string) error {
	_, err := c.t.tx.Exec(`UPDATE coord_agents SET last_seen = ?, last_seen_us = ? WHERE id = ?`, formatTime(c.t.now), c.t.now.UnixMicro(), id)
	return err
}

// CoordAgents lists the registered agents, most recently seen first.
func (s *Store) CoordAgents(ctx context.Context) ([]coord.Agent, error) {
	return queryAll(ctx, s.r, scanAgent, `SELECT `+agentCols+` FROM coord_agents a ORDER BY last_seen_us DESC, id`)
}

// ---- tasks ----

const taskCols = `id, title, details, owner, priority, agent_type, section, location, predecessors, dep_type, status,
	claimed_by, result, created_by, updated_by, completed_by, created_at, updated_at, claimed_at, completed_at`

func scanTask(sc scanner) (coord.Task, error) {
	var tk coord.Task
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

func (c coordTx) Task(id string) (coord.Task, bool, error) {
	tk, err := scanTask(c.t.tx.QueryRow(`SELECT `+taskCols+` FROM coord_tasks WHERE id = ?`, id))
	ok, err := rowFound(err)
	return tk, ok, err
}

func (c coordTx) TaskGraph() (map[string][]string, error) {
	rows, err := c.t.tx.Query(`SELECT id, predecessors FROM coord_tasks`)
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

func (c coordTx) NextTaskID() (string, error) {
	var n int64
	if err := c.t.tx.QueryRow(`SELECT coalesce(max(seq), 0) + 1 FROM coord_tasks`).Scan(&n); err != nil {
		return "", err
	}
	for ; ; n++ {
		id := "T" + strconv.FormatInt(n, 10)
		var one int
		err := c.t.tx.QueryRow(`SELECT 1 FROM coord_tasks WHERE id = ?`, id).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return id, nil
		}
		if err != nil {
			return "", err
		}
	}
}

func (c coordTx) InsertTask(tk coord.Task) error {
	preds, _ := json.Marshal(tk.Predecessors)
	_, err := c.t.tx.Exec(`INSERT INTO coord_tasks(id, title, details, owner, priority, agent_type, section, location, predecessors,
		dep_type, status, created_by, updated_by, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
		tk.ID, tk.Title, tk.Details, tk.Owner, tk.Priority, tk.AgentType, tk.Section, tk.Location, string(preds),
		tk.DepType, tk.Status, tk.CreatedBy, tk.UpdatedBy, tk.CreatedAt, tk.UpdatedAt)
	return err
}

func (c coordTx) UpdateTask(tk coord.Task) error {
	preds, _ := json.Marshal(tk.Predecessors)
	_, err := c.t.tx.Exec(`UPDATE coord_tasks SET title = ?, details = ?, owner = ?, priority = ?, agent_type = ?, section = ?,
		location = ?, predecessors = ?, dep_type = ?, status = ?, claimed_by = ?, result = ?, updated_by = ?, completed_by = ?,
		updated_at = ?, claimed_at = ?, completed_at = ? WHERE id = ?`,
		tk.Title, tk.Details, tk.Owner, tk.Priority, tk.AgentType, tk.Section, tk.Location, string(preds), tk.DepType, tk.Status,
		tk.ClaimedBy, tk.Result, tk.UpdatedBy, tk.CompletedBy, tk.UpdatedAt, tk.ClaimedAt, tk.CompletedAt, tk.ID)
	return err
}

// CoordTasks lists tasks in creation order ("" in f matches all).
func (s *Store) CoordTasks(ctx context.Context, f coord.TaskFilter) ([]coord.Task, error) {
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

const lockCols = `path, holder, acquired_at, expires_at, released_at, released_by`

func scanLock(sc scanner) (coord.Lock, error) {
	var l coord.Lock
	err := sc.Scan(&l.Path, &l.Holder, &l.AcquiredAt, &l.ExpiresAt, &l.ReleasedAt, &l.ReleasedBy)
	return l, err
}

func (c coordTx) LiveLock(p string) (coord.Lock, int64, bool, error) {
	var l coord.Lock
	var seq int64
	err := c.t.tx.QueryRow(`SELECT seq, `+lockCols+` FROM coord_locks WHERE path = ? AND released_at = '' AND expires_us > ?`, p, c.t.now.UnixMicro()).
		Scan(&seq, &l.Path, &l.Holder, &l.AcquiredAt, &l.ExpiresAt, &l.ReleasedAt, &l.ReleasedBy)
	ok, err := rowFound(err)
	return l, seq, ok, err
}

func (c coordTx) InsertLock(l coord.Lock, expires time.Time) error {
	_, err := c.t.tx.Exec(`INSERT INTO coord_locks(path, holder, acquired_at, expires_at, expires_us) VALUES (?,?,?,?,?)`,
		l.Path, l.Holder, l.AcquiredAt, l.ExpiresAt, expires.UnixMicro())
	return err
}

func (c coordTx) ExtendLock(seq int64, expires time.Time) error {
	_, err := c.t.tx.Exec(`UPDATE coord_locks SET expires_at = ?, expires_us = ? WHERE seq = ?`, formatTime(expires), expires.UnixMicro(), seq)
	return err
}

func (c coordTx) ReleaseLock(seq int64, releasedAt, releasedBy string) error {
	_, err := c.t.tx.Exec(`UPDATE coord_locks SET released_at = ?, released_by = ? WHERE seq = ?`, releasedAt, releasedBy, seq)
	return err
}

// CoordLocks lists the locks neither released nor expired at now, oldest first.
func (s *Store) CoordLocks(ctx context.Context, now time.Time) ([]coord.Lock, error) {
	return queryAll(ctx, s.r, scanLock, `SELECT `+lockCols+` FROM coord_locks WHERE released_at = '' AND expires_us > ? ORDER BY seq`, now.UnixMicro())
}

// ---- messages ----

func (c coordTx) InsertMessage(m coord.Message) (int64, error) {
	res, err := c.t.tx.Exec(`INSERT INTO coord_messages(from_id, to_id, message, task_id, msg_type, created_at) VALUES (?,?,?,?,?,?)`,
		m.From, m.To, m.Message, m.TaskID, m.MsgType, m.CreatedAt)
	if err != nil {
		return 0, err
	}
	return res.LastInsertId()
}

func scanMessage(sc scanner) (coord.Message, error) {
	var m coord.Message
	err := sc.Scan(&m.ID, &m.From, &m.To, &m.Message, &m.TaskID, &m.MsgType, &m.CreatedAt)
	return m, err
}

// CoordMessages lists up to f.Limit messages newest first: ids below
// f.Before (when > 0), and with f.For those sent to it, to all or by it.
func (s *Store) CoordMessages(ctx context.Context, f coord.MessageFilter) ([]coord.Message, error) {
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
	return queryAll(ctx, s.r, scanMessage, q+` ORDER BY id DESC LIMIT ?`, append(args, f.Limit)...)
}
