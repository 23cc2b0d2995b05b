package desktop

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestQuoteExec(t *testing.T) {
	for in, want := range map[string]string{
		"/usr/bin/hallmonitor":            "/usr/bin/hallmonitor",
		"/home/me/My Apps/hallmonitor":    `"/home/me/My Apps/hallmonitor"`,
		`/opt/a$b"c\d` + "`e/hallmonitor": `"/opt/a\$b\"c\\d\` + "`" + `e/hallmonitor"`,
	} {
		if got := quoteExec(in); got != want {
			t.Errorf("quoteExec(%q) = %s, want %s", in, got, want)
		}
	}
}

// SetAutostart writes an XDG autostart entry for this binary and removes it.
func TestAutostartOnOff(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", dir)
	b := &Bridge{}
	if on, err := b.Autostart(); err != nil || on {
		t.Fatalf("fresh: %v %v", on, err)
	}
	if err := b.SetAutostart(true); err != nil {
		t.Fatal(err)
	}
	entry, err := os.ReadFile(filepath.Join(dir, "autostart", "hallmonitor.desktop"))
	if err != nil {
		t.Fatal(err)
	}
	exe, _ := os.Executable()
	exe, _ = filepath.EvalSymlinks(exe)
	if !strings.Contains(string(entry), "Exec="+quoteExec(exe)+"\n") || !strings.HasPrefix(string(entry), "[Desktop Entry]\nType=Application\n") {
		t.Fatalf("entry:\n%s", entry)
	}
	if on, err := b.Autostart(); err != nil || !on {
		t.Fatalf("after on: %v %v", on, err)
	}
	for range 2 { // turning it off twice is fine
		if err := b.SetAutostart(false); err != nil {
			t.Fatal(err)
		}
	}
	if on, _ := b.Autostart(); on {
		t.Fatal("still on after off")
	}
}
