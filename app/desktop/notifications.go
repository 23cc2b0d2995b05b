package desktop

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"

	"hallmonitor/hallapi/events"
	"hallmonitor/hallapi/store"
)

// notificationFor turns an event into a desktop notification when the user's settings ask for one.
// The choice of events is the settings' notify_on list (decision.recorded there means every
// decision); denials alone have their own switch (notify_every_denial).
func notificationFor(ev events.Event, st store.Settings) (title, body string, ok bool) {
	var d map[string]any
	_ = json.Unmarshal(ev.Data, &d) // a payload that is not an object still gives a generic notification
	str := func(k string) string {
		if v, ok := d[k].(string); ok {
			return v
		}
		return ""
	}
	if ev.Type == events.DecisionRecorded {
		// notify_on with decision.recorded: every decision (the UI calls it noisy);
		// notify_every_denial: the denials only.
		denied, _ := d["denied"].(bool)
		if !slices.Contains(st.NotifyOn, ev.Type) && !(denied && st.NotifyEveryDenial) {
			return "", "", false
		}
		if !denied {
			return "Decision " + str("outcome") + ": " + str("capability_id"), "Worker " + str("selected_worker_species_id"), true
		}
		return "Request denied: " + str("capability_id"), fmt.Sprintf("%s — %s", str("deny_code"), str("deny_message")), true
	}
	if !slices.Contains(st.NotifyOn, ev.Type) {
		return "", "", false
	}
	switch ev.Type {
	case events.AlertRaised:
		return "Alert: " + str("title"), str("body"), true
	case events.ApprovalCreated:
		return "Approval needed: " + str("capability_id"), fmt.Sprintf("Tenant %s; rule %s. Open Hall Monitor to approve or deny.", str("tenant_id"), str("matched_rule_id")), true
	case events.DispatchFinished:
		return "Dispatch " + str("outcome") + ": " + str("capability_id"), fmt.Sprintf("Worker %s, %v ms", str("worker_species_id"), d["duration_ms"]), true
	case events.WorkerAttestation:
		return "Worker attestation: " + str("worker_id"), "Status " + str("status"), true
	case events.StandingChanged:
		return "Account standing changed", str("standing"), true
	}
	return "Hall Monitor: " + ev.Type, "", true
}

// forwardNotifications shows a desktop notification for each event the settings select, until ctx ends.
// The first failure to notify (no notification service) is logged once, not for every event.
func forwardNotifications(ctx context.Context, st *store.Store, bus *events.Bus, locked func() bool, n notifier, log *slog.Logger) {
	sub := bus.Subscribe(0)
	defer func() { sub.Close() }()
	warned := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-sub.Lagged:
			// Missed events are not worth a burst of stale pop-ups: resubscribe and go on from now.
			log.Warn("desktop notifications fell behind the event stream; skipped the backlog")
			sub.Close()
			sub = bus.Subscribe(0)
		case ev := <-sub.C:
			if locked() {
				continue // the passphrase lock hides the Hall: no pop-up tells what it does
			}
			settings, err := st.GetSettings(ctx)
			if err != nil {
				log.Error("read settings for notifications", "err", err)
				continue
			}
			title, body, ok := notificationFor(ev, settings)
			if !ok {
				continue
			}
			if err := n.Notify(title, body); err != nil && !warned {
				log.Warn("desktop notification not shown", "err", err)
				warned = true
			}
		}
	}
}
