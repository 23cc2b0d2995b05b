package decide

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

// Rules is one loaded rule set. A missing or broken file yields an empty
// set: with no rules every route is denied (fail-closed).
type Rules struct {
	Set      *core.RuleSet
	Hash     string
	Path     string
	Err      string // why the file is not in force ("" when it is)
	LoadedAt time.Time
	modTime  time.Time
	size     int64
}

// Shadowed lists the ids of rules that an earlier rule always matches first.
func (r *Rules) Shadowed() []string {
	if r.Set == nil {
		return []string{}
	}
	ids := r.Set.ShadowedRuleIDs()
	if ids == nil {
		return []string{}
	}
	return ids
}

type rulesHolder struct {
	mu  sync.RWMutex
	cur *Rules
	p   string
}

func newRulesHolder(path string) *rulesHolder {
	return &rulesHolder{p: path, cur: &Rules{Path: path}}
}

func (h *rulesHolder) get() *Rules {
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
func (h *rulesHolder) load() *Rules {
	p := h.path()
	st := &Rules{Path: p, LoadedAt: time.Now()}
	empty, _ := core.CompileRules(nil)
	fail := func(msg string) *Rules {
		st.Set, st.Err = empty, msg
		if empty != nil {
			st.Hash = empty.Hash()
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
		st.Set, st.Hash = rs, rs.Hash()
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
		return cur.Err == "" // it was loaded and is now gone
	}
	return !fi.ModTime().Equal(cur.modTime) || fi.Size() != cur.size
}

// Rules is the rule set in force.
func (s *Service) Rules() *Rules { return s.rules.get() }

// SetRulesPath points the Service at another rules file and loads it.
func (s *Service) SetRulesPath(ctx context.Context, p string) {
	if p != s.rules.path() {
		s.rules.setPath(p)
		s.ReloadRules(ctx)
	}
}

// ReloadRules re-reads the rules file now (e.g. from a file watcher) and
// records a rules.reloaded event.
func (s *Service) ReloadRules(ctx context.Context) {
	st := s.rules.load()
	if st.Err != "" {
		s.log.Warn("rules not loaded", "path", st.Path, "err", st.Err)
	} else {
		s.log.Info("rules loaded", "path", st.Path, "rules", st.Set.Len(), "hash", st.Hash)
	}
	if _, err := s.st.Emit(ctx, events.RulesReloaded, map[string]any{"path": st.Path, "rules_hash": st.Hash, "error": st.Err,
		"rules": st.Set.Len()}); err != nil {
		s.log.Warn("record rules event", "err", err)
	}
}

// ReloadRulesIfChanged reloads the rules file when its size or time changed.
func (s *Service) ReloadRulesIfChanged(ctx context.Context) {
	if s.rules.changedOnDisk() {
		s.ReloadRules(ctx)
	}
}
