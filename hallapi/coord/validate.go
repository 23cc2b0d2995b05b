package coord

import (
	"fmt"
	"path"
	"regexp"
	"strings"
	"time"
)

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

// AgentStatus is an agent's status seen last at lastSeen: active, idle or
// offline.
func AgentStatus(lastSeen, now time.Time) string {
	switch age := now.Sub(lastSeen); {
	case age <= AgentActiveFor:
		return AgentActive
	case age <= AgentIdleFor:
		return AgentIdle
	}
	return AgentOffline
}

// normalizeTask validates and completes a task's editable fields (prefix is
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

func clipRunes(s string, n int) string {
	r := []rune(s)
	if len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

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

// normalizeAgent validates and completes a heartbeat: a trimmed name
// (default: the id) and a known type (default: other).
func normalizeAgent(in *AgentInput) error {
	if err := ValidAgentID("id", in.ID); err != nil {
		return err
	}
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" {
		in.Name = in.ID
	}
	if err := maxLen("name", in.Name, 80); err != nil {
		return err
	}
	if in.Type == "" {
		in.Type = "other"
	}
	typ, err := oneOf("type", in.Type, AgentTypes, true)
	in.Type = typ
	return err
}

// lockTTL is the lifetime asked for in seconds: DefaultLockTTL for 0, else
// 1 s to MaxLockTTL.
func lockTTL(ttlSeconds int64) (time.Duration, error) {
	if ttlSeconds == 0 {
		return DefaultLockTTL, nil
	}
	if ttlSeconds < 1 || ttlSeconds > int64(MaxLockTTL/time.Second) {
		return 0, invalid("ttl_seconds", "ttl_seconds must be from 1 to %d (0 or absent: %d)", int64(MaxLockTTL/time.Second), int64(DefaultLockTTL/time.Second))
	}
	return time.Duration(ttlSeconds) * time.Second, nil
}

// normalizeMessageText validates and completes a message's text and type
// (its recipient and task are checked against the board by PostMessage).
func normalizeMessageText(in *MessageInput) error {
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
	in.MsgType = typ
	return err
}

// normalizeTaskFilter checks a task filter's status.
func normalizeTaskFilter(f TaskFilter) error {
	switch f.Status {
	case "", TaskPending, TaskInProgress, TaskDone:
		return nil
	}
	return invalid("status", "status must be pending, in_progress or done, not %q", clip(f.Status))
}

// normalizeMessageFilter checks a message page request (Limit 0: 50).
func normalizeMessageFilter(f *MessageFilter) error {
	if f.Limit == 0 {
		f.Limit = 50
	}
	if f.Limit < 1 || f.Limit > 200 {
		return invalid("limit", "limit must be from 1 to 200, not %d", f.Limit)
	}
	if f.Before < 0 {
		return invalid("before", "before must be a message id (next_before of the previous page)")
	}
	if f.For != "" {
		return ValidAgentID("for", f.For)
	}
	return nil
}
