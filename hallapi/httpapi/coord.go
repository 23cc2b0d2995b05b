package httpapi

import (
	"net/http"
	"strconv"
	"strings"

	"hallmonitor/hallapi/apierr"
	"hallmonitor/hallapi/coord"
	"hallmonitor/hallapi/principal"
)

// Coordination endpoints (/api/coord/*): the multi-agent task board. The
// board (hallapi/coord) validates every change; these handlers decode the
// body strictly and say who acts: an agent names itself with agent_id (it
// must have sent a heartbeat), anything else is the person at the Hall.

// Identity of the person using the Hall.
const (
	IdentityGitHub = "github" // the signed-in GitHub login
	IdentityOS     = "os"     // the operating system's user name
)

// person is who the person at the Hall is, and how the Hall knows: the
// signed-in GitHub login if there is one, else the OS user name. Records and
// the board name the person by it.
func (s *Server) person(r *http.Request) (name, source string) {
	if acct := s.accountStatus(r); acct.GitHubLogin != "" {
		return acct.GitHubLogin, IdentityGitHub
	}
	return principal.OSUser(), IdentityOS
}

// actor is who a board action is recorded as. An agent acts as itself,
// named by its token (an agent_id naming anyone else is refused); the person
// acts as themselves, or records an agent's action by its agent_id.
func (s *Server) actor(r *http.Request, agentID string) (coord.Actor, *httpError) {
	p, _ := principal.From(r.Context()) // authorize set it: every board route needs a principal
	if !p.IsPerson() {
		if agentID != "" && agentID != p.Name {
			return coord.Actor{}, errf(http.StatusForbidden, "forbidden_scope", "agent_id",
				"agent %s acts on the board as itself: leave agent_id out or send %s", apierr.Quote(p.Name), apierr.Quote(p.Name))
		}
		return coord.Actor{ID: p.Name, Agent: true}, nil
	}
	if agentID != "" {
		return coord.Actor{ID: agentID, Agent: true}, nil
	}
	return coord.Actor{ID: p.Name}, nil
}

// board is the task board over the Hall's store.
func (s *Server) board() *coord.Service { return coord.New(s.st) }

// readOptionalJSON decodes a body that may be empty (all fields optional).
func readOptionalJSON(w http.ResponseWriter, r *http.Request, dst any) *httpError {
	b, he := readBody(w, r, maxBody)
	if he != nil {
		return he
	}
	if strings.TrimSpace(string(b)) == "" {
		return nil
	}
	return decodeStrict(b, dst)
}

func (s *Server) handleCoordAgents(w http.ResponseWriter, r *http.Request) {
	as, err := s.board().ListAgents(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	name, source := s.person(r)
	WriteJSON(w, http.StatusOK, map[string]any{"agents": as, "me": map[string]string{"id": name, "source": source}})
}

func (s *Server) handleCoordHeartbeat(w http.ResponseWriter, r *http.Request) {
	var body struct {
		ID   string `json:"id"`
		Name string `json:"name"`
		Type string `json:"type"`
	}
	if he := readJSON(w, r, maxBody, &body); he != nil {
		s.fail(w, r, he)
		return
	}
	if p, ok := principal.From(r.Context()); ok && !p.IsPerson() {
		if body.ID != "" && body.ID != p.Name {
			s.fail(w, r, errf(http.StatusForbidden, "forbidden_scope", "id", "agent %s is on the board as itself: leave id out or send %s",
				apierr.Quote(p.Name), apierr.Quote(p.Name)))
			return
		}
		body.ID = p.Name
	}
	a, err := s.board().Heartbeat(r.Context(), coord.AgentInput{ID: body.ID, Name: body.Name, Type: body.Type})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, map[string]any{"agent": a})
}

func (s *Server) handleCoordTasks(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	ts, err := s.board().ListTasks(r.Context(), coord.TaskFilter{Status: q.Get("status"), Owner: q.Get("owner")})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, map[string]any{"tasks": ts})
}

// taskBody is a new task as JSON (POST /api/coord/tasks, and follow_up of
// complete, where agent_id is refused: whoever completes creates it).
type taskBody struct {
	AgentID      string   `json:"agent_id"`
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
}

func (b taskBody) input() coord.TaskInput {
	return coord.TaskInput{ID: b.ID, Title: b.Title, Details: b.Details, Owner: b.Owner, Priority: b.Priority, AgentType: b.AgentType,
		Section: b.Section, Location: b.Location, Predecessors: b.Predecessors, DepType: b.DepType}
}

// boardChange is how one change to the board is asked for: whether the task
// id is in the path, whether the body may be empty, and the answer's status
// and key ("" answers with the result as it is).
type boardChange struct {
	taskInPath bool
	optional   bool
	status     int
	key        string
}

// change is the shape every board change shares: check the path's task id,
// decode the body strictly into body, find who acts from its agent_id (the
// field agentID points at), make the change with run and answer with it.
func (s *Server) change(w http.ResponseWriter, r *http.Request, c boardChange, body any, agentID *string, run func(coord.Actor) (any, error)) {
	if c.taskInPath {
		if he := taskPathID(r); he != nil {
			s.fail(w, r, he)
			return
		}
	}
	read := func() *httpError { return readJSON(w, r, maxBody, body) }
	if c.optional {
		read = func() *httpError { return readOptionalJSON(w, r, body) }
	}
	if he := read(); he != nil {
		s.fail(w, r, he)
		return
	}
	act, he := s.actor(r, *agentID)
	if he != nil {
		s.fail(w, r, he)
		return
	}
	out, err := run(act)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if c.key != "" {
		out = map[string]any{c.key: out}
	}
	WriteJSON(w, c.status, out)
}

