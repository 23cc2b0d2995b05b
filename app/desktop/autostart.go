package desktop

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// autostartFile is the XDG autostart entry ($XDG_CONFIG_HOME/autostart) that
// starts Hall Monitor when the user logs in (freedesktop Desktop Application
// Autostart Specification).
func autostartFile() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("no config directory for the autostart entry: %w", err)
	}
	return filepath.Join(dir, "autostart", "hallmonitor.desktop"), nil
}

// autostartEntry is the desktop entry that runs exe.
func autostartEntry(exe string) string {
	return "[Desktop Entry]\nType=Application\nName=Hall Monitor\n" +
		"Comment=Watch and steer your local WCP Hall (started at login; Settings turns this off)\n" +
		"Exec=" + quoteExec(exe) + "\nIcon=hallmonitor\nTerminal=false\nX-GNOME-Autostart-enabled=true\n"
}

// quoteExec quotes a program path for an Exec key: inside double quotes,
// the characters " ` $ and \ are escaped with a backslash.
func quoteExec(p string) string {
	if !strings.ContainsAny(p, " \t\n\"'\\`$<>~|&;*?#()") {
		return p
	}
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "`", "\\`", `$`, `\$`)
	return `"` + r.Replace(p) + `"`
}

// Autostart reports whether Hall Monitor starts when the user logs in.
func (b *Bridge) Autostart() (bool, error) {
	p, err := autostartFile()
	if err != nil {
		return false, err
	}
	_, err = os.Stat(p)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}

// SetAutostart writes (on) or removes (off) the autostart entry for this
// binary.
func (b *Bridge) SetAutostart(on bool) error {
	p, err := autostartFile()
	if err != nil {
		return err
	}
	if !on {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("remove the autostart entry %s: %w", p, err)
		}
		return nil
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("cannot tell where this program is (%w): start it at login from your desktop's settings instead", err)
	}
	if real, err := filepath.EvalSymlinks(exe); err == nil {
		exe = real
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("create %s: %w", filepath.Dir(p), err)
	}
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, []byte(autostartEntry(exe)), 0o644); err != nil {
		return fmt.Errorf("write the autostart entry: %w", err)
	}
	return os.Rename(tmp, p)
}
