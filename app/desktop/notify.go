package desktop

import (
	"fmt"
	"sync"

	"github.com/godbus/dbus/v5"
)

// notifier shows a desktop notification.
type notifier interface {
	Notify(title, body string) error
}

// dbusNotifier talks to the freedesktop notification service (org.freedesktop.Notifications) on the
// session bus: GNOME, KDE, XFCE, dunst and mako all provide it. It connects on first use.
type dbusNotifier struct {
	mu   sync.Mutex
	conn *dbus.Conn
}

func (n *dbusNotifier) Notify(title, body string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.conn == nil {
		conn, err := dbus.ConnectSessionBus()
		if err != nil {
			return fmt.Errorf("desktop notifications unavailable: no session bus (%w)", err)
		}
		n.conn = conn
	}
	obj := n.conn.Object("org.freedesktop.Notifications", "/org/freedesktop/Notifications")
	call := obj.Call("org.freedesktop.Notifications.Notify", 0,
		"Hall Monitor", uint32(0), "hallmonitor", title, body, []string{}, map[string]dbus.Variant{}, int32(-1))
	if call.Err != nil {
		return fmt.Errorf("desktop notification failed: %w", call.Err)
	}
	return nil
}

func (n *dbusNotifier) Close() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.conn != nil {
		n.conn.Close()
		n.conn = nil
	}
}
