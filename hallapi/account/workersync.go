package account

import (
	"context"
	"strings"
	"time"

	"hallmonitor/hallapi/registry"
	"hallmonitor/hallapi/store"
)

// WorkerStore is where registry answers about enrolled workers are kept
// (*store.Store): routing leaves banned workers out, the Workers screen shows
// the verification badge and ban state, and a new ban raises REGISTRY_BANNED.
type WorkerStore interface {
	ListWorkers(ctx context.Context) ([]store.Worker, error)
	GetWorker(ctx context.Context, id string) (store.Worker, error)
	SetWorkerRegistry(ctx context.Context, id string, r store.RegistryState) (store.Worker, error)
}

// SyncWorkers asks the registry about every enrolled worker (verify, and the
// ban list against the worker's package hash) and stores each answer. When
// the registry cannot be reached, the last known answer is kept with the
// error beside it; a worker the registry never answered for keeps its state.
// It returns how many workers were updated.
func (s *Service) SyncWorkers(ctx context.Context) (int, error) {
	if s.o.Workers == nil {
		return 0, nil
	}
	ws, err := s.o.Workers.ListWorkers(ctx)
	if err != nil || len(ws) == 0 {
		return 0, err
	}
	bans, banErr := s.o.Registry.BanList(ctx, 0)
	n := 0
	for _, w := range ws {
		res, err := s.o.Registry.Verify(ctx, w.WorkerID)
		if ctx.Err() != nil {
			return n, ctx.Err()
		}
		if _, err := s.o.Workers.SetWorkerRegistry(ctx, w.WorkerID, registryState(w, res, err, bans, banErr)); err != nil {
			s.o.Logger.Warn("store registry answer", "worker_id", w.WorkerID, "err", err)
			continue
		}
		n++
	}
	return n, nil
}

// RecordVerify stores one verify answer (from the /wcp/registry/verify
// proxy) on the enrolled worker it names, with the (cached) ban list;
// unknown workers are ignored.
func (s *Service) RecordVerify(ctx context.Context, workerID string, res registry.VerifyResult, verr error) {
	if s.o.Workers == nil {
		return
	}
	w, err := s.o.Workers.GetWorker(ctx, workerID)
	if err != nil {
		return
	}
	bans, banErr := s.o.Registry.BanList(ctx, 0)
	if _, err := s.o.Workers.SetWorkerRegistry(ctx, workerID, registryState(w, res, verr, bans, banErr)); err != nil {
		s.o.Logger.Warn("store registry answer", "worker_id", workerID, "err", err)
	}
}

// banListReason starts the ban reason of a worker banned through the ban list.
const banListReason = "package hash on the registry ban list: "

// registryState merges a verify answer and the ban list into what is
// stored. Without a ban list (not even a stale one), a ban found through it
// earlier stays.
func registryState(w store.Worker, res registry.VerifyResult, verr error, bans registry.BanListResult, banErr error) store.RegistryState {
	haveBans := banErr == nil || bans.Stale
	st := w.Registry
	if verr == nil || res.Stale {
		st = store.RegistryState{Status: res.Status, Banned: res.Banned, BanReason: res.BanReason, CurrentHash: res.CurrentHash,
			CheckedAt: res.CheckedAt.UTC().Format(time.RFC3339)}
	}
	st.Error = ""
	if verr != nil {
		st.Error = "registry verify: " + verr.Error()
	}
	if haveBans && w.Attestation.PackageHash != "" {
		if e, ok := bans.Banned(w.Attestation.PackageHash); ok {
			st.Banned, st.BanReason = true, banListReason+e.Reason
		}
	} else if !haveBans && !st.Banned && w.Registry.Banned && strings.HasPrefix(w.Registry.BanReason, banListReason) {
		st.Banned, st.BanReason = true, w.Registry.BanReason
	}
	if banErr != nil && st.Error == "" {
		st.Error = "registry ban list: " + banErr.Error()
	}
	return st
}
