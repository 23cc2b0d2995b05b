package httpapi_test

import (
	"encoding/json"
	"os/user"
	"slices"
	"strings"
	"testing"
	"time"

	"hallmonitor/hallapi/events"
)

// coordTotal counts every coordination row (a rejected request adds none).
func (e *env) coordTotal() int {
	return e.count("coord_agents") + e.count("coord_tasks") + e.count("coord_locks") + e.count("coord_messages")
}

func (e *env) task(body map[string]any) map[string]any {
	e.t.Helper()
	return e.ok(201, "POST", "/api/coord/tasks", body)["task"].(map[string]any)
}

func (e *env) beat(id, typ string) {
	e.t.Helper()
	e.ok(200, "POST", "/api/coord/agents/heartbeat", map[string]any{"id": id, "name": strings.ToUpper(id), "type": typ})
}

func TestCoordAgentsAndIdentity(t *testing.T) {
	e := newEnv(t, testRules)
	a := e.ok(200, "POST", "/api/coord/agents/heartbeat", map[string]any{"id": "claude-1", "name": "CLAUDE-1", "type": "LLM"})["agent"].(map[string]any)
	if a["id"] != "claude-1" || a["type"] != "llm" || a["status"] != "active" || a["active_tasks"] != 0.0 {
		t.Fatalf("heartbeat: %v", a)
	}
	// A second beat refreshes without a new roster event.
	e.beat("claude-1", "llm")
	e.beat("codex", "code")
	m := e.ok(200, "GET", "/api/coord/agents", nil)
	agents := m["agents"].([]any)
	if len(agents) != 2 || agents[0].(map[string]any)["id"] != "codex" {
		t.Fatalf("roster: %v", agents)
	}
	me := m["me"].(map[string]any)
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	if me["source"] != "os" || me["id"] != u.Username {
		t.Fatalf("me without a login: %v, want the OS user %s", me, u.Username)
	}
	// A person's action is attributed to the OS user, then to the GitHub login once signed in.
	if tk := e.task(map[string]any{"title": "by the person"}); tk["created_by"] != u.Username {
		t.Fatalf("created_by %v, want %s", tk["created_by"], u.Username)
	}
	e.srv.SetAccount(fakeAccount{})
	if me := e.ok(200, "GET", "/api/coord/agents", nil)["me"].(map[string]any); me["id"] != "octo" || me["source"] != "github" {
		t.Fatalf("me signed in: %v", me)
	}
	if tk := e.task(map[string]any{"title": "signed in"}); tk["created_by"] != "octo" {
		t.Fatalf("created_by %v, want octo", tk["created_by"])
	}
	if tk := e.task(map[string]any{"title": "by an agent", "agent_id": "codex"}); tk["created_by"] != "codex" {
		t.Fatalf("created_by %v, want codex", tk["created_by"])
	}

	before := e.coordTotal()
	e.apiErr(400, "missing_field", "id", "POST", "/api/coord/agents/heartbeat", map[string]any{"name": "x"})
	e.apiErr(400, "invalid_field", "id", "POST", "/api/coord/agents/heartbeat", map[string]any{"id": "has space"})
	e.apiErr(400, "invalid_field", "type", "POST", "/api/coord/agents/heartbeat", map[string]any{"id": "x", "type": "robot"})
	e.apiErr(400, "invalid_field", "name", "POST", "/api/coord/agents/heartbeat", map[string]any{"id": "x", "name": strings.Repeat("n", 81)})
	e.apiErr(400, "unknown_field", "role", "POST", "/api/coord/agents/heartbeat", map[string]any{"id": "x", "role": "lead"})
	if n := e.coordTotal(); n != before {
		t.Fatalf("rejected heartbeats stored %d rows", n-before)
	}
	evs := e.poll("since=0&timeout=0&types=coord.agent").Events
	if len(evs) != 2 {
		t.Fatalf("coord.agent events: %d, want 2 (one per new agent, none for a refresh)", len(evs))
	}
}

