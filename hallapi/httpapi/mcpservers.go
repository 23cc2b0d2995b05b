package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"hallmonitor/hallapi/apierr"
	"hallmonitor/hallapi/mcpclient"
	"hallmonitor/hallapi/store"
)

// MCPServerView is a connected MCP server as the API answers it: the stored
// server plus the capability a routing rule names to let its tool calls
// through and the worker species that rule lists as candidate.
type MCPServerView struct {
	store.MCPServer
	CapabilityID    string `json:"capability_id"`
	WorkerSpeciesID string `json:"worker_species_id"`
}

func viewMCP(m store.MCPServer) MCPServerView {
	return MCPServerView{MCPServer: m, CapabilityID: mcpclient.CapabilityID(m.Name), WorkerSpeciesID: mcpclient.SpeciesID(m.Name)}
}

type addMCPBody struct {
	Name      string `json:"name"`
	Transport string `json:"transport"`
	URL       string `json:"url"`
	Command   string `json:"command"`
}

// validate checks an add request and returns the argv of a stdio server.
// Each error names its field.
func (b *addMCPBody) validate() ([]string, *httpError) {
	b.Name, b.URL = strings.TrimSpace(b.Name), strings.TrimSpace(b.URL)
	if err := mcpclient.ValidateName(b.Name); err != nil {
		code := "invalid_field"
		if b.Name == "" {
			code = "missing_field"
		}
		return nil, errf(http.StatusBadRequest, code, "name", "%v", err)
	}
	switch b.Transport {
	case store.MCPTransportHTTP:
		if b.URL == "" {
			return nil, errf(http.StatusBadRequest, "missing_field", "url", "url is required for HTTP transport, e.g. http://localhost:3001/mcp")
		}
		if b.Command != "" {
			return nil, errf(http.StatusBadRequest, "invalid_field", "command", "an HTTP server has no command: send url only")
		}
		if err := mcpclient.ValidateURL(b.URL); err != nil {
			return nil, errf(http.StatusBadRequest, "invalid_field", "url", "%v", err)
		}
		return nil, nil
	case store.MCPTransportStdio:
		if b.URL != "" {
			return nil, errf(http.StatusBadRequest, "invalid_field", "url", "a stdio server has no url: send command only")
		}
		if strings.TrimSpace(b.Command) == "" {
			return nil, errf(http.StatusBadRequest, "missing_field", "command", "command is required for stdio transport, e.g. npx my-mcp-server")
		}
		argv, err := mcpclient.SplitCommand(b.Command)
		if err != nil {
			return nil, errf(http.StatusBadRequest, "invalid_field", "command", "%v", err)
		}
		return argv, nil
	case "":
		return nil, errf(http.StatusBadRequest, "missing_field", "transport", "transport is required: http or stdio")
	}
	return nil, errf(http.StatusBadRequest, "invalid_field", "transport", "transport must be http or stdio, not %s", apierr.Quote(b.Transport))
}

func (s *Server) handleMCPServers(w http.ResponseWriter, r *http.Request) {
	ms, err := s.st.ListMCPServers(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := make([]MCPServerView, len(ms))
	for i, m := range ms {
		out[i] = viewMCP(m)
	}
	WriteJSON(w, http.StatusOK, map[string]any{"servers": out})
}

// handleAddMCPServer is POST /api/mcp/servers: store the server, then ping
// it once so the answer says whether it is reachable and what it offers.
func (s *Server) handleAddMCPServer(w http.ResponseWriter, r *http.Request) {
	var body addMCPBody
	if he := readJSON(w, r, maxBody, &body); he != nil {
		s.fail(w, r, he)
		return
	}
	argv, he := body.validate()
	if he != nil {
		s.fail(w, r, he)
		return
	}
	m, err := s.st.AddMCPServer(r.Context(), body.Name, body.Transport, body.URL, argv)
	if errors.Is(err, store.ErrConflict) {
		s.fail(w, r, errf(http.StatusConflict, "conflict", "name", "an MCP server named %s is already connected: pick another name or remove that one first", apierr.Quote(body.Name)))
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// The ping finishes (bounded by mcpclient.Timeout) even when the caller gives up.
	ctx := context.WithoutCancel(r.Context())
	if pinged, err := s.st.RecordMCPPing(ctx, m.ID, mcpclient.Ping(ctx, m, s.opts.Version)); err == nil {
		m = pinged
	} else if !errors.Is(err, store.ErrNotFound) {
		// The server is stored: answer with it (unpinged) rather than a 500
		// that a retry would meet as "already connected".
		s.log.Warn("record the first ping of an MCP server", "name", m.Name, "err", err)
	}
	WriteJSON(w, http.StatusCreated, map[string]any{"server": viewMCP(m)})
}

func (s *Server) mcpServerID(w http.ResponseWriter, r *http.Request) (string, bool) {
	id := r.PathValue("id")
	if he := validID("id", id); he != nil {
		s.fail(w, r, he)
		return "", false
	}
	return id, true
}

func (s *Server) mcpNotFound(w http.ResponseWriter, r *http.Request, id string) {
	s.fail(w, r, errf(http.StatusNotFound, "not_found", "id", "no connected MCP server %s (list them with GET /api/mcp/servers)", apierr.Quote(id)))
}

func (s *Server) handleRemoveMCPServer(w http.ResponseWriter, r *http.Request) {
	id, ok := s.mcpServerID(w, r)
	if !ok {
		return
	}
	m, err := s.st.RemoveMCPServer(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		s.mcpNotFound(w, r, id)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, map[string]any{"removed": true, "id": m.ID, "name": m.Name})
}

// handlePingMCPServer is POST /api/mcp/servers/{id}/ping: connect,
// initialize, list the tools, close (bounded by mcpclient.Timeout), and
// store what was found.
func (s *Server) handlePingMCPServer(w http.ResponseWriter, r *http.Request) {
	id, ok := s.mcpServerID(w, r)
	if !ok {
		return
	}
	m, err := s.st.GetMCPServer(r.Context(), id)
	if err == nil {
		ctx := context.WithoutCancel(r.Context())
		m, err = s.st.RecordMCPPing(ctx, id, mcpclient.Ping(ctx, m, s.opts.Version))
	}
	if errors.Is(err, store.ErrNotFound) {
		s.mcpNotFound(w, r, id)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, map[string]any{"status": m.Status, "server": viewMCP(m)})
}
