package mcpserver

// Coordination tools: agents on `hallmonitor mcp` join the Hall's task board
// (the Coordination screen). Every tool goes through the same board (hallapi/coord),
// and so the same validation, as /api/coord/*; each call names the agent
// (agent_id), which must have sent wcp_coord_heartbeat first.

import (
	"context"
	"errors"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"hallmonitor/hallapi/coord"
	"hallmonitor/hallapi/principal"
)

// Coordination tool names.
const (
	ToolCoordHeartbeat = "wcp_coord_heartbeat"
	ToolCoordTasks     = "wcp_coord_tasks"
	ToolCoordCreate    = "wcp_coord_create"
	ToolCoordClaim     = "wcp_coord_claim"
	ToolCoordComplete  = "wcp_coord_complete"
	ToolCoordMessage   = "wcp_coord_message"
	ToolCoordInbox     = "wcp_coord_inbox"
	ToolCoordLock      = "wcp_coord_lock"
	ToolCoordUnlock    = "wcp_coord_unlock"
)

// Arguments of the coordination tools.
type (
	coordHeartbeatArgs struct {
		AgentID string `json:"agent_id" jsonschema:"your agent id (letters, digits, '.', '_', '-'), e.g. claude-1"`
		Name    string `json:"name,omitempty" jsonschema:"display name (default: the id)"`
		Type    string `json:"type,omitempty" jsonschema:"llm, code, gpu, human or other (default other)"`
	}
	coordTasksArgs struct {
		Status string `json:"status,omitempty" jsonschema:"pending, in_progress or done (default: all)"`
		Owner  string `json:"owner,omitempty" jsonschema:"only tasks of this owner (an agent id, a person or any)"`
	}
	coordTaskFields struct {
		ID           string   `json:"id,omitempty" jsonschema:"a task id of your choice (1 to 32 letters, digits, '.', '_', '-', starting with a letter); default T<n>"`
		Title        string   `json:"title" jsonschema:"what needs to be done"`
		Details      string   `json:"details,omitempty"`
		Owner        string   `json:"owner,omitempty" jsonschema:"an agent id, a person or any (default any)"`
		Priority     string   `json:"priority,omitempty" jsonschema:"P0, P1 (default) or P2"`
		AgentType    string   `json:"agent_type,omitempty" jsonschema:"any (default), llm, code, gpu or human"`
		Section      string   `json:"section,omitempty" jsonschema:"board section (default Ad Hoc)"`
		Location     string   `json:"location,omitempty" jsonschema:"file or directory the task is about"`
		Predecessors []string `json:"predecessors,omitempty" jsonschema:"ids of the tasks this one depends on"`
		DepType      string   `json:"dep_type,omitempty" jsonschema:"FS (default), SS, FF or SF"`
	}
	coordCreateArgs struct {
		AgentID string `json:"agent_id" jsonschema:"your agent id"`
		coordTaskFields
	}
	coordClaimArgs struct {
		AgentID string `json:"agent_id" jsonschema:"your agent id"`
		TaskID  string `json:"task_id" jsonschema:"the task to start"`
	}
	coordCompleteArgs struct {
		AgentID  string           `json:"agent_id" jsonschema:"your agent id"`
		TaskID   string           `json:"task_id" jsonschema:"the task you finished"`
		Summary  string           `json:"summary,omitempty" jsonschema:"the result, for the people and agents who read the board"`
		Notify   bool             `json:"notify,omitempty" jsonschema:"also send the result (and the follow-up) to all as messages"`
		FollowUp *coordTaskFields `json:"follow_up,omitempty" jsonschema:"a follow-up task; it depends on this one with its own dep_type"`
	}
	coordMessageArgs struct {
		AgentID string `json:"agent_id" jsonschema:"your agent id"`
		To      string `json:"to,omitempty" jsonschema:"all (default) or an agent id"`
		Message string `json:"message"`
		TaskID  string `json:"task_id,omitempty" jsonschema:"the task the message is about"`
		MsgType string `json:"msg_type,omitempty" jsonschema:"message (default), result or alert"`
	}
	coordInboxArgs struct {
		AgentID string `json:"agent_id" jsonschema:"your agent id: messages to you, to all, or by you"`
		Limit   int    `json:"limit,omitempty" jsonschema:"1 to 200 (default 50)"`
		Before  int64  `json:"before,omitempty" jsonschema:"a message id: the page before it (next_before of the previous call)"`
	}
	coordLockArgs struct {
		AgentID    string `json:"agent_id" jsonschema:"your agent id"`
		Path       string `json:"path" jsonschema:"the file or directory to lock"`
		TTLSeconds int64  `json:"ttl_seconds,omitempty" jsonschema:"how long the lock lasts, 1 to 86400 (default 600); locking again extends it"`
	}
	coordUnlockArgs struct {
		AgentID string `json:"agent_id" jsonschema:"your agent id"`
		Path    string `json:"path" jsonschema:"the locked path"`
	}
)

