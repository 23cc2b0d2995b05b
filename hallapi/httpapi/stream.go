package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"hallmonitor/hallapi/apierr"
	"hallmonitor/hallapi/events"
	"hallmonitor/hallapi/principal"
)

const (
	sseHeartbeat  = 15 * time.Second
	crossProcPoll = time.Second // events written by another process (shared DB) are picked up this often
	sseBatch      = 1000
)

type eventQuery struct {
	since   int64
	latest  bool // no since given but a limit: the newest limit events (UI bootstrap)
	limit   int
	timeout time.Duration
	types   map[string]bool
	list    []string
}

func (q eventQuery) match(t string) bool { return len(q.types) == 0 || q.types[t] }

func parseEventQuery(r *http.Request) (eventQuery, *httpError) {
	q := eventQuery{limit: 100, timeout: 30 * time.Second}
	v := r.URL.Query()
	since := v.Get("since")
	if since == "" {
		since = r.Header.Get("Last-Event-ID")
	}
	if since != "" {
		n, err := strconv.ParseInt(since, 10, 64)
		if err != nil || n < 0 {
			return q, errf(http.StatusBadRequest, "invalid_field", "since", "since must be an event id (a whole number >= 0), not %s", apierr.Quote(since))
		}
		q.since = n
	}
	var he *httpError
	if q.limit, he = intParam(r, "limit", 100, 1, 1000); he != nil {
		return q, he
	}
	q.latest = since == "" && v.Get("limit") != ""
	t, he := intParam(r, "timeout", 30, 0, 60)
	if he != nil {
		return q, he
	}
	q.timeout = time.Duration(t) * time.Second
	if ts := v.Get("types"); ts != "" {
		q.types = map[string]bool{}
		for _, t := range strings.Split(ts, ",") {
			t = strings.TrimSpace(t)
			if !events.Known(t) {
				return q, errf(http.StatusBadRequest, "invalid_field", "types", "%s is not an event type (e.g. decision.recorded, alert.raised)", apierr.Quote(t))
			}
			q.types[t] = true
			q.list = append(q.list, t)
		}
	}
	return q, nil
}

func (s *Server) handleEvents(w http.ResponseWriter, r *http.Request) {
	q, he := parseEventQuery(r)
	if he != nil {
		s.fail(w, r, he)
		return
	}
	p, _ := principal.From(r.Context())
	r, stop := s.endOnLock(r, p)
	defer stop()
	if strings.Contains(r.Header.Get("Accept"), "text/event-stream") {
		s.streamSSE(w, r, q)
		return
	}
	s.longPoll(w, r, q)
}

// longPoll answers at once when events newer than since exist, else waits up
// to timeout for the next one.
func (s *Server) longPoll(w http.ResponseWriter, r *http.Request, q eventQuery) {
	ctx := r.Context()
	sub := s.Bus().Subscribe(64)
	defer sub.Close()
	deadline := time.NewTimer(q.timeout)
	defer deadline.Stop()
	poll := time.NewTicker(crossProcPoll)
	defer poll.Stop()
	for {
		head := s.st.LastEventID()
		var evs []events.Event
		var err error
		if q.latest {
			evs, err = s.st.LatestEvents(ctx, q.limit, q.list)
			q.latest = false
		} else {
			evs, err = s.st.EventsSince(ctx, q.since, q.limit, q.list)
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if len(evs) > 0 || q.timeout == 0 {
			last := q.since
			if len(evs) > 0 {
				last = evs[len(evs)-1].ID
			}
			if len(evs) < q.limit && head > last {
				last = head
			}
			WriteJSON(w, http.StatusOK, map[string]any{"events": evs, "last_id": last})
			return
		}
		if head > q.since {
			q.since = head // nothing of the requested types up to head
		}
	wait:
		for {
			select {
			case <-ctx.Done():
				if s.Locked() {
					WriteError(w, http.StatusLocked, "locked", "Hall Monitor was locked: unlock it with your passphrase", "")
				}
				return
			case <-deadline.C:
				q.timeout = 0
				break wait
			case ev := <-sub.C:
				if q.match(ev.Type) {
					break wait
				}
			case <-sub.Lagged:
				sub.Close()
				sub = s.Bus().Subscribe(64)
				break wait
			case <-poll.C:
				break wait
			}
		}
	}
}

// streamSSE streams events as Server-Sent Events from since, forever.
func (s *Server) streamSSE(w http.ResponseWriter, r *http.Request, q eventQuery) {
	fl, ok := w.(http.Flusher)
	if !ok {
		s.fail(w, r, errf(http.StatusInternalServerError, "internal", "", "streaming is not supported by this connection"))
		return
	}
	_ = http.NewResponseController(w).SetWriteDeadline(time.Time{})
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, "retry: 2000\n\n")
	fl.Flush()
	st := &sseStream{s: s, w: w, fl: fl, ctx: r.Context(), q: q, last: q.since}
	st.run()
}

// sseStream is one client's SSE stream: events go out in id order, each
// once, whatever process wrote them.
type sseStream struct {
	s    *Server
	w    io.Writer
	fl   http.Flusher
	ctx  context.Context
	q    eventQuery
	last int64 // the id of the last event sent (or skipped by the type filter)
}

// send writes ev when the client asked for its type.
func (st *sseStream) send(ev events.Event) error {
	if !st.q.match(ev.Type) {
		return nil
	}
	b, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(st.w, "id: %d\nevent: %s\ndata: %s\n\n", ev.ID, ev.Type, b)
	return err
}

// backfill sends what the store holds after last (events of another
// process, or the ones this stream was too slow to take from the bus).
func (st *sseStream) backfill() error {
	for {
		evs, err := st.s.st.EventsSince(st.ctx, st.last, sseBatch, nil)
		if err != nil {
			return err
		}
		for _, ev := range evs {
			if err := st.send(ev); err != nil {
				return err
			}
			st.last = ev.ID
		}
		if len(evs) > 0 {
			st.fl.Flush()
		}
		if len(evs) < sseBatch {
			return nil
		}
	}
}

// deliver sends a bus event and whatever the bus already holds after it,
// then flushes once; a gap in the ids is filled from the store.
func (st *sseStream) deliver(ev events.Event, c <-chan events.Event) error {
	for {
		switch {
		case ev.ID == st.last+1:
			if err := st.send(ev); err != nil {
				return err
			}
			st.last = ev.ID
		case ev.ID > st.last+1: // events committed by another process: read them in order
			if err := st.backfill(); err != nil {
				return err
			}
		}
		select {
		case ev = <-c:
		default:
			st.fl.Flush()
			return nil
		}
	}
}

// run follows the bus until the client goes away.
func (st *sseStream) run() {
	sub := st.s.Bus().Subscribe(256)
	defer func() { sub.Close() }()
	if err := st.backfill(); err != nil {
		return
	}
	beat := time.NewTicker(sseHeartbeat)
	defer beat.Stop()
	poll := time.NewTicker(crossProcPoll)
	defer poll.Stop()
	for {
		var err error
		select {
		case <-st.ctx.Done():
			return
		case ev := <-sub.C:
			err = st.deliver(ev, sub.C)
		case <-sub.Lagged:
			// Too slow: we were dropped. Resubscribe, then read what we missed from the store.
			sub.Close()
			sub = st.s.Bus().Subscribe(256)
			err = st.backfill()
		case <-poll.C:
			err = st.backfill()
		case <-beat.C:
			if _, err = fmt.Fprint(st.w, ": heartbeat\n\n"); err == nil {
				st.fl.Flush()
			}
		}
		if err != nil {
			return
		}
	}
}
