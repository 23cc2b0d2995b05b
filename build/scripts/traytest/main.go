// Command traytest is the desktop side of build/scripts/tray-smoke.sh: on a private D-Bus session bus it plays
// the system tray (a StatusNotifierWatcher with a registered host, as a desktop panel provides), and it drives
// the tray icon of the real Hall Monitor binary as a panel would: reads its menu over com.canonical.dbusmenu,
// clicks items, activates the icon. It also closes an X11 window the way a window manager's close button does
// (WM_DELETE_WINDOW), which xdotool cannot.
//
//	traytest watch          own org.kde.StatusNotifierWatcher until killed (prints each item that registers)
//	traytest items          print the registered items, one a line
//	traytest menu           print the first item's icon size and menu labels ("-" for a separator)
//	traytest click LABEL    send "clicked" to the menu item labelled LABEL
//	traytest activate       call Activate on the icon (a click on it in the panel)
//	traytest close WINDOW   send WM_DELETE_WINDOW to the X11 window id WINDOW (decimal, as xdotool prints)
package main

import (
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/godbus/dbus/v5"
	"github.com/godbus/dbus/v5/prop"
	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"
)

const (
	watcherName = "org.kde.StatusNotifierWatcher"
	watcherPath = dbus.ObjectPath("/StatusNotifierWatcher")
	itemIface   = "org.kde.StatusNotifierItem"
	menuIface   = "com.canonical.dbusmenu"
)

func main() {
	if len(os.Args) < 2 {
		fail(errors.New("usage: traytest watch|items|menu|click LABEL|activate|close WINDOW"))
	}
	var err error
	switch cmd, args := os.Args[1], os.Args[2:]; {
	case cmd == "watch":
		err = watch()
	case cmd == "items":
		err = printItems()
	case cmd == "menu":
		err = printMenu()
	case cmd == "click" && len(args) == 1:
		err = click(args[0])
	case cmd == "activate":
		err = activate()
	case cmd == "close" && len(args) == 1:
		err = closeWindow(args[0])
	default:
		err = fmt.Errorf("unknown command %q", strings.Join(os.Args[1:], " "))
	}
	if err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "traytest:", err)
	os.Exit(1)
}

// watcher is a minimal StatusNotifierWatcher (freedesktop StatusNotifierItem spec) whose host is this process.
type watcher struct {
	mu    sync.Mutex
	conn  *dbus.Conn
	props *prop.Properties
	items []string
}

func (w *watcher) RegisterStatusNotifierItem(sender dbus.Sender, service string) *dbus.Error {
	item := service + "/StatusNotifierItem"
	if strings.HasPrefix(service, "/") { // a path: the item is on the caller's connection
		item = string(sender) + service
	}
	w.mu.Lock()
	w.items = append(w.items, item)
	items := append([]string(nil), w.items...)
	w.mu.Unlock()
	w.props.SetMust(watcherName, "RegisteredStatusNotifierItems", items)
	if err := w.conn.Emit(watcherPath, watcherName+".StatusNotifierItemRegistered", item); err != nil {
		return dbus.MakeFailedError(err)
	}
	fmt.Println("registered", item)
	return nil
}

func (w *watcher) RegisterStatusNotifierHost(string) *dbus.Error { return nil }

func watch() error {
	conn, err := dbus.ConnectSessionBus()
	if err != nil {
		return err
	}
	w := &watcher{conn: conn}
	if err := conn.Export(w, watcherPath, watcherName); err != nil {
		return err
	}
	w.props, err = prop.Export(conn, watcherPath, map[string]map[string]*prop.Prop{watcherName: {
		"RegisteredStatusNotifierItems":  {Value: []string{}, Emit: prop.EmitTrue},
		"IsStatusNotifierHostRegistered": {Value: true, Emit: prop.EmitTrue},
		"ProtocolVersion":                {Value: int32(0), Emit: prop.EmitTrue},
	}})
	if err != nil {
		return err
	}
	reply, err := conn.RequestName(watcherName, dbus.NameFlagDoNotQueue)
	if err != nil {
		return err
	}
	if reply != dbus.RequestNameReplyPrimaryOwner {
		return fmt.Errorf("%s is taken on this bus", watcherName)
	}
	// An item whose connection goes away leaves the tray, as with a panel's watcher.
	if err := conn.AddMatchSignal(dbus.WithMatchInterface("org.freedesktop.DBus"), dbus.WithMatchMember("NameOwnerChanged")); err != nil {
		return err
	}
	signals := make(chan *dbus.Signal, 16)
	conn.Signal(signals)
	fmt.Println("watching")
	for sig := range signals {
		if name, _ := sig.Body[0].(string); len(sig.Body) == 3 && sig.Body[2] == "" {
			w.drop(name + "/")
		}
	}
	return errors.New("the session bus connection closed")
}

func (w *watcher) drop(prefix string) {
	w.mu.Lock()
	kept := w.items[:0]
	for _, it := range w.items {
		if !strings.HasPrefix(it, prefix) {
			kept = append(kept, it)
		} else {
			fmt.Println("unregistered", it)
		}
	}
	w.items = kept
	items := append([]string{}, kept...)
	w.mu.Unlock()
	w.props.SetMust(watcherName, "RegisteredStatusNotifierItems", items)
}

