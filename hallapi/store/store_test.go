package store

import (
	"context"
	"path/filepath"
	"testing"
)

func openTest(t *testing.T) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "hall.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestUpsertWorker(t *testing.T) {
	s := openTest(t)
	w, created, err := s.UpsertWorker(context.Background(), Worker{WorkerID: "org.a.b", WorkerSpeciesID: "wrk.a", Capabilities: []string{"cap.x"}})
	if err != nil || !created || w.Status != WorkerUnverified {
		t.Fatalf("%v %v %+v", err, created, w)
	}
}