func (s *Server) handleCoordCreateTask(w http.ResponseWriter, r *http.Request) {
	var body taskBody
	s.change(w, r, boardChange{status: http.StatusCreated, key: "task"}, &body, &body.AgentID, func(act coord.Actor) (any, error) {
		return s.board().CreateTask(r.Context(), body.input(), act)
	})
}

func taskPathID(r *http.Request) *httpError {
	id := r.PathValue("task_id")
	if err := coord.ValidTaskID("id", id); err != nil {
		return errf(http.StatusBadRequest, "invalid_field", "id", "%v", err)
	}
	return nil
}

func (s *Server) handleCoordUpdateTask(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Title        *string   `json:"title"`
		Details      *string   `json:"details"`
		Owner        *string   `json:"owner"`
		Priority     *string   `json:"priority"`
		AgentType    *string   `json:"agent_type"`
		Section      *string   `json:"section"`
		Location     *string   `json:"location"`
		Predecessors *[]string `json:"predecessors"`
		DepType      *string   `json:"dep_type"`
		AgentID      string    `json:"agent_id"`
	}
	s.change(w, r, boardChange{taskInPath: true, status: http.StatusOK, key: "task"}, &body, &body.AgentID, func(act coord.Actor) (any, error) {
		p := coord.TaskPatch{Title: body.Title, Details: body.Details, Owner: body.Owner, Priority: body.Priority, AgentType: body.AgentType,
			Section: body.Section, Location: body.Location, DepType: body.DepType, Predecessors: body.Predecessors}
		return s.board().UpdateTask(r.Context(), r.PathValue("task_id"), p, act)
	})
}

func (s *Server) handleCoordClaim(w http.ResponseWriter, r *http.Request) {
	var body struct {
		AgentID string `json:"agent_id"`
	}
	s.change(w, r, boardChange{taskInPath: true, optional: true, status: http.StatusOK, key: "task"}, &body, &body.AgentID, func(act coord.Actor) (any, error) {
		return s.board().ClaimTask(r.Context(), r.PathValue("task_id"), act)
	})
}

func (s *Server) handleCoordComplete(w http.ResponseWriter, r *http.Request) {
	var body struct {
		AgentID  string    `json:"agent_id"`
		Summary  string    `json:"summary"`
		FollowUp *taskBody `json:"follow_up"`
		Notify   bool      `json:"notify"`
	}
	s.change(w, r, boardChange{taskInPath: true, optional: true, status: http.StatusOK}, &body, &body.AgentID, func(act coord.Actor) (any, error) {
		in := coord.CompleteInput{Summary: body.Summary, Notify: body.Notify}
		if body.FollowUp != nil {
			if body.FollowUp.AgentID != "" {
				return nil, errf(http.StatusBadRequest, "invalid_field", "follow_up.agent_id", "follow_up.agent_id is not accepted: the follow-up is created by whoever completes the task (agent_id)")
			}
			fu := body.FollowUp.input()
			in.FollowUp = &fu
		}
		return s.board().CompleteTask(r.Context(), r.PathValue("task_id"), in, act)
	})
}

func (s *Server) handleCoordReassign(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Owner   string `json:"owner"`
		AgentID string `json:"agent_id"`
	}
	s.change(w, r, boardChange{taskInPath: true, status: http.StatusOK, key: "task"}, &body, &body.AgentID, func(act coord.Actor) (any, error) {
		return s.board().ReassignTask(r.Context(), r.PathValue("task_id"), body.Owner, act)
	})
}

func (s *Server) handleCoordLocks(w http.ResponseWriter, r *http.Request) {
	ls, err := s.board().ActiveLocks(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, map[string]any{"locks": ls})
}

func (s *Server) handleCoordAcquireLock(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Path       string `json:"path"`
		AgentID    string `json:"agent_id"`
		TTLSeconds int64  `json:"ttl_seconds"`
	}
	s.change(w, r, boardChange{status: http.StatusOK, key: "lock"}, &body, &body.AgentID, func(act coord.Actor) (any, error) {
		return s.board().AcquireLock(r.Context(), body.Path, body.TTLSeconds, act)
	})
}

func (s *Server) handleCoordReleaseLock(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Path    string `json:"path"`
		AgentID string `json:"agent_id"`
	}
	s.change(w, r, boardChange{status: http.StatusOK, key: "lock"}, &body, &body.AgentID, func(act coord.Actor) (any, error) {
		return s.board().ReleaseLock(r.Context(), body.Path, act)
	})
}

func (s *Server) handleCoordMessages(w http.ResponseWriter, r *http.Request) {
	limit, he := intParam(r, "limit", 50, 1, 200)
	if he != nil {
		s.fail(w, r, he)
		return
	}
	f := coord.MessageFilter{Limit: limit, For: r.URL.Query().Get("for")}
	if v := r.URL.Query().Get("before"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			s.fail(w, r, errf(http.StatusBadRequest, "invalid_field", "before", "before=%s must be a message id (a whole number from 1), e.g. next_before of the previous page", apierr.Quote(v)))
			return
		}
		f.Before = n
	}
	page, err := s.board().ListMessages(r.Context(), f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, page)
}

func (s *Server) handleCoordPostMessage(w http.ResponseWriter, r *http.Request) {
	var body struct {
		To      string `json:"to"`
		Message string `json:"message"`
		TaskID  string `json:"task_id"`
		MsgType string `json:"msg_type"`
		AgentID string `json:"agent_id"`
	}
	s.change(w, r, boardChange{status: http.StatusCreated, key: "message"}, &body, &body.AgentID, func(act coord.Actor) (any, error) {
		return s.board().PostMessage(r.Context(), coord.MessageInput{To: body.To, Message: body.Message, TaskID: body.TaskID, MsgType: body.MsgType}, act)
	})
}