func TestCoordTaskValidation(t *testing.T) {
	e := newEnv(t, testRules)
	e.beat("codex", "code")
	t1 := e.task(map[string]any{"title": "  Build the board  "})
	if t1["id"] != "T1" || t1["title"] != "Build the board" || t1["priority"] != "P1" || t1["owner"] != "any" || t1["section"] != "Ad Hoc" ||
		t1["dep_type"] != "FS" || t1["status"] != "pending" || t1["agent_type"] != "any" || len(t1["predecessors"].([]any)) != 0 {
		t.Fatalf("defaults: %v", t1)
	}
	c1 := e.task(map[string]any{"id": "C1", "title": "Chosen id", "priority": "p0", "dep_type": "ss", "predecessors": []string{"T1"},
		"owner": "codex", "agent_type": "code", "section": "Registry", "location": "src/registry.go", "details": "why"})
	if c1["priority"] != "P0" || c1["dep_type"] != "SS" || c1["location"] != "src/registry.go" || c1["owner"] != "codex" {
		t.Fatalf("chosen: %v", c1)
	}
	if t3 := e.task(map[string]any{"title": "next"}); t3["id"] != "T3" {
		t.Fatalf("next auto id %v, want T3", t3["id"])
	}

	before := e.coordTotal()
	bad := []struct {
		code, field string
		body        map[string]any
	}{
		{"missing_field", "title", map[string]any{"title": "   "}},
		{"invalid_field", "title", map[string]any{"title": strings.Repeat("t", 201)}},
		{"invalid_field", "priority", map[string]any{"title": "x", "priority": "P9"}},
		{"invalid_field", "dep_type", map[string]any{"title": "x", "dep_type": "XX"}},
		{"invalid_field", "agent_type", map[string]any{"title": "x", "agent_type": "robot"}},
		{"invalid_field", "owner", map[string]any{"title": "x", "owner": "two words"}},
		{"invalid_field", "id", map[string]any{"title": "x", "id": "1abc"}},
		{"conflict", "id", map[string]any{"title": "x", "id": "C1"}},
		{"invalid_field", "predecessors[1]", map[string]any{"title": "x", "predecessors": []string{"T1", "NOPE"}}},
		{"invalid_field", "predecessors[1]", map[string]any{"title": "x", "predecessors": []string{"T1", "T1"}}},
		{"invalid_field", "predecessors[0]", map[string]any{"title": "x", "id": "S1", "predecessors": []string{"S1"}}},
		{"invalid_field", "predecessors", map[string]any{"title": "x", "predecessors": "T1,T2"}},
		{"invalid_field", "agent_id", map[string]any{"title": "x", "agent_id": "ghost"}},
		{"unknown_field", "status", map[string]any{"title": "x", "status": "done"}},
	}
	for _, b := range bad {
		status := 400
		if b.code == "conflict" {
			status = 409
		}
		e.apiErr(status, b.code, b.field, "POST", "/api/coord/tasks", b.body)
	}
	// Edits: a cycle is refused and changes nothing.
	e.apiErr(400, "invalid_field", "predecessors", "PATCH", "/api/coord/tasks/T1", map[string]any{"predecessors": []string{"C1"}})
	e.apiErr(400, "invalid_field", "predecessors[0]", "PATCH", "/api/coord/tasks/T1", map[string]any{"predecessors": []string{"T1"}, "title": "x"})
	e.ok(200, "PATCH", "/api/coord/tasks/T3", map[string]any{"predecessors": []string{"C1"}})
	e.apiErr(400, "invalid_field", "predecessors", "PATCH", "/api/coord/tasks/T1", map[string]any{"predecessors": []string{"T3"}})
	e.apiErr(400, "missing_field", "title", "PATCH", "/api/coord/tasks/T1", map[string]any{"title": ""})
	e.apiErr(400, "invalid_field", "priority", "PATCH", "/api/coord/tasks/T1", map[string]any{"priority": "urgent"})
	e.apiErr(404, "not_found", "id", "PATCH", "/api/coord/tasks/T99", map[string]any{"title": "x"})
	e.apiErr(400, "invalid_field", "id", "PATCH", "/api/coord/tasks/9x", map[string]any{"title": "x"})
	e.apiErr(400, "missing_field", "owner", "POST", "/api/coord/tasks/T1/reassign", map[string]any{})
	e.apiErr(400, "bad_json", "", "POST", "/api/coord/tasks", `{"title":`)
	if n := e.coordTotal(); n != before {
		t.Fatalf("rejected task requests stored %d rows", n-before)
	}
	tasks := e.ok(200, "GET", "/api/coord/tasks", nil)["tasks"].([]any)
	if got := tasks[0].(map[string]any); got["title"] != "Build the board" || len(got["predecessors"].([]any)) != 0 {
		t.Fatalf("T1 changed by rejected edits: %v", got)
	}
	up := e.ok(200, "PATCH", "/api/coord/tasks/T1", map[string]any{"title": "Renamed", "section": "Board", "agent_id": "codex"})["task"].(map[string]any)
	if up["title"] != "Renamed" || up["section"] != "Board" || up["updated_by"] != "codex" || up["details"] != "" {
		t.Fatalf("patch: %v", up)
	}
	re := e.ok(200, "POST", "/api/coord/tasks/T1/reassign", map[string]any{"owner": "codex"})["task"].(map[string]any)
	if re["owner"] != "codex" {
		t.Fatalf("reassign: %v", re)
	}
	if got := e.ok(200, "GET", "/api/coord/tasks?owner=codex", nil)["tasks"].([]any); len(got) != 2 {
		t.Fatalf("owner filter: %d tasks", len(got))
	}
	e.apiErr(400, "invalid_field", "status", "GET", "/api/coord/tasks?status=blocked", nil)
}

