package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// bearer adds the Hall's API token to every request of the MCP client.
type bearer struct {
	token string
	rt    http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.rt.RoundTrip(r)
}

// mcpLatencies calls tool n times (sequentially, one session) on the MCP
// server at endpoint and returns the sorted latencies.
func mcpLatencies(endpoint, token, tool string, n int) ([]time.Duration, error) {
	ctx := context.Background()
	var rt http.RoundTripper = &http.Transport{Proxy: nil}
	if token != "" {
		rt = bearer{token, rt}
	}
	c := mcp.NewClient(&mcp.Implementation{Name: "hallload", Version: "1"}, nil)
	sess, err := c.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: endpoint, HTTPClient: &http.Client{Transport: rt},
		DisableStandaloneSSE: true}, nil)
	if err != nil {
		return nil, fmt.Errorf("connect %s: %w", endpoint, err)
	}
	defer sess.Close()
	lat := make([]time.Duration, n)
	for i := range lat {
		t0 := time.Now()
		res, err := sess.CallTool(ctx, &mcp.CallToolParams{Name: tool, Arguments: map[string]any{"text": fmt.Sprint(i)}})
		lat[i] = time.Since(t0)
		if err != nil {
			return nil, fmt.Errorf("%s on %s: %w", tool, endpoint, err)
		}
		if res.IsError {
			b, _ := json.Marshal(res)
			return nil, fmt.Errorf("%s on %s answered an error: %s", tool, endpoint, b)
		}
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	return lat, nil
}

// mcpOverhead compares a proxied call (the Hall's MCP server: decide,
// record, dispatch, forward on the pooled session) with a direct call to the
// same upstream server.
func mcpOverhead(hallEndpoint, token, directEndpoint, server string, n int) error {
	if _, err := mcpLatencies(directEndpoint, "", "echo", 50); err != nil { // warm both
		return err
	}
	if _, err := mcpLatencies(hallEndpoint, token, server+"__echo", 50); err != nil {
		return err
	}
	direct, err := mcpLatencies(directEndpoint, "", "echo", n)
	if err != nil {
		return err
	}
	proxied, err := mcpLatencies(hallEndpoint, token, server+"__echo", n)
	if err != nil {
		return err
	}
	q := func(l []time.Duration, p int) time.Duration { return l[len(l)*p/100] }
	r := func(d time.Duration) time.Duration { return d.Round(time.Microsecond) }
	fmt.Printf("mcp direct   %5d calls: p50 %8v  p99 %8v\n", n, r(q(direct, 50)), r(q(direct, 99)))
	fmt.Printf("mcp proxied  %5d calls: p50 %8v  p99 %8v  (hallmonitor mcp: decision + receipt, dispatch start/finish, forward)\n",
		n, r(q(proxied, 50)), r(q(proxied, 99)))
	fmt.Printf("mcp proxy overhead: p50 %v  p99 %v  (target p50 < 1ms)\n", r(q(proxied, 50)-q(direct, 50)), r(q(proxied, 99)-q(direct, 99)))
	return nil
}