func (f coordTaskFields) input() coord.TaskInput {
	return coord.TaskInput{ID: f.ID, Title: f.Title, Details: f.Details, Owner: f.Owner, Priority: f.Priority, AgentType: f.AgentType,
		Section: f.Section, Location: f.Location, Predecessors: f.Predecessors, DepType: f.DepType}
}

// coordResult answers a coordination tool: a refused change is a tool error
// with the board's code, message and field; other errors fail the call.
func coordResult(v any, err error) (*mcp.CallToolResult, any, error) {
	var ce *coord.Error
	switch {
	case errors.As(err, &ce):
		return textResult(true, map[string]any{"error": map[string]string{"code": ce.Code, "message": ce.Message, "field": ce.Field}}), nil, nil
	case err != nil:
		return nil, nil, err
	}
	return textResult(false, v), nil, nil
}

// agentID is who a board action is recorded as: an agent that reached this
// server with its token (mcp --http) is always itself, whatever agent_id it
// sends; over stdio the agent host names its agent with agent_id.
func agentID(ctx context.Context, id string) string {
	if p, ok := principal.From(ctx); ok && p.Via == principal.ViaAgent {
		return p.Name
	}
	return id
}

func agent(ctx context.Context, id string) coord.Actor {
	return coord.Actor{ID: agentID(ctx, id), Agent: true}
}

// board is the task board over the Hall's store.
func (s *Server) board() *coord.Service { return coord.New(s.st) }