func TestCoordClaimComplete(t *testing.T) {
	e := newEnv(t, testRules)
	e.beat("claude", "llm")
	e.beat("codex", "code")
	e.task(map[string]any{"title": "first", "section": "Core", "location": "core/"})
	e.task(map[string]any{"title": "after first", "predecessors": []string{"T1"}})
	e.task(map[string]any{"title": "finish with first", "predecessors": []string{"T1"}, "dep_type": "FF"})

	// FS: cannot start before T1 is done; FF: may start, may not finish.
	e.apiErr(409, "conflict", "predecessors", "POST", "/api/coord/tasks/T2/claim", map[string]any{"agent_id": "codex"})
	e.ok(200, "POST", "/api/coord/tasks/T3/claim", map[string]any{"agent_id": "codex"})
	e.apiErr(409, "conflict", "predecessors", "POST", "/api/coord/tasks/T3/complete", map[string]any{"agent_id": "codex"})

	c := e.ok(200, "POST", "/api/coord/tasks/T1/claim", map[string]any{"agent_id": "claude"})["task"].(map[string]any)
	if c["status"] != "in_progress" || c["claimed_by"] != "claude" || c["claimed_at"] == "" {
		t.Fatalf("claim: %v", c)
	}
	e.ok(200, "POST", "/api/coord/tasks/T1/claim", map[string]any{"agent_id": "claude"}) // again: unchanged
	e.apiErr(409, "conflict", "id", "POST", "/api/coord/tasks/T1/claim", map[string]any{"agent_id": "codex"})
	e.apiErr(400, "invalid_field", "agent_id", "POST", "/api/coord/tasks/T1/claim", map[string]any{"agent_id": "ghost"})
	e.apiErr(404, "not_found", "id", "POST", "/api/coord/tasks/T9/claim", nil)
	if a := e.ok(200, "GET", "/api/coord/agents", nil)["agents"].([]any); a[0].(map[string]any)["active_tasks"] != 1.0 {
		t.Fatalf("active_tasks: %v", a)
	}

	// Complete with a follow-up (FF link and location kept, section inherited) and notify all.
	before := e.coordTotal()
	e.apiErr(400, "missing_field", "follow_up.title", "POST", "/api/coord/tasks/T1/complete",
		map[string]any{"agent_id": "claude", "follow_up": map[string]any{"owner": "codex"}})
	e.apiErr(400, "invalid_field", "follow_up.dep_type", "POST", "/api/coord/tasks/T1/complete",
		map[string]any{"agent_id": "claude", "follow_up": map[string]any{"title": "x", "dep_type": "ZZ"}})
	e.apiErr(400, "invalid_field", "summary", "POST", "/api/coord/tasks/T1/complete", map[string]any{"summary": strings.Repeat("s", 10001)})
	e.apiErr(400, "invalid_field", "follow_up.agent_id", "POST", "/api/coord/tasks/T1/complete",
		map[string]any{"agent_id": "claude", "follow_up": map[string]any{"title": "x", "agent_id": "codex"}})
	if n := e.coordTotal(); n != before {
		t.Fatalf("rejected completions stored %d rows", n-before)
	}
	if tk := e.ok(200, "GET", "/api/coord/tasks?status=done", nil)["tasks"].([]any); len(tk) != 0 {
		t.Fatalf("a rejected completion completed %v", tk)
	}
	done := e.ok(200, "POST", "/api/coord/tasks/T1/complete", map[string]any{"agent_id": "claude", "summary": "board shipped", "notify": true,
		"follow_up": map[string]any{"title": "polish", "owner": "codex", "dep_type": "FF", "location": "frontend/src/x.ts", "priority": "P2"}})
	tk := done["task"].(map[string]any)
	fu := done["follow_up"].(map[string]any)
	if tk["status"] != "done" || tk["completed_by"] != "claude" || tk["result"] != "board shipped" {
		t.Fatalf("completed: %v", tk)
	}
	if fu["id"] != "T4" || fu["dep_type"] != "FF" || fu["location"] != "frontend/src/x.ts" || fu["section"] != "Core" ||
		!slices.Equal(toStrings(fu["predecessors"]), []string{"T1"}) || fu["created_by"] != "claude" || fu["priority"] != "P2" {
		t.Fatalf("follow-up: %v", fu)
	}
	msgs := done["messages"].([]any)
	if len(msgs) != 2 || msgs[0].(map[string]any)["msg_type"] != "result" || !strings.Contains(msgs[0].(map[string]any)["message"].(string), "board shipped") ||
		msgs[1].(map[string]any)["msg_type"] != "alert" || msgs[1].(map[string]any)["task_id"] != "T4" {
		t.Fatalf("notifications: %v", msgs)
	}
	e.apiErr(409, "conflict", "id", "POST", "/api/coord/tasks/T1/complete", map[string]any{"agent_id": "claude"})
	e.apiErr(409, "conflict", "id", "POST", "/api/coord/tasks/T1/claim", nil)
	// Now T2 may start and T3 may finish.
	e.ok(200, "POST", "/api/coord/tasks/T2/claim", map[string]any{"agent_id": "codex"})
	e.ok(200, "POST", "/api/coord/tasks/T3/complete", map[string]any{"agent_id": "codex"})
	// A person completes a task without claiming it; no body at all is fine.
	if p := e.ok(200, "POST", "/api/coord/tasks/T4/complete", nil)["task"].(map[string]any); p["completed_by"] == "" || p["completed_by"] == "claude" {
		t.Fatalf("person completion: %v", p)
	}

	types := map[string]int{}
	for _, ev := range e.poll("since=0&timeout=0&limit=1000").Events {
		types[ev.Type]++
	}
	if types[events.CoordTaskCreated] != 4 || types[events.CoordTaskCompleted] != 3 || types[events.CoordTaskUpdated] != 3 || types[events.CoordMessage] != 2 {
		t.Fatalf("events: %v", types)
	}
}

