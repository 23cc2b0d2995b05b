// Package store is Hall Monitor's SQLite store (mattn/go-sqlite3): WAL, busy
// timeout, foreign keys, synchronous=FULL so an acknowledged write survives a
// crash, embedded versioned migrations, and one writer. Every change is written
// together with its numbered event in one transaction; after the commit the
// events are published on the bus (hallapi/events) in id order.
package store

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	sqlite3 "github.com/mattn/go-sqlite3"

	"hallmonitor/hallapi/events"
)

// writerDriver is SQLite with automatic WAL checkpoints turned off on the
// writer connection: a checkpoint inside a commit would stall that commit
// (and every live event) for as long as the database file takes to fsync.
// Checkpoints run in the background instead (Store.checkpointLoop).
const writerDriver = "sqlite3_hall_writer"

func init() {
	sql.Register(writerDriver, &sqlite3.SQLiteDriver{ConnectHook: func(c *sqlite3.SQLiteConn) error {
		_, err := c.Exec("PRAGMA wal_autocheckpoint=0", nil)
		return err
	}})
}

// checkpointEvery is how often the WAL is copied back into the database file.
const checkpointEvery = time.Second

//go:embed migrations/*.sql
var migrationFS embed.FS

// Sentinel errors; handlers map them to HTTP status codes.
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("conflict")
	// ErrPrecondition reports an ETag mismatch.
	ErrPrecondition = errors.New("precondition failed")
)

// NewerSchemaError is returned by Open when the database was written by a newer binary.
type NewerSchemaError struct {
	Path          string
	DBVersion     int
	BinaryVersion int
}

func (e *NewerSchemaError) Error() string {
	return fmt.Sprintf("database %s has schema version %d but this Hall Monitor only knows versions up to %d: upgrade Hall Monitor, or use another --data-dir", e.Path, e.DBVersion, e.BinaryVersion)
}

// Store is the Hall's database. It is safe for concurrent use.
type Store struct {
	path string
	w    *sql.DB // the one writer connection
	r    *sql.DB // readers (WAL lets them run beside the writer)
	cp   *sql.DB // background WAL checkpoints
	wmu  sync.Mutex
	bus  *events.Bus
	stop chan struct{}
	done chan struct{}
	// checkpoints counts background checkpoints (tests).
	checkpoints atomic.Int64
	// stmts are the prepared statements of the hot write paths (read-only after Open).
	stmts map[string]*sql.Stmt
	now   func() time.Time
	// approvalReceipts signs approvals' resolutions (SetApprovalReceipter).
	approvalReceipts atomic.Pointer[ApprovalReceipter]
	// group feeds the group committer (group.go); groupStop stops it and
	// refuses further writes; groupDone is closed when it has returned.
	group     chan *groupReq
	groupStop chan struct{}
	groupDone chan struct{}
	// hooks are the OnCommit functions (copy on write).
	hooksMu sync.Mutex
	hooks   atomic.Pointer[[]func([]events.Event)]
}

// Options tunes Open. The zero value is the production setting.
type Options struct {
	// Now overrides the clock (tests).
	Now func() time.Time
	// BusyTimeout is how long a connection waits for a lock (default 5 s).
	BusyTimeout time.Duration
}

type migration struct {
	version int
	name    string
	sql     string
}

