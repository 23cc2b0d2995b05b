package desktop

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// windowState is the window's size and place, saved on close and restored on the next start.
type windowState struct {
	X         int  `json:"x"`
	Y         int  `json:"y"`
	Width     int  `json:"width"`
	Height    int  `json:"height"`
	Maximised bool `json:"maximised"`
}

const (
	defaultWidth, defaultHeight = 1280, 820
	minWidth, minHeight         = 900, 600
)

// loadWindowState reads the saved state; a missing file gives the defaults, a damaged one an error
// (and the defaults) so the caller can log it.
func loadWindowState(path string) (windowState, error) {
	def := windowState{Width: defaultWidth, Height: defaultHeight}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return def, nil
	}
	if err != nil {
		return def, err
	}
	var s windowState
	if err := json.Unmarshal(b, &s); err != nil {
		return def, fmt.Errorf("window state %s is damaged (%v); using the default size", path, err)
	}
	if s.Width < minWidth || s.Height < minHeight || s.Width > 10000 || s.Height > 10000 {
		s.Width, s.Height = defaultWidth, defaultHeight
	}
	return s, nil
}

// save writes the state atomically (temp file + rename) so a crash never leaves half a file.
func (s windowState) save(path string) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
