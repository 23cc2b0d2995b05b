package desktop

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"hallmonitor/hallapi/store"
)

type recordingNotifier struct {
	mu     sync.Mutex
	titles []string
	fail   bool
}

func (r *recordingNotifier) Notify(title, _ string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.titles = append(r.titles, title)
	if r.fail {
		return errors.New("no notification service")
	}
	return nil
}

func (r *recordingNotifier) seen() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.titles...)
}

// An alert written to a real Hall database reaches the desktop notifier through the event bus;
// a settings change made in the UI takes effect for the next event.
func TestForwardNotificationsFromRealStore(t *testing.T) {
	st, err := store.Open(filepath.Join(t.TempDir(), "hall.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	n := &recordingNotifier{}
	done := make(chan struct{})
	var locked atomic.Bool
	go func() {
		forwardNotifications(ctx, st, st.Bus(), locked.Load, n, slog.New(slog.DiscardHandler))
		close(done)
	}()
	waitFor := func(want int) []string {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for time.Now().Before(deadline) {
			if got := n.seen(); len(got) >= want {
				return got
			}
			time.Sleep(10 * time.Millisecond)
		}
		t.Fatalf("notifications %v, want %d", n.seen(), want)
		return nil
	}
	for st.Bus().Subscribers() == 0 {
		time.Sleep(time.Millisecond)
	}
	if _, err := st.RaiseAlert(ctx, store.AlertInput{Type: "WORKER_TAMPERED", Severity: store.SeverityCritical, Title: "Package changed", Body: "x"}); err != nil {
		t.Fatal(err)
	}
	if got := waitFor(1); got[0] != "Alert: Package changed" {
		t.Fatalf("got %v", got)
	}
	// Switch alert notifications off; the next alert is not shown.
	cur, err := st.GetSettings(ctx)
	if err != nil {
		t.Fatal(err)
	}
	next := cur
	next.NotifyOn = []string{"approval.created"}
	if _, err := st.PutSettings(ctx, next, cur.ETag()); err != nil {
		t.Fatal(err)
	}
	if _, err := st.RaiseAlert(ctx, store.AlertInput{Type: "REGISTRY_BANNED", Severity: store.SeverityError, Title: "Banned", Body: "y"}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	if got := n.seen(); len(got) != 1 {
		t.Fatalf("alert shown although switched off: %v", got)
	}
	// While the passphrase locks the Hall no notification tells what it does.
	locked.Store(true)
	if _, err := st.RaiseAlert(ctx, store.AlertInput{Type: "APPROVAL_EXPIRED", Severity: store.SeverityWarning, Title: "Locked away", Body: "z"}); err != nil {
		t.Fatal(err)
	}
	next2 := next
	next2.NotifyOn = []string{"alert.raised"}
	if _, err := st.PutSettings(ctx, next2, next.ETag()); err != nil {
		t.Fatal(err)
	}
	if _, err := st.RaiseAlert(ctx, store.AlertInput{Type: "APPROVAL_EXPIRED", Severity: store.SeverityWarning, Title: "Still locked", Body: "z"}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	if got := n.seen(); len(got) != 1 {
		t.Fatalf("a notification was shown while locked: %v", got)
	}
	locked.Store(false)
	if _, err := st.RaiseAlert(ctx, store.AlertInput{Type: "APPROVAL_EXPIRED", Severity: store.SeverityWarning, Title: "Unlocked", Body: "z"}); err != nil {
		t.Fatal(err)
	}
	if got := waitFor(2); got[1] != "Alert: Unlocked" {
		t.Fatalf("after unlocking: %v", got)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("forwarder did not stop with its context")
	}
}