func loadMigrations() ([]migration, error) {
	ents, err := fs.ReadDir(migrationFS, "migrations")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, e := range ents {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("migration file %q must be named NNNN_name.sql", e.Name())
		}
		b, err := migrationFS.ReadFile("migrations/" + e.Name())
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{v, e.Name(), string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	// A missing or repeated number would skip or double a schema step.
	for i, m := range ms {
		if m.version != i+1 {
			return nil, fmt.Errorf("migrations must be numbered 1..n without gaps; found %s at position %d", m.name, i+1)
		}
	}
	return ms, nil
}

// SchemaVersion is the newest schema version this binary knows.
func SchemaVersion() int {
	ms, err := loadMigrations()
	if err != nil || len(ms) == 0 {
		return 0
	}
	return ms[len(ms)-1].version
}

// Open opens (creating if needed) the database at path, migrates it to the
// newest schema, and refuses a database written by a newer binary.
func Open(path string, opts Options) (*Store, error) {
	if path == "" {
		return nil, errors.New("store: database path is empty")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o700); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	busy := opts.BusyTimeout
	if busy <= 0 {
		busy = 5 * time.Second
	}
	q := url.Values{}
	q.Set("_journal_mode", "WAL")
	q.Set("_busy_timeout", strconv.FormatInt(busy.Milliseconds(), 10))
	q.Set("_foreign_keys", "on")
	q.Set("_synchronous", "FULL")
	q.Set("_txlock", "immediate")
	dsn := "file:" + (&url.URL{Path: abs}).EscapedPath() + "?" + q.Encode()
	w, err := sql.Open(writerDriver, dsn)
	if err != nil {
		return nil, err
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	// Create the file with 0600 before SQLite does (it would use 0644).
	if f, err := os.OpenFile(abs, os.O_CREATE|os.O_RDWR, 0o600); err == nil {
		f.Close()
	}
	s := &Store{path: abs, w: w, now: opts.Now, stmts: map[string]*sql.Stmt{}}
	if s.now == nil {
		s.now = time.Now
	}
	if err := s.migrate(); err != nil {
		w.Close()
		return nil, err
	}
	if err := s.prepare(); err != nil {
		s.Close()
		return nil, err
	}
	rq := url.Values{}
	rq.Set("_busy_timeout", strconv.FormatInt(busy.Milliseconds(), 10))
	rq.Set("_foreign_keys", "on")
	rq.Set("_query_only", "true")
	r, err := sql.Open("sqlite3", "file:"+(&url.URL{Path: abs}).EscapedPath()+"?"+rq.Encode())
	if err != nil {
		w.Close()
		return nil, err
	}
	r.SetMaxOpenConns(4)
	r.SetMaxIdleConns(4)
	s.r = r
	var last sql.NullInt64
	if err := w.QueryRow(`SELECT max(id) FROM events`).Scan(&last); err != nil {
		s.Close()
		return nil, err
	}
	s.bus = events.NewBus(last.Int64)
	cq := url.Values{}
	cq.Set("_busy_timeout", "100")
	cp, err := sql.Open("sqlite3", "file:"+(&url.URL{Path: abs}).EscapedPath()+"?"+cq.Encode())
	if err != nil {
		s.Close()
		return nil, err
	}
	cp.SetMaxOpenConns(1)
	s.cp, s.stop, s.done = cp, make(chan struct{}), make(chan struct{})
	go s.checkpointLoop()
	s.group, s.groupStop, s.groupDone = make(chan *groupReq), make(chan struct{}), make(chan struct{})
	go s.groupLoop()
	return s, nil
}

func (s *Store) migrate() error {
	ms, err := loadMigrations()
	if err != nil {
		return err
	}
	ctx := context.Background()
	conn, err := s.w.Conn(ctx)
	if err != nil {
		return fmt.Errorf("open %s: %w", s.path, err)
	}
	defer conn.Close()
	// BEGIN IMMEDIATE (txlock) serialises concurrent migrators across processes.
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("open %s: %w", s.path, err)
	}
	defer tx.Rollback()
	var v int
	if err := tx.QueryRow(`PRAGMA user_version`).Scan(&v); err != nil {
		return fmt.Errorf("open %s: not a SQLite database? %w", s.path, err)
	}
	newest := 0
	if len(ms) > 0 {
		newest = ms[len(ms)-1].version
	}
	if v > newest {
		return &NewerSchemaError{Path: s.path, DBVersion: v, BinaryVersion: newest}
	}
	for _, m := range ms {
		if m.version <= v {
			continue
		}
		if _, err := tx.Exec(m.sql); err != nil {
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
		if _, err := tx.Exec(fmt.Sprintf(`PRAGMA user_version = %d`, m.version)); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// Close closes the database.
func (s *Store) Close() error {
	var errs []error
	if s.groupStop != nil {
		// Writes already taken by the committer finish; later ones get ErrClosed.
		close(s.groupStop)
		<-s.groupDone
	}
	if s.stop != nil {
		close(s.stop)
		<-s.done
		// A final full checkpoint keeps the WAL small between runs.
		_, err := s.cp.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`)
		errs = append(errs, err, s.cp.Close())
	}
	for _, st := range s.stmts {
		errs = append(errs, st.Close())
	}
	if s.r != nil {
		errs = append(errs, s.r.Close())
	}
	errs = append(errs, s.w.Close())
	return errors.Join(errs...)
}

// checkpointLoop copies the WAL into the database file every second without
// blocking writers (PASSIVE), so commits stay fast and the WAL stays bounded.
func (s *Store) checkpointLoop() {
	defer close(s.done)
	t := time.NewTicker(checkpointEvery)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			// An error (e.g. SQLITE_BUSY) only delays the checkpoint to the next tick.
			if _, err := s.cp.Exec(`PRAGMA wal_checkpoint(PASSIVE)`); err == nil {
				s.checkpoints.Add(1)
			}
		}
	}
}

// Path is the database file.
func (s *Store) Path() string { return s.path }

// Bus is the event bus fed by this store.
func (s *Store) Bus() *events.Bus { return s.bus }

// Now is the store's clock (UTC).
func (s *Store) Now() time.Time { return s.now().UTC() }

// Tx is a write transaction that also collects the events of the change.
type Tx struct {
	tx     *sql.Tx
	s      *Store
	now    time.Time
	events []events.Event
	// heads caches the receipt chain heads this transaction wrote, by
	// tenant, so the next receipt of the tenant is chained without reading
	// the head back (cleared when a savepoint is rolled back).
	heads map[string]chainHead
}

// chainHead is the last receipt of a tenant's chain.
type chainHead struct {
	receipt json.RawMessage
	hash    string
}

// Hot write statements, prepared once at Open on the writer connection.
const (
	sqlInsertEvent = `INSERT INTO events(type, time, data) VALUES (?,?,?)`
	sqlReceiptHead = `SELECT r.receipt_json, r.receipt_hash FROM receipt_heads h JOIN receipts r ON r.receipt_key = h.decision_id
		WHERE h.tenant_id = ?`
	sqlInsertReceipt = `INSERT INTO receipts(receipt_key, decision_id, kind, tenant_id, receipt_hash, prev_receipt_hash, receipt_json) VALUES (?,?,?,?,?,?,?)`
	sqlUpsertHead    = `INSERT INTO receipt_heads(tenant_id, decision_id, receipt_hash, length) VALUES (?,?,?,1)
		ON CONFLICT(tenant_id) DO UPDATE SET decision_id = excluded.decision_id, receipt_hash = excluded.receipt_hash, length = length + 1`
	sqlInsertDecision = `INSERT OR IGNORE INTO decisions(decision_id, ts, ts_us, outcome, deny_code, deny_message,
		capability_id, tenant_id, env, data_label, correlation_id, matched_rule_id, selected_worker, blast_score,
		supervisor_required, pending_approval_id, dry_run, source, rules_hash, decision_json, input_json, agent)
		VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`
)

func (s *Store) prepare() error {
	for _, q := range []string{sqlInsertEvent, sqlInsertDecision, sqlReceiptHead, sqlInsertReceipt, sqlUpsertHead} {
		st, err := s.w.Prepare(q)
		if err != nil {
			return err
		}
		s.stmts[q] = st
	}
	return nil
}

// execCached runs one of the statements prepared at Open inside the transaction.
func (t *Tx) execCached(query string, args ...any) (sql.Result, error) {
	st, ok := t.s.stmts[query]
	if !ok {
		return t.tx.Exec(query, args...)
	}
	return t.tx.Stmt(st).Exec(args...)
}

// queryRowCached is execCached for a one-row query.
func (t *Tx) queryRowCached(query string, args ...any) *sql.Row {
	st, ok := t.s.stmts[query]
	if !ok {
		return t.tx.QueryRow(query, args...)
	}
	return t.tx.Stmt(st).QueryRow(args...)
}

// Exec runs a statement in the transaction.
func (t *Tx) Exec(query string, args ...any) (sql.Result, error) { return t.tx.Exec(query, args...) }

// QueryRow runs a query in the transaction.
func (t *Tx) QueryRow(query string, args ...any) *sql.Row { return t.tx.QueryRow(query, args...) }

// Now is the time of the transaction (UTC).
func (t *Tx) Now() time.Time { return t.now }

// Emit persists an event in the transaction; it is published after the commit.
func (t *Tx) Emit(typ string, data any) (int64, error) {
	b, err := json.Marshal(data)
	if err != nil {
		return 0, fmt.Errorf("event %s: %w", typ, err)
	}
	res, err := t.execCached(sqlInsertEvent, typ, formatTime(t.now), string(b))
	if err != nil {
		return 0, err
	}
	id, err := res.LastInsertId()
	if err != nil {
		return 0, err
	}
	t.events = append(t.events, events.Event{ID: id, Type: typ, Time: t.now, Data: b})
	return id, nil
}

// Write runs fn in one write transaction (the single writer): the change and
// the events fn emits commit together, then the events are published and the
// OnCommit hooks run. If fn returns an error nothing is stored.
func (s *Store) Write(ctx context.Context, fn func(*Tx) error) error {
	evs, err := s.write(ctx, fn)
	if err != nil {
		return err
	}
	s.afterCommit(evs)
	return nil
}

func (s *Store) write(ctx context.Context, fn func(*Tx) error) ([]events.Event, error) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	sqlTx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	t := &Tx{tx: sqlTx, s: s, now: s.Now()}
	if err := fn(t); err != nil {
		sqlTx.Rollback()
		return nil, err
	}
	if err := sqlTx.Commit(); err != nil {
		return nil, err
	}
	s.bus.Publish(t.events...)
	return t.events, nil
}

// OnCommit registers fn to run with the events of every committed write
// (Write, Emit and the group-committed decision writes), after they are
// published and before the write returns to its caller, without the writer
// lock held: what fn does (e.g. rebuild a cache the change made stale) is
// done before the caller goes on. fn may read the store, not write to it.
func (s *Store) OnCommit(fn func([]events.Event)) {
	s.hooksMu.Lock()
	defer s.hooksMu.Unlock()
	var hs []func([]events.Event)
	if p := s.hooks.Load(); p != nil {
		hs = append(hs, *p...)
	}
	hs = append(hs, fn)
	s.hooks.Store(&hs)
}

func (s *Store) afterCommit(evs []events.Event) {
	if p := s.hooks.Load(); p != nil && len(evs) > 0 {
		for _, fn := range *p {
			fn(evs)
		}
	}
}

// Emit records a standalone event (e.g. standing.changed, auth.changed) and publishes it.
func (s *Store) Emit(ctx context.Context, typ string, data any) (events.Event, error) {
	var ev events.Event
	err := s.Write(ctx, func(t *Tx) error {
		if _, err := t.Emit(typ, data); err != nil {
			return err
		}
		ev = t.events[len(t.events)-1]
		return nil
	})
	return ev, err
}

// EventsSince returns up to limit events with id > since, oldest first,
// optionally restricted to the given types.
func (s *Store) EventsSince(ctx context.Context, since int64, limit int, types []string) ([]events.Event, error) {
	q := `SELECT id, type, time, data FROM events WHERE id > ?`
	args := []any{since}
	if len(types) > 0 {
		q += ` AND type IN (` + placeholders(len(types)) + `)`
		for _, t := range types {
			args = append(args, t)
		}
	}
	q += ` ORDER BY id LIMIT ?`
	args = append(args, limit)
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []events.Event{}
	for rows.Next() {
		var e events.Event
		var ts, data string
		if err := rows.Scan(&e.ID, &e.Type, &ts, &data); err != nil {
			return nil, err
		}
		e.Time = parseTime(ts)
		e.Data = json.RawMessage(data)
		out = append(out, e)
	}
	return out, rows.Err()
}

// LatestEvents returns the newest limit events (optionally of the given
// types), oldest first.
func (s *Store) LatestEvents(ctx context.Context, limit int, types []string) ([]events.Event, error) {
	q := `SELECT id FROM events`
	var args []any
	if len(types) > 0 {
		q += ` WHERE type IN (` + placeholders(len(types)) + `)`
		for _, t := range types {
			args = append(args, t)
		}
	}
	var first sql.NullInt64
	err := s.r.QueryRowContext(ctx, `SELECT min(id) FROM (`+q+` ORDER BY id DESC LIMIT ?)`, append(args, limit)...).Scan(&first)
	if err != nil || !first.Valid {
		return []events.Event{}, err
	}
	return s.EventsSince(ctx, first.Int64-1, limit, types)
}

// LastEventID is the id of the newest persisted event.
func (s *Store) LastEventID() int64 { return s.bus.LastID() }

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}

const timeLayout = "2006-01-02T15:04:05.000000Z07:00"

func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

func parseTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}
	}
	return t
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// scanner is what a row scan needs (*sql.Row and *sql.Rows).
type scanner = interface{ Scan(...any) error }

// queryAll runs a read query and scans every row with scan; no rows is an
// empty, non-nil list.
func queryAll[T any](ctx context.Context, db *sql.DB, scan func(scanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