func (s *Server) addCoordTools() {
	mcp.AddTool(s.mcp, &mcp.Tool{Name: ToolCoordHeartbeat, Description: "Join the Hall's coordination board, or say you are still alive " +
		"(every minute or so: an agent unseen for 2 minutes shows idle, after 15 offline). Call it before the other wcp_coord_* tools."},
		func(ctx context.Context, _ *mcp.CallToolRequest, a coordHeartbeatArgs) (*mcp.CallToolResult, any, error) {
			ag, err := s.board().Heartbeat(ctx, coord.AgentInput{ID: agentID(ctx, a.AgentID), Name: a.Name, Type: a.Type})
			return coordResult(map[string]any{"agent": ag}, err)
		})
	mcp.AddTool(s.mcp, &mcp.Tool{Name: ToolCoordTasks, Description: "List the board: tasks (with predecessors, dep_type, status, owner, claimed_by), the agents and the active file locks."},
		func(ctx context.Context, _ *mcp.CallToolRequest, a coordTasksArgs) (*mcp.CallToolResult, any, error) {
			ts, err := s.board().ListTasks(ctx, coord.TaskFilter{Status: a.Status, Owner: a.Owner})
			if err != nil {
				return coordResult(nil, err)
			}
			as, err := s.board().ListAgents(ctx)
			if err != nil {
				return nil, nil, err
			}
			ls, err := s.board().ActiveLocks(ctx)
			return coordResult(map[string]any{"tasks": ts, "agents": as, "locks": ls}, err)
		})
	mcp.AddTool(s.mcp, &mcp.Tool{Name: ToolCoordCreate, Description: "Add a task to the board."},
		func(ctx context.Context, _ *mcp.CallToolRequest, a coordCreateArgs) (*mcp.CallToolResult, any, error) {
			tk, err := s.board().CreateTask(ctx, a.input(), agent(ctx, a.AgentID))
			return coordResult(map[string]any{"task": tk}, err)
		})
	mcp.AddTool(s.mcp, &mcp.Tool{Name: ToolCoordClaim, Description: "Start a pending task (it becomes in_progress, claimed by you). " +
		"Refused while its dependencies do not allow a start, or when someone else holds it."},
		func(ctx context.Context, _ *mcp.CallToolRequest, a coordClaimArgs) (*mcp.CallToolResult, any, error) {
			tk, err := s.board().ClaimTask(ctx, a.TaskID, agent(ctx, a.AgentID))
			return coordResult(map[string]any{"task": tk}, err)
		})
	mcp.AddTool(s.mcp, &mcp.Tool{Name: ToolCoordComplete, Description: "Mark a task done with a result summary, optionally creating a follow-up task and notifying all."},
		func(ctx context.Context, _ *mcp.CallToolRequest, a coordCompleteArgs) (*mcp.CallToolResult, any, error) {
			in := coord.CompleteInput{Summary: a.Summary, Notify: a.Notify}
			if a.FollowUp != nil {
				fu := a.FollowUp.input()
				in.FollowUp = &fu
			}
			c, err := s.board().CompleteTask(ctx, a.TaskID, in, agent(ctx, a.AgentID))
			return coordResult(c, err)
		})
	mcp.AddTool(s.mcp, &mcp.Tool{Name: ToolCoordMessage, Description: "Send a message to all or to one agent (it shows on the Coordination screen)."},
		func(ctx context.Context, _ *mcp.CallToolRequest, a coordMessageArgs) (*mcp.CallToolResult, any, error) {
			m, err := s.board().PostMessage(ctx, coord.MessageInput{To: a.To, Message: a.Message, TaskID: a.TaskID, MsgType: a.MsgType}, agent(ctx, a.AgentID))
			return coordResult(map[string]any{"message": m}, err)
		})
	mcp.AddTool(s.mcp, &mcp.Tool{Name: ToolCoordInbox, Description: "Read the messages to you or to all (and yours), newest first."},
		func(ctx context.Context, _ *mcp.CallToolRequest, a coordInboxArgs) (*mcp.CallToolResult, any, error) {
			if err := coord.ValidAgentID("agent_id", a.AgentID); err != nil {
				return coordResult(nil, err)
			}
			page, err := s.board().ListMessages(ctx, coord.MessageFilter{Limit: a.Limit, Before: a.Before, For: a.AgentID})
			return coordResult(page, err)
		})
	mcp.AddTool(s.mcp, &mcp.Tool{Name: ToolCoordLock, Description: "Lock a file (or directory) you are about to change, so other agents know. " +
		"Refused while another agent holds it; locking again extends your lock."},
		func(ctx context.Context, _ *mcp.CallToolRequest, a coordLockArgs) (*mcp.CallToolResult, any, error) {
			l, err := s.board().AcquireLock(ctx, a.Path, a.TTLSeconds, agent(ctx, a.AgentID))
			return coordResult(map[string]any{"lock": l}, err)
		})
	mcp.AddTool(s.mcp, &mcp.Tool{Name: ToolCoordUnlock, Description: "Release your lock on a path."},
		func(ctx context.Context, _ *mcp.CallToolRequest, a coordUnlockArgs) (*mcp.CallToolResult, any, error) {
			l, err := s.board().ReleaseLock(ctx, a.Path, agent(ctx, a.AgentID))
			return coordResult(map[string]any{"lock": l}, err)
		})
}
