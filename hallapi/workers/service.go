package workers

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fsnotify/fsnotify"

	"hallmonitor/core/attest"
	"hallmonitor/hallapi/events"
	"hallmonitor/hallapi/store"
)

// Store is what the workers service needs from the Hall's store; *store.Store
// implements it.
type Store interface {
	ListWorkers(ctx context.Context) ([]store.Worker, error)
	// SetWorkerAttestation stores a package check (worker.attestation
	// event) and raises WORKER_TAMPERED on a transition into tampered.
	SetWorkerAttestation(ctx context.Context, id string, a store.Attestation) (store.Worker, error)
	RaiseAlert(ctx context.Context, in store.AlertInput) (store.Alert, error)
	EventsSince(ctx context.Context, since int64, limit int, types []string) ([]events.Event, error)
	LastEventID() int64
}

// Options tune a Service. The zero value is the production setting.
type Options struct {
	Logger *slog.Logger
	// HMACSecret verifies reference-compatible HMAC-signed manifests
	// (WCP_ATTEST_HMAC_KEY); empty means HMAC signatures are not accepted.
	HMACSecret []byte
	// Debounce is how long after the first change a package is re-verified
	// (default 150 ms; a change is always re-verified within a second).
	Debounce time.Duration
	// Resync is how often the event log is read for enrollments made by
	// another process (the desktop app and `hallmonitor mcp` share the
	// database). Default 1 s.
	Resync time.Duration
	Now    func() time.Time
}

type watched struct {
	e   Enrollment
	att Attestation
}

// Service watches every enrolled package and keeps its attestation current.
//
// Decisions read the package hashes (RegisteredHash, CurrentHash) from an
// immutable per-species table that every change republishes, so they take
// no lock and never wait for a package check; the package trees are hashed
// and walked without s.mu held.
type Service struct {
	st   Store
	opts Options
	log  *slog.Logger

	mu      sync.Mutex
	workers map[string]*watched // by worker id
	// recheck holds the worker ids whose package changed and has not been
	// checked since: a set, so no re-check is ever dropped, however many
	// packages change at once. A package with a pending re-check is not
	// verified for routing.
	recheck map[string]*recheck
	wake    chan struct{} // capacity 1: the verify loop has due re-checks
	fw      *fsnotify.Watcher
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	lastEv  int64

	hashes atomic.Pointer[map[string]speciesHashes] // by species; see publishLocked
}

// recheck is the state of one package's pending re-check.
type recheck struct {
	seq   uint64 // changes seen; a check only clears the re-check when none came in meanwhile
	timer bool   // the debounce timer runs
	due   bool   // the debounce passed; the verify loop takes it
}

// speciesHashes is what core's attestation step reads for a species.
type speciesHashes struct {
	registered string
	current    string // "" when there is no trustworthy current hash
}

// NewService returns a stopped Service; call Start.
func NewService(st Store, opts Options) *Service {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Debounce <= 0 {
		opts.Debounce = 150 * time.Millisecond
	}
	if opts.Resync <= 0 {
		opts.Resync = time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Service{st: st, opts: opts, log: opts.Logger.With("component", "workers"),
		workers: map[string]*watched{}, recheck: map[string]*recheck{}, wake: make(chan struct{}, 1)}
}

// Start loads the enrollments, verifies every package, and starts watching.
func (s *Service) Start(ctx context.Context) error {
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("start package watcher: %w", err)
	}
	s.mu.Lock()
	s.fw = fw
	s.lastEv = s.st.LastEventID()
	s.mu.Unlock()
	if err := s.Sync(ctx); err != nil {
		fw.Close()
		return err
	}
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.cancel = cancel
	s.wg.Add(3)
	go s.watchLoop(ctx)
	go s.verifyLoop(ctx)
	go s.resyncLoop(ctx)
	return nil
}

// Stop stops watching and waits for the service's goroutines.
func (s *Service) Stop() {
	if s.cancel == nil {
		return
	}
	s.cancel()
	s.fw.Close()
	s.wg.Wait()
	s.cancel = nil
}