func toStrings(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

func TestCoordLocks(t *testing.T) {
	e := newEnv(t, testRules)
	e.beat("claude", "llm")
	e.beat("codex", "code")
	l := e.ok(200, "POST", "/api/coord/locks", map[string]any{"path": "./src//app.ts", "agent_id": "claude"})["lock"].(map[string]any)
	if l["path"] != "src/app.ts" || l["holder"] != "claude" || l["released_at"] != "" {
		t.Fatalf("acquire: %v", l)
	}
	exp1 := l["expires_at"].(string)
	before := e.coordTotal()
	e.apiErr(409, "conflict", "path", "POST", "/api/coord/locks", map[string]any{"path": "src/app.ts", "agent_id": "codex"})
	e.apiErr(409, "conflict", "path", "POST", "/api/coord/locks/release", map[string]any{"path": "src/app.ts", "agent_id": "codex"})
	e.apiErr(400, "missing_field", "path", "POST", "/api/coord/locks", map[string]any{"path": " ", "agent_id": "codex"})
	e.apiErr(400, "invalid_field", "ttl_seconds", "POST", "/api/coord/locks", map[string]any{"path": "a", "agent_id": "codex", "ttl_seconds": 86401})
	e.apiErr(400, "invalid_field", "agent_id", "POST", "/api/coord/locks", map[string]any{"path": "a", "agent_id": "ghost"})
	e.apiErr(404, "not_found", "path", "POST", "/api/coord/locks/release", map[string]any{"path": "nothing.txt", "agent_id": "codex"})
	if n := e.coordTotal(); n != before {
		t.Fatalf("refused lock requests stored %d rows", n-before)
	}
	// The holder re-acquiring extends the lock.
	time.Sleep(5 * time.Millisecond)
	l2 := e.ok(200, "POST", "/api/coord/locks", map[string]any{"path": "src/app.ts", "agent_id": "claude", "ttl_seconds": 3600})["lock"].(map[string]any)
	if l2["expires_at"].(string) <= exp1 || l2["acquired_at"] != l["acquired_at"] {
		t.Fatalf("extend: %v after %v", l2, l)
	}
	if ls := e.ok(200, "GET", "/api/coord/locks", nil)["locks"].([]any); len(ls) != 1 {
		t.Fatalf("locks: %v", ls)
	}
	rel := e.ok(200, "POST", "/api/coord/locks/release", map[string]any{"path": "src/app.ts", "agent_id": "claude"})["lock"].(map[string]any)
	if rel["released_by"] != "claude" || rel["released_at"] == "" {
		t.Fatalf("release: %v", rel)
	}
	e.apiErr(404, "not_found", "path", "POST", "/api/coord/locks/release", map[string]any{"path": "src/app.ts", "agent_id": "claude"})
	// Expiry: a 1 s lock stops blocking others once it has expired.
	e.ok(200, "POST", "/api/coord/locks", map[string]any{"path": "go.mod", "agent_id": "claude", "ttl_seconds": 1})
	e.apiErr(409, "conflict", "path", "POST", "/api/coord/locks", map[string]any{"path": "go.mod", "agent_id": "codex"})
	time.Sleep(1100 * time.Millisecond)
	if ls := e.ok(200, "GET", "/api/coord/locks", nil)["locks"].([]any); len(ls) != 0 {
		t.Fatalf("expired lock still listed: %v", ls)
	}
	if l := e.ok(200, "POST", "/api/coord/locks", map[string]any{"path": "go.mod", "agent_id": "codex"})["lock"].(map[string]any); l["holder"] != "codex" {
		t.Fatalf("after expiry: %v", l)
	}
	types := map[string]int{}
	for _, ev := range e.poll("since=0&timeout=0&types=coord.lock.acquired,coord.lock.released").Events {
		types[ev.Type]++
	}
	if types[events.CoordLockAcquired] != 4 || types[events.CoordLockReleased] != 1 {
		t.Fatalf("lock events: %v", types)
	}
}

func TestCoordMessages(t *testing.T) {
	e := newEnv(t, testRules)
	e.beat("claude", "llm")
	e.beat("codex", "code")
	e.task(map[string]any{"title": "x"})
	m := e.ok(201, "POST", "/api/coord/messages", map[string]any{"to": "codex", "message": "please review", "task_id": "T1", "agent_id": "claude"})["message"].(map[string]any)
	if m["from"] != "claude" || m["to"] != "codex" || m["msg_type"] != "message" || m["task_id"] != "T1" {
		t.Fatalf("post: %v", m)
	}
	e.ok(201, "POST", "/api/coord/messages", map[string]any{"message": "hello all"})
	e.ok(201, "POST", "/api/coord/messages", map[string]any{"to": "claude", "message": "only claude", "msg_type": "alert"})

	before := e.coordTotal()
	e.apiErr(400, "missing_field", "message", "POST", "/api/coord/messages", map[string]any{"message": "  "})
	e.apiErr(400, "invalid_field", "to", "POST", "/api/coord/messages", map[string]any{"to": "ghost", "message": "x"})
	e.apiErr(400, "invalid_field", "msg_type", "POST", "/api/coord/messages", map[string]any{"message": "x", "msg_type": "shout"})
	e.apiErr(400, "invalid_field", "task_id", "POST", "/api/coord/messages", map[string]any{"message": "x", "task_id": "T9"})
	e.apiErr(400, "invalid_field", "message", "POST", "/api/coord/messages", map[string]any{"message": strings.Repeat("m", 4001)})
	e.apiErr(400, "unknown_field", "from_agent", "POST", "/api/coord/messages", map[string]any{"message": "x", "from_agent": "rob"})
	if n := e.coordTotal(); n != before {
		t.Fatalf("rejected messages stored %d rows", n-before)
	}

	page := e.ok(200, "GET", "/api/coord/messages?limit=2", nil)
	ms := page["messages"].([]any)
	if len(ms) != 2 || ms[0].(map[string]any)["message"] != "only claude" || page["next_before"] == nil {
		t.Fatalf("page 1: %v", page)
	}
	page = e.ok(200, "GET", "/api/coord/messages?limit=2&before="+jsonNum(page["next_before"]), nil)
	if ms := page["messages"].([]any); len(ms) != 1 || ms[0].(map[string]any)["message"] != "please review" || page["next_before"] != nil {
		t.Fatalf("page 2: %v", page)
	}
	// codex's inbox: to it, to all, or by it.
	if ms := e.ok(200, "GET", "/api/coord/messages?for=codex", nil)["messages"].([]any); len(ms) != 2 {
		t.Fatalf("inbox: %v", ms)
	}
	e.apiErr(400, "invalid_field", "before", "GET", "/api/coord/messages?before=x", nil)
	e.apiErr(400, "invalid_field", "limit", "GET", "/api/coord/messages?limit=500", nil)
	if evs := e.poll("since=0&timeout=0&types=coord.message").Events; len(evs) != 3 {
		t.Fatalf("message events: %d", len(evs))
	}
}

func jsonNum(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// Without the token every coordination request is refused and stores nothing.
func TestCoordNeedsToken(t *testing.T) {
	e := newEnv(t, testRules)
	e.beat("claude", "llm")
	e.task(map[string]any{"title": "x"})
	before := e.coordTotal()
	for _, p := range [][2]string{{"GET", "/api/coord/agents"}, {"POST", "/api/coord/agents/heartbeat"}, {"GET", "/api/coord/tasks"},
		{"POST", "/api/coord/tasks"}, {"PATCH", "/api/coord/tasks/T1"}, {"POST", "/api/coord/tasks/T1/claim"}, {"POST", "/api/coord/tasks/T1/complete"},
		{"POST", "/api/coord/tasks/T1/reassign"}, {"GET", "/api/coord/locks"}, {"POST", "/api/coord/locks"}, {"POST", "/api/coord/locks/release"},
		{"GET", "/api/coord/messages"}, {"POST", "/api/coord/messages"}} {
		body := `{"id":"mallory","title":"x","owner":"mallory","path":"a","message":"x","agent_id":"claude"}`
		if p[0] == "PATCH" || strings.HasSuffix(p[1], "/claim") || strings.HasSuffix(p[1], "/complete") {
			body = `{"agent_id":"claude"}`
		}
		e.apiErr(401, "unauthorized", "", p[0], p[1], body, "Authorization", "")
	}
	if n := e.coordTotal(); n != before {
		t.Fatalf("requests without a token stored %d rows", n-before)
	}
	if tk := e.ok(200, "GET", "/api/coord/tasks", nil)["tasks"].([]any)[0].(map[string]any); tk["status"] != "pending" || tk["owner"] != "any" {
		t.Fatalf("a request without a token changed T1: %v", tk)
	}
}

// An agent is on the board as itself: its token names it, and an id naming
// anyone else is refused; the person may record an agent's action.
func TestCoordAgentActsAsItself(t *testing.T) {
	e := newEnv(t, testRules)
	agent := []string{"Authorization", "Bearer " + e.agentToken}
	e.apiErr(403, "forbidden_scope", "id", "POST", "/api/coord/agents/heartbeat", map[string]any{"id": "someone-else"}, agent...)
	a := e.ok(200, "POST", "/api/coord/agents/heartbeat", map[string]any{"name": "CI"}, agent...)["agent"].(map[string]any)
	if a["id"] != "default" {
		t.Fatalf("heartbeat recorded %v, want agent default", a)
	}
	e.apiErr(403, "forbidden_scope", "agent_id", "POST", "/api/coord/tasks", map[string]any{"title": "t", "agent_id": "someone-else"}, agent...)
	task := e.ok(201, "POST", "/api/coord/tasks", map[string]any{"title": "t"}, agent...)["task"].(map[string]any)
	if task["created_by"] != "default" {
		t.Fatalf("task created by %v, want default", task["created_by"])
	}
}
