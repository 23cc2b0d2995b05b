package hall

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// The log never grows past its cap: it moves to .1, .2, .3 and the oldest
// is dropped; no line is split between files.
func TestLogFileRotates(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hallmonitor.log")
	r, err := openRotating(path, 1000)
	if err != nil {
		t.Fatal(err)
	}
	line := append(bytes.Repeat([]byte("x"), 99), '\n')
	for range 55 {
		if _, err := r.Write(line); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"", ".1", ".2", ".3"} {
		fi, err := os.Stat(path + name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if fi.Size() > 1000 || fi.Size()%100 != 0 || fi.Mode().Perm() != 0o600 {
			t.Errorf("log%s: %d bytes, mode %v", name, fi.Size(), fi.Mode().Perm())
		}
	}
	if _, err := os.Stat(path + ".4"); !os.IsNotExist(err) {
		t.Fatalf("more than %d old logs kept: %v", logKeep, err)
	}
	if cur, _ := os.ReadFile(path); len(cur) != 500 { // 55 lines = 5 full files of 10 + 5
		t.Fatalf("current log holds %d bytes", len(cur))
	}
}