// Sync reloads the enrollments: new or changed ones are watched and
// verified, removed ones are no longer watched. Call it after enrolling or
// unenrolling in this process; changes made by another process are picked up
// from the event log within Options.Resync.
func (s *Service) Sync(ctx context.Context) error {
	list, err := s.st.ListWorkers(ctx)
	if err != nil {
		return fmt.Errorf("load enrollments: %w", err)
	}
	seen := map[string]bool{}
	var verify, dirs []string
	s.mu.Lock()
	for _, w := range list {
		e, err := EnrollmentOf(w)
		if err != nil {
			s.log.Warn("enrolled record", "worker_id", w.WorkerID, "err", err)
		}
		seen[e.WorkerID] = true
		old, ok := s.workers[e.WorkerID]
		if ok && old.e.PackagePath == e.PackagePath && old.e.RegisteredHash == e.RegisteredHash &&
			old.e.PublicKeyEd25519 == e.PublicKeyEd25519 && old.e.WorkerSpeciesID == e.WorkerSpeciesID {
			continue
		}
		s.workers[e.WorkerID] = &watched{e: e, att: e.Attestation}
		if e.PackagePath != "" {
			dirs = append(dirs, e.PackagePath)
		}
		verify = append(verify, e.WorkerID)
	}
	for id, w := range s.workers {
		if !seen[id] {
			delete(s.workers, id)
			delete(s.recheck, id)
			s.unwatchLocked(w.e.PackagePath)
		}
	}
	s.publishLocked()
	fw := s.fw
	s.mu.Unlock()
	for _, d := range dirs {
		s.addTree(fw, d)
	}
	for _, id := range verify {
		if _, err := s.Verify(ctx, id); err != nil {
			s.log.Error("verify package", "worker_id", id, "err", err)
		}
	}
	return nil
}

// addTree watches dir, its subdirectories and its parent (so a package
// directory that is deleted and recreated is noticed). It walks the tree:
// call it without s.mu held (fsnotify's Add is safe for concurrent use).
func (s *Service) addTree(fw *fsnotify.Watcher, dir string) {
	if fw == nil {
		return
	}
	if err := fw.Add(filepath.Dir(dir)); err != nil {
		s.log.Warn("watch package parent", "dir", filepath.Dir(dir), "err", err)
	}
	s.addSubtree(fw, dir)
}

// unwatchLocked stops watching the directories of an unenrolled package
// that no other enrolled package contains. Caller holds s.mu.
func (s *Service) unwatchLocked(dir string) {
	if s.fw == nil || dir == "" {
		return
	}
	for _, p := range s.fw.WatchList() {
		if p != dir && !strings.HasPrefix(p, dir+string(os.PathSeparator)) {
			continue
		}
		used := false
		for _, w := range s.workers {
			q := w.e.PackagePath
			if q != "" && (p == q || strings.HasPrefix(p, q+string(os.PathSeparator))) {
				used = true
			}
		}
		if !used {
			s.fw.Remove(p)
		}
	}
}

// addSubtree watches dir and every directory below it. It walks the tree:
// call it without s.mu held.
func (s *Service) addSubtree(fw *fsnotify.Watcher, dir string) {
	if fw == nil {
		return
	}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil
		}
		if d.Name() == ".git" {
			return filepath.SkipDir
		}
		if err := fw.Add(p); err != nil {
			s.log.Warn("watch package dir", "dir", p, "err", err)
		}
		return nil
	})
}

