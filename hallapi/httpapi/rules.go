package httpapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"hallmonitor/core"
	"hallmonitor/hallapi/events"
)

const maxRulesFile = 8 << 20

// rulesState is one loaded rule set. A missing or broken file yields an
// empty set: with no rules every route is denied (fail-closed).
type rulesState struct {
	set      *core.RuleSet
	hash     string
	path     string
	err      string
	loadedAt time.Time
	modTime  time.Time
	size     int64
}

func (r *rulesState) shadowed() []string {
	if r.set == nil {
		return []string{}
	}
	ids := r.set.ShadowedRuleIDs()
	if ids == nil {
		return []string{}
	}
	return ids
}

type rulesHolder struct {
	mu  sync.RWMutex
	cur *rulesState
	p   string
}

func newRulesHolder(path string) *rulesHolder {
	return &rulesHolder{p: path, cur: &rulesState{path: path}}
}

func (h *rulesHolder) get() *rulesState {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.cur
}

func (h *rulesHolder) path() string {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.p
}

func (h *rulesHolder) setPath(p string) {
	h.mu.Lock()
	h.p = p
	h.mu.Unlock()
}

// load reads the rules file and swaps the active set.
func (h *rulesHolder) load() *rulesState {
	p := h.path()
	st := &rulesState{path: p, loadedAt: time.Now()}
	empty, _ := core.CompileRules(nil)
	fail := func(msg string) *rulesState {
		st.set, st.err = empty, msg
		if empty != nil {
			st.hash = empty.Hash()
		}
		return st
	}
	func() {
		if p == "" {
			st = fail("no rules_path is configured: every route is denied (fail-closed); set rules_path in setup")
			return
		}
		f, err := os.Open(p)
		if errors.Is(err, os.ErrNotExist) {
			st = fail(fmt.Sprintf("rules file %s does not exist: every route is denied (fail-closed); create it with a JSON list of rules or {\"rules\":[...]}", p))
			return
		}
		if err != nil {
			st = fail(fmt.Sprintf("cannot read rules file %s: %v; every route is denied (fail-closed)", p, err))
			return
		}
		defer f.Close()
		if fi, err := f.Stat(); err == nil {
			st.modTime, st.size = fi.ModTime(), fi.Size()
		}
		b, err := io.ReadAll(io.LimitReader(f, maxRulesFile+1))
		if err != nil || len(b) > maxRulesFile {
			st = fail(fmt.Sprintf("rules file %s is unreadable or larger than %d bytes; every route is denied (fail-closed)", p, maxRulesFile))
			return
		}
		rs, err := core.ParseRules(b)
		if err != nil {
			st = fail(fmt.Sprintf("rules file %s is invalid: %v; every route is denied (fail-closed) until it is fixed", p, err))
			return
		}
		st.set, st.hash = rs, rs.Hash()
	}()
	h.mu.Lock()
	h.cur = st
	h.mu.Unlock()
	return st
}

func (h *rulesHolder) changedOnDisk() bool {
	cur := h.get()
	fi, err := os.Stat(h.path())
	if err != nil {
		return cur.err == "" // it was loaded and is now gone
	}
	return !fi.ModTime().Equal(cur.modTime) || fi.Size() != cur.size
}

// ReloadRules re-reads the rules file now (e.g. from a file watcher).
func (s *Server) ReloadRules(ctx context.Context) { s.reloadRules(ctx) }

func (s *Server) reloadRules(ctx context.Context) {
	st := s.rules.load()
	if st.err != "" {
		s.log.Warn("rules not loaded", "path", st.path, "err", st.err)
	} else {
		s.log.Info("rules loaded", "path", st.path, "rules", st.set.Len(), "hash", st.hash)
	}
	if _, err := s.st.Emit(ctx, events.RulesReloaded, map[string]any{"path": st.path, "rules_hash": st.hash, "error": st.err,
		"rules": st.set.Len()}); err != nil {
		s.log.Warn("record rules event", "err", err)
	}
}

func (s *Server) reloadRulesIfChanged(ctx context.Context) {
	if s.rules.changedOnDisk() {
		s.reloadRules(ctx)
	}
}