func registeredItems(conn *dbus.Conn) ([]string, error) {
	v, err := conn.Object(watcherName, watcherPath).GetProperty(watcherName + ".RegisteredStatusNotifierItems")
	if err != nil {
		return nil, err
	}
	items, ok := v.Value().([]string)
	if !ok {
		return nil, fmt.Errorf("RegisteredStatusNotifierItems is %s", v.Signature())
	}
	return items, nil
}

func printItems() error {
	conn, err := dbus.ConnectSessionBus()
	if err != nil {
		return err
	}
	items, err := registeredItems(conn)
	for _, it := range items {
		fmt.Println(it)
	}
	return err
}

// item returns the first registered item's object and its menu object.
func item(conn *dbus.Conn) (icon, menu dbus.BusObject, err error) {
	items, err := registeredItems(conn)
	if err != nil {
		return nil, nil, err
	}
	if len(items) == 0 {
		return nil, nil, errors.New("no StatusNotifierItem registered")
	}
	i := strings.Index(items[0], "/")
	dest, path := items[0][:i], dbus.ObjectPath(items[0][i:])
	icon = conn.Object(dest, path)
	v, err := icon.GetProperty(itemIface + ".Menu")
	if err != nil {
		return nil, nil, fmt.Errorf("read the item's Menu: %w", err)
	}
	mp, ok := v.Value().(dbus.ObjectPath)
	if !ok {
		return nil, nil, fmt.Errorf("the item's Menu is %s", v.Signature())
	}
	return icon, conn.Object(dest, mp), nil
}

type entry struct {
	id    int32
	label string
}

// layout reads the whole menu (GetLayout of the root, all levels) as the panel shows it.
func layout(menu dbus.BusObject) ([]entry, error) {
	var rev uint32
	var root struct {
		ID       int32
		Props    map[string]dbus.Variant
		Children []dbus.Variant
	}
	if err := menu.Call(menuIface+".GetLayout", 0, int32(0), int32(-1), []string{}).Store(&rev, &root); err != nil {
		return nil, fmt.Errorf("GetLayout: %w", err)
	}
	var out []entry
	for _, c := range root.Children {
		f, ok := c.Value().([]any)
		if !ok || len(f) < 2 {
			return nil, fmt.Errorf("menu child is %s", c.Signature())
		}
		id, _ := f[0].(int32)
		props, _ := f[1].(map[string]dbus.Variant)
		label := "-"
		if t, ok := props["type"]; !ok || t.Value() != "separator" {
			label, _ = props["label"].Value().(string)
			if en, ok := props["enabled"]; ok && en.Value() == false {
				label += " (disabled)"
			}
		}
		out = append(out, entry{id, label})
	}
	return out, nil
}

func printMenu() error {
	conn, err := dbus.ConnectSessionBus()
	if err != nil {
		return err
	}
	icon, menu, err := item(conn)
	if err != nil {
		return err
	}
	v, err := icon.GetProperty(itemIface + ".IconPixmap")
	if err != nil {
		return fmt.Errorf("read IconPixmap: %w", err)
	}
	var pix []struct {
		W, H int32
		Data []byte
	}
	if err := dbus.Store([]any{v.Value()}, &pix); err != nil {
		return fmt.Errorf("IconPixmap: %w", err)
	}
	for _, p := range pix {
		fmt.Printf("icon %dx%d %d bytes\n", p.W, p.H, len(p.Data))
	}
	entries, err := layout(menu)
	for _, e := range entries {
		fmt.Println(e.label)
	}
	return err
}

func click(label string) error {
	conn, err := dbus.ConnectSessionBus()
	if err != nil {
		return err
	}
	_, menu, err := item(conn)
	if err != nil {
		return err
	}
	entries, err := layout(menu)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.label == label {
			return menu.Call(menuIface+".Event", 0, e.id, "clicked", dbus.MakeVariant(""), uint32(0)).Err
		}
	}
	return fmt.Errorf("no menu item %q", label)
}

func activate() error {
	conn, err := dbus.ConnectSessionBus()
	if err != nil {
		return err
	}
	icon, _, err := item(conn)
	if err != nil {
		return err
	}
	return icon.Call(itemIface+".Activate", 0, int32(0), int32(0)).Err
}

func closeWindow(arg string) error {
	id, err := strconv.ParseUint(arg, 10, 32)
	if err != nil {
		return fmt.Errorf("window id %q: %w", arg, err)
	}
	xgb.Logger = log.New(io.Discard, "", 0) // Xvfb has no ~/.Xauthority; xgb says so on every connect
	x, err := xgb.NewConn()
	if err != nil {
		return err
	}
	defer x.Close()
	atom := func(name string) (xproto.Atom, error) {
		r, err := xproto.InternAtom(x, false, uint16(len(name)), name).Reply()
		if err != nil {
			return 0, err
		}
		return r.Atom, nil
	}
	protocols, err := atom("WM_PROTOCOLS")
	if err != nil {
		return err
	}
	del, err := atom("WM_DELETE_WINDOW")
	if err != nil {
		return err
	}
	ev := xproto.ClientMessageEvent{Format: 32, Window: xproto.Window(id), Type: protocols,
		Data: xproto.ClientMessageDataUnionData32New([]uint32{uint32(del), uint32(xproto.TimeCurrentTime), 0, 0, 0})}
	return xproto.SendEventChecked(x, false, xproto.Window(id), xproto.EventMaskNoEvent, string(ev.Bytes())).Check()
}
