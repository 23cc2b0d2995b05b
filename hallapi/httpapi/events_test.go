package httpapi_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"hallmonitor/hallapi/events"
)

func ingestN(t *testing.T, e *env, prefix string, n int) {
	t.Helper()
	var ds []map[string]any
	for i := 0; i < n; i++ {
		ds = append(ds, map[string]any{"decision_id": fmt.Sprintf("%s-%d", prefix, i), "capability_id": "cap.a", "denied": false, "tenant_id": "t"})
		if len(ds) == 1000 || i == n-1 {
			e.ok(201, "POST", "/api/decisions/ingest", map[string]any{"decisions": ds})
			ds = nil
		}
	}
}

type pollResp struct {
	Events []events.Event `json:"events"`
	LastID int64          `json:"last_id"`
}

func (e *env) poll(q string) pollResp {
	e.t.Helper()
	code, _, b := e.req("GET", "/api/events?"+q, nil)
	if code != 200 {
		e.t.Fatalf("poll %s: %d %s", q, code, b)
	}
	var p pollResp
	if err := json.Unmarshal(b, &p); err != nil {
		e.t.Fatal(err)
	}
	return p
}

func TestLongPoll(t *testing.T) {
	e := newEnv(t, testRules)
	ingestN(t, e, "a", 5)
	p := e.poll("since=0&timeout=0")
	if len(p.Events) != 5 || p.Events[0].ID != 1 || p.LastID != 5 || p.Events[0].Type != events.DecisionRecorded {
		t.Fatalf("since=0: %+v", p)
	}
	if p = e.poll("since=2&limit=2&timeout=0"); len(p.Events) != 2 || p.Events[0].ID != 3 || p.LastID != 4 {
		t.Fatalf("limit: %+v", p)
	}
	// Waits for the next event, then answers at once.
	go func() {
		time.Sleep(150 * time.Millisecond)
		ingestN(t, e, "b", 1)
	}()
	start := time.Now()
	p = e.poll("since=5&timeout=10")
	if len(p.Events) != 1 || p.Events[0].ID != 6 || time.Since(start) > 3*time.Second {
		t.Fatalf("long poll: %+v after %v", p, time.Since(start))
	}
	// Timeout with nothing new.
	start = time.Now()
	if p = e.poll("since=6&timeout=1"); len(p.Events) != 0 || p.LastID != 6 || time.Since(start) < 900*time.Millisecond {
		t.Fatalf("timeout: %+v", p)
	}
	// No since but a limit: the newest events (how a UI learns where to follow from).
	if p = e.poll("limit=1&timeout=0"); len(p.Events) != 1 || p.Events[0].ID != 6 || p.LastID != 6 {
		t.Fatalf("latest: %+v", p)
	}
	if p = e.poll("limit=2&types=decision.recorded&timeout=0"); len(p.Events) != 2 || p.Events[0].ID != 5 {
		t.Fatalf("latest of a type: %+v", p)
	}
	// Type filter: last_id advances past other types so the client does not re-read them.
	if p = e.poll("since=0&types=alert.raised&timeout=0"); len(p.Events) != 0 || p.LastID != 6 {
		t.Fatalf("types: %+v", p)
	}
	e.apiErr(400, "invalid_field", "types", "GET", "/api/events?types=nope", nil)
	e.apiErr(400, "invalid_field", "since", "GET", "/api/events?since=-1", nil)
	e.apiErr(400, "invalid_field", "timeout", "GET", "/api/events?timeout=61", nil)
}

type sseEvent struct {
	id  int64
	typ string
	ev  events.Event
}

// openSSE connects and returns a channel of parsed events and a close func.
func openSSE(t testing.TB, e *env, lastEventID string) (<-chan sseEvent, func()) {
	t.Helper()
	r, _ := http.NewRequest("GET", e.base+"/api/events", nil)
	r.Header.Set("Accept", "text/event-stream")
	r.Header.Set("Authorization", "Bearer "+e.token)
	if lastEventID != "" {
		r.Header.Set("Last-Event-ID", lastEventID)
	}
	resp, err := (&http.Client{}).Do(r)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("sse: %d %v", resp.StatusCode, resp.Header)
	}
	ch := make(chan sseEvent, 100000)
	go func() {
		defer close(ch)
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		var cur sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "id: "):
				cur.id, _ = strconv.ParseInt(line[4:], 10, 64)
			case strings.HasPrefix(line, "event: "):
				cur.typ = line[7:]
			case strings.HasPrefix(line, "data: "):
				if err := json.Unmarshal([]byte(line[6:]), &cur.ev); err != nil {
					t.Errorf("bad data: %s", line)
				}
			case line == "" && cur.id != 0:
				ch <- cur
				cur = sseEvent{}
			}
		}
	}()
	return ch, func() { resp.Body.Close() }
}

func collect(t *testing.T, ch <-chan sseEvent, n int) []sseEvent {
	t.Helper()
	var out []sseEvent
	timeout := time.After(20 * time.Second)
	for len(out) < n {
		select {
		case ev, ok := <-ch:
			if !ok {
				t.Fatalf("stream closed after %d of %d events", len(out), n)
			}
			out = append(out, ev)
		case <-timeout:
			t.Fatalf("got %d of %d events", len(out), n)
		}
	}
	return out
}

func TestSSEResumeLosesNothing(t *testing.T) {
	e := newEnv(t, testRules)
	ingestN(t, e, "a", 3)
	ch, stop := openSSE(t, e, "")
	got := collect(t, ch, 3)
	ingestN(t, e, "b", 2)
	got = append(got, collect(t, ch, 2)...)
	stop()
	// While disconnected, 2500 more changes happen (several batches).
	ingestN(t, e, "c", 2500)
	ch, stop = openSSE(t, e, strconv.FormatInt(got[len(got)-1].id, 10))
	defer stop()
	// A live batch bigger than the subscriber buffer forces the lag/resume path.
	go ingestN(t, e, "d", 3000)
	got = append(got, collect(t, ch, 5500)...)
	for i, ev := range got {
		if ev.id != int64(i+1) || ev.ev.ID != ev.id || ev.typ != events.DecisionRecorded {
			t.Fatalf("event %d: id %d type %s", i, ev.id, ev.typ)
		}
	}
	var d struct {
		DecisionID string `json:"decision_id"`
	}
	json.Unmarshal(got[len(got)-1].ev.Data, &d)
	if d.DecisionID != "d-2999" {
		t.Fatalf("last event is %s", d.DecisionID)
	}
}
