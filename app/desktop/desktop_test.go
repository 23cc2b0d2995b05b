package desktop

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"hallmonitor/hallapi/events"
	"hallmonitor/hallapi/store"
)

func TestNotificationFor(t *testing.T) {
	def := store.DefaultSettings() // notify on alert.raised and approval.created
	every := def
	every.NotifyEveryDenial = true
	none := def
	none.NotifyOn = nil
	ev := func(typ, data string) events.Event {
		return events.Event{ID: 1, Type: typ, Data: json.RawMessage(data)}
	}
	denied := ev(events.DecisionRecorded, `{"denied":true,"capability_id":"cap.doc.summarize","deny_code":"DENY_NO_MATCHING_RULE","deny_message":"no rule"}`)
	tests := []struct {
		name      string
		ev        events.Event
		st        store.Settings
		wantOK    bool
		wantTitle string
		wantBody  string
	}{
		{"alert by default", ev(events.AlertRaised, `{"title":"Worker package changed","body":"x.a tampered"}`), def, true, "Alert: Worker package changed", "x.a tampered"},
		{"approval by default", ev(events.ApprovalCreated, `{"capability_id":"cap.pay","tenant_id":"t1","matched_rule_id":"r9"}`), def, true, "Approval needed: cap.pay", "Tenant t1; rule r9"},
		{"alerts switched off", ev(events.AlertRaised, `{"title":"x"}`), none, false, "", ""},
		{"denial not chosen", denied, def, false, "", ""},
		{"every denial", denied, every, true, "Request denied: cap.doc.summarize", "DENY_NO_MATCHING_RULE — no rule"},
		{"an allowed decision is not a denial", ev(events.DecisionRecorded, `{"denied":false}`), every, false, "", ""},
		{"every decision chosen", ev(events.DecisionRecorded, `{"denied":false,"outcome":"allowed","capability_id":"cap.x","selected_worker_species_id":"wrk.x"}`), store.Settings{NotifyOn: []string{events.DecisionRecorded}}, true, "Decision allowed: cap.x", "Worker wrk.x"},
		{"unlisted type", ev(events.WorkerEnrolled, `{}`), def, false, "", ""},
		{"payload that is not an object", ev(events.AlertRaised, `[1,2]`), def, true, "Alert: ", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			title, body, ok := notificationFor(tc.ev, tc.st)
			if ok != tc.wantOK || title != tc.wantTitle || !strings.HasPrefix(body, tc.wantBody) {
				t.Fatalf("got (%q, %q, %v), want (%q, %q…, %v)", title, body, ok, tc.wantTitle, tc.wantBody, tc.wantOK)
			}
		})
	}
}

func TestWindowStateRoundTripAndDamage(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "window.json")
	s, err := loadWindowState(path)
	if err != nil || s.Width != defaultWidth || s.Height != defaultHeight {
		t.Fatalf("missing file: got %+v, %v; want defaults", s, err)
	}
	want := windowState{X: 40, Y: 30, Width: 1400, Height: 900, Maximised: true}
	if err := want.save(path); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, want 0600", fi.Mode().Perm())
	}
	if got, err := loadWindowState(path); err != nil || got != want {
		t.Fatalf("got %+v, %v; want %+v", got, err, want)
	}
	// A size too small to use falls back to the default size, keeping the place.
	if err := (windowState{X: 5, Y: 6, Width: 10, Height: 10}).save(path); err != nil {
		t.Fatal(err)
	}
	if got, _ := loadWindowState(path); got.Width != defaultWidth || got.X != 5 {
		t.Fatalf("tiny window: got %+v", got)
	}
	if err := os.WriteFile(path, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, err := loadWindowState(path); err == nil || got.Width != defaultWidth {
		t.Fatalf("damaged file: got %+v, %v; want defaults and an error", got, err)
	}
}

type fakePlatform struct{ opened []string }

func (f *fakePlatform) OpenURL(u string) { f.opened = append(f.opened, u) }
func (f *fakePlatform) PickDirectory(string, string) (string, error) {
	return "/home/me/workers", nil
}
func (f *fakePlatform) Show()                                {}
func (f *fakePlatform) Hide()                                {}
func (f *fakePlatform) Navigate(string)                      {}
func (f *fakePlatform) Quit()                                {}
func (f *fakePlatform) Geometry() (int, int, int, int, bool) { return 0, 0, 0, 0, false }
func (f *fakePlatform) SetGeometry(int, int, int, int, bool) {}

func TestBridgeOpensOnlyWebAddresses(t *testing.T) {
	b := &Bridge{}
	if err := b.OpenURL("https://example.org/"); err == nil || !strings.Contains(err.Error(), "starting") {
		t.Fatalf("before startup: %v", err)
	}
	fp := &fakePlatform{}
	b.setPlatform(fp)
	for _, bad := range []string{"file:///etc/passwd", "javascript:alert(1)", "/relative", "https://", "ftp://x/"} {
		if err := b.OpenURL(bad); err == nil {
			t.Errorf("OpenURL(%q) was allowed", bad)
		}
	}
	if err := b.OpenURL("http://127.0.0.1:4000/auth/github?desktop=1"); err != nil {
		t.Fatal(err)
	}
	if len(fp.opened) != 1 || fp.opened[0] != "http://127.0.0.1:4000/auth/github?desktop=1" {
		t.Fatalf("opened %v", fp.opened)
	}
	if p, err := b.PickDirectory("Workers"); err != nil || p != "/home/me/workers" {
		t.Fatalf("PickDirectory: %q, %v", p, err)
	}
}
