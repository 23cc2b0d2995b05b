package oauth_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/zalando/go-keyring"
	"golang.org/x/oauth2"

	"hallmonitor/hallapi/account/oauth"
)

func TestTokenStoreKeyring(t *testing.T) {
	keyring.MockInit()
	dir := t.TempDir()
	s := oauth.NewTokenStore(dir, nil)
	// A stale fallback file from a time without keyring is removed once the keyring works.
	if err := os.WriteFile(s.FilePath(), []byte(`{"access_token":"old"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	tok := &oauth2.Token{AccessToken: "rat_k", RefreshToken: "rrt_k", Expiry: time.Now().Add(time.Hour).Round(time.Second)}
	where, err := s.Save(tok)
	if err != nil || where != oauth.WhereKeyring {
		t.Fatalf("save: %q %v", where, err)
	}
	if _, err := os.Stat(s.FilePath()); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("token file left beside the keyring entry")
	}
	got, err := s.Load()
	if err != nil || got.AccessToken != "rat_k" || got.RefreshToken != "rrt_k" || !got.Expiry.Equal(tok.Expiry) {
		t.Fatalf("load: %+v %v", got, err)
	}
	if err := s.Delete(); err != nil {
		t.Fatal(err)
	}
	if _, err := keyring.Get("hallmonitor", "registry-session"); !errors.Is(err, keyring.ErrNotFound) {
		t.Fatalf("keyring entry survived Delete: %v", err)
	}
	if _, err := s.Load(); !errors.Is(err, oauth.ErrNoToken) {
		t.Fatalf("load after delete: %v", err)
	}
	if err := s.Delete(); err != nil {
		t.Fatalf("deleting nothing must succeed: %v", err)
	}
}

func TestTokenStoreFileFallback(t *testing.T) {
	keyring.MockInitWithError(errors.New("org.freedesktop.secrets was not provided by any .service files"))
	dir := filepath.Join(t.TempDir(), "cfg")
	s := oauth.NewTokenStore(dir, nil)
	where, err := s.Save(&oauth2.Token{AccessToken: "rat_f", RefreshToken: "rrt_f"})
	if err != nil || where != oauth.WhereFile {
		t.Fatalf("save: %q %v", where, err)
	}
	fi, err := os.Stat(s.FilePath())
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("token file mode: %v %v", fi.Mode(), err)
	}
	if di, _ := os.Stat(dir); di.Mode().Perm() != 0o700 {
		t.Fatalf("created config dir mode %v, want 0700", di.Mode().Perm())
	}
	got, err := s.Load()
	if err != nil || got.AccessToken != "rat_f" {
		t.Fatalf("load: %+v %v", got, err)
	}
	// A file others can read is refused, with the fix in the message.
	if err := os.Chmod(s.FilePath(), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Load(); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("0644 token file accepted: %v", err)
	}
	if err := os.WriteFile(s.FilePath(), []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Load(); err == nil || !strings.Contains(err.Error(), "sign in again") {
		t.Fatalf("garbage token file: %v", err)
	}
	if err := s.Delete(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(s.FilePath()); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("token file survived Delete")
	}
	if _, err := s.Save(&oauth2.Token{}); err == nil {
		t.Fatal("empty token stored")
	}
}