// Verify checks one enrolled package now, stores the new state when it
// changed, and raises WORKER_TAMPERED when the package stopped verifying.
func (s *Service) Verify(ctx context.Context, workerID string) (Attestation, error) {
	s.mu.Lock()
	w, ok := s.workers[workerID]
	var e Enrollment
	var prev Attestation
	var seq uint64
	if ok {
		e, prev = w.e, w.att
	}
	if p := s.recheck[workerID]; p != nil {
		seq = p.seq
	}
	fw := s.fw
	s.mu.Unlock()
	if !ok {
		return Attestation{}, fmt.Errorf("worker %q is not enrolled", workerID)
	}
	a := Check(e, s.opts.HMACSecret, s.opts.Now())
	if e.PackagePath != "" {
		s.addTree(fw, e.PackagePath) // new subdirectories
	}
	s.mu.Lock()
	if w, ok := s.workers[workerID]; ok && w.e == e {
		w.att = a
	}
	// The re-check is done unless the package changed again while it ran
	// (that change scheduled another one).
	if p := s.recheck[workerID]; p != nil && p.seq == seq && !p.timer && !p.due {
		delete(s.recheck, workerID)
	}
	s.publishLocked()
	s.mu.Unlock()
	changed := a.State != prev.State || a.PackageHash != prev.PackageHash || a.DenyCode != prev.DenyCode
	if !changed {
		return a, nil
	}
	s.log.Info("package attestation", "worker_id", workerID, "state", a.State, "deny_code", a.DenyCode, "package_hash", a.PackageHash)
	if _, err := s.st.SetWorkerAttestation(ctx, workerID, a); err != nil {
		return a, fmt.Errorf("save attestation of %s: %w", workerID, err)
	}
	// The store alerts on a transition into tampered; a verified package
	// whose manifest or directory disappears is alerted here.
	if prev.State == StateVerified && (a.State == StateMissing || a.State == StateUnsigned) {
		body := fmt.Sprintf("%s (%s). Package %s. Dispatches to %s are refused until the package verifies again.",
			a.Reason, a.DenyCode, e.PackagePath, e.WorkerSpeciesID)
		if _, err := s.st.RaiseAlert(ctx, store.AlertInput{Type: store.AlertWorkerTampered, Severity: store.SeverityCritical,
			Title: "Worker package " + workerID + " is " + a.State, Body: body, WorkerID: workerID}); err != nil {
			return a, fmt.Errorf("raise alert for %s: %w", workerID, err)
		}
	}
	return a, nil
}

// Attestation returns the latest attestation of a worker.
func (s *Service) Attestation(workerID string) (Attestation, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	w, ok := s.workers[workerID]
	if !ok {
		return Attestation{}, false
	}
	return w.att, true
}

// Enrollment returns an enrolled worker by worker id.
func (s *Service) Enrollment(workerID string) (Enrollment, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	w, ok := s.workers[workerID]
	if !ok {
		return Enrollment{}, false
	}
	return w.e, true
}

// RegisteredHash answers core's attestation step (core.AttestationSource):
// the package hash recorded at enrollment for a species. When several
// enrolled workers share the species, one that does not verify is answered
// (fail closed). It takes no lock.
func (s *Service) RegisteredHash(species string) (string, bool) {
	h := s.speciesHashes(species)
	return h.registered, h.registered != ""
}

// CurrentHash answers core's attestation step (core.AttestationSource): the
// hash of the package files at the last verification. It is answered only
// for a verified package with no re-check pending, or one whose files
// changed (ATTEST_HASH_MISMATCH, so core denies DENY_WORKER_TAMPERED); a
// package that is missing, unsigned, has an invalid manifest, or changed
// and is not re-checked yet has no trustworthy current hash (core denies
// DENY_WORKER_HASH_UNAVAILABLE). It takes no lock.
func (s *Service) CurrentHash(species string) (string, bool) {
	h := s.speciesHashes(species)
	return h.current, h.current != ""
}

func (s *Service) speciesHashes(species string) speciesHashes {
	if m := s.hashes.Load(); m != nil {
		return (*m)[species]
	}
	return speciesHashes{}
}

// publishLocked rebuilds the per-species hash table decisions read. For each
// species one worker answers, deterministically: a worker that is not
// verified wins (fail closed), then the lowest worker id. A worker is
// verified for routing when its last check verified and no re-check is
// pending. Caller holds s.mu.
func (s *Service) publishLocked() {
	verified := func(w *watched) bool { return w.att.State == StateVerified && s.recheck[w.e.WorkerID] == nil }
	pick := map[string]*watched{}
	ids := make([]string, 0, len(s.workers))
	for id := range s.workers {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		w := s.workers[id]
		sp := w.e.WorkerSpeciesID
		if p, ok := pick[sp]; !ok || verified(p) && !verified(w) {
			pick[sp] = w
		}
	}
	m := make(map[string]speciesHashes, len(pick))
	for sp, w := range pick {
		h := speciesHashes{registered: w.e.RegisteredHash}
		if w.att.PackageHash != "" && (verified(w) || w.att.DenyCode == attest.CodeHashMismatch) {
			h.current = w.att.PackageHash
		}
		m[sp] = h
	}
	s.hashes.Store(&m)
}

func (s *Service) watchLoop(ctx context.Context) {
	defer s.wg.Done()
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-s.fw.Events:
			if !ok {
				return
			}
			s.changed(ev)
		case err, ok := <-s.fw.Errors:
			if !ok {
				return
			}
			// An overflow loses events: re-verify everything.
			s.log.Warn("package watcher", "err", err)
			if errors.Is(err, fsnotify.ErrEventOverflow) {
				s.mu.Lock()
				for id := range s.workers {
					s.scheduleLocked(id)
				}
				s.mu.Unlock()
			}
		}
	}
}

// changed schedules a verification of every package containing the
// changed path, and starts watching a directory created inside a package
// (after s.mu is released: that walks the new directory).
func (s *Service) changed(ev fsnotify.Event) {
	path := ev.Name
	s.mu.Lock()
	inside := false
	for id, w := range s.workers {
		p := w.e.PackagePath
		if p != "" && (path == p || strings.HasPrefix(path, p+string(os.PathSeparator))) {
			inside = true
			s.scheduleLocked(id)
		}
	}
	fw := s.fw
	s.mu.Unlock()
	if inside && ev.Has(fsnotify.Create) {
		if st, err := os.Lstat(path); err == nil && st.IsDir() {
			s.addSubtree(fw, path)
		}
	}
}

// scheduleLocked records a change of a worker's package: from now on it is
// not verified for routing, and it is re-checked Debounce after the first
// change (changes meanwhile are folded into that check; one during the
// check schedules another). Caller holds s.mu.
func (s *Service) scheduleLocked(id string) {
	p := s.recheck[id]
	if p == nil {
		p = &recheck{}
		s.recheck[id] = p
		s.publishLocked()
	}
	p.seq++
	if p.timer || p.due {
		return
	}
	p.timer = true
	time.AfterFunc(s.opts.Debounce, func() {
		s.mu.Lock()
		p.timer, p.due = false, true
		s.mu.Unlock()
		select {
		case s.wake <- struct{}{}:
		default: // the loop is already woken; it takes every due re-check
		}
	})
}

// verifyLoop runs the due re-checks, in worker id order.
func (s *Service) verifyLoop(ctx context.Context) {
	defer s.wg.Done()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.wake:
		}
		s.mu.Lock()
		var ids []string
		for id, p := range s.recheck {
			if p.due {
				p.due = false
				ids = append(ids, id)
			}
		}
		s.mu.Unlock()
		slices.Sort(ids)
		for _, id := range ids {
			if _, err := s.Verify(ctx, id); err != nil && ctx.Err() == nil {
				s.log.Error("verify package", "worker_id", id, "err", err)
			}
		}
	}
}

// resyncLoop follows the event log for enrollment changes made by any
// process sharing the database.
func (s *Service) resyncLoop(ctx context.Context) {
	defer s.wg.Done()
	t := time.NewTicker(s.opts.Resync)
	defer t.Stop()
	types := []string{events.WorkerEnrolled, events.WorkerUpdated, events.WorkerUnenrolled}
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		s.mu.Lock()
		since := s.lastEv
		s.mu.Unlock()
		evs, err := s.st.EventsSince(ctx, since, 1000, types)
		if err != nil {
			if ctx.Err() == nil {
				s.log.Warn("read enrollment events", "err", err)
			}
			continue
		}
		if len(evs) == 0 {
			continue
		}
		s.mu.Lock()
		s.lastEv = evs[len(evs)-1].ID
		s.mu.Unlock()
		if err := s.Sync(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("resync enrollments", "err", err)
		}
	}
}

// VerifyPackage checks a worker's package for enrollment (PackageVerifier).
// The namespace key comes from w.Record's attestation.public_key_ed25519, so
// w.Record must be set. The registered hash is the record's
// attestation.code_hash when given, else the verified package hash (a later
// change is detected against what was enrolled). Every outcome is an
// attestation state (verified, tampered, unsigned, missing); the error is
// only for a check that could not run.
func (s *Service) VerifyPackage(_ context.Context, w store.Worker) (store.Attestation, error) {
	return verifyForEnrollment(w, s.opts.HMACSecret, s.opts.Now())
}
