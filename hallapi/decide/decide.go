// Package decide is the Hall's decision service, the domain layer the HTTP
// API, the desktop window and `hallmonitor mcp` all call: it routes a
// request with core.Decide over the rules in force and the registry view,
// records the decision with its signed receipt (and its approval when a
// person must decide), resolves approvals, runs allowed decisions through
// the dispatcher, and keeps ingested decisions as evidence only.
package decide

import (
	"context"
	"crypto/ed25519"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"

	"hallmonitor/core"
	"hallmonitor/hallapi/config"
	"hallmonitor/hallapi/store"
	"hallmonitor/hallapi/workers"
)

// Options configure a Service.
type Options struct {
	Store  *store.Store // required
	Logger *slog.Logger
	// SigningKey signs receipts; nil: read or create <KeyDir>/hall-key.
	SigningKey ed25519.PrivateKey
	KeyDir     string
	// HallConfig is the WCP Hall configuration; nil is core.DefaultHallConfig.
	HallConfig *core.HallConfig
	// RulesPath is the rules file (reloaded when it changes on disk).
	RulesPath string
	// PolicyGate decides rules with escalation.policy_gate; nil is
	// HallPolicyGate.
	PolicyGate core.PolicyGate
	// Attestation supplies the live package hashes Route checks (the
	// running *workers.Service); see SetAttestationSource.
	Attestation core.AttestationSource
	// Dispatcher runs allowed decisions (the *workers.Executor).
	Dispatcher Dispatcher
	Now        func() time.Time
}

// Service decides, records and runs. It is safe for concurrent use.
type Service struct {
	opts   Options
	log    *slog.Logger
	st     *store.Store
	key    ed25519.PrivateKey
	rules  *rulesHolder
	attest atomic.Pointer[core.AttestationSource]
	disp   atomic.Pointer[Dispatcher]
	// registry is the registry view every decision shares
	// (workers.Registry, rebuilt on change, not per decision).
	registry *workers.Registry
}

// New builds a Service and loads the rules file.
func New(opts Options) (*Service, error) {
	if opts.Store == nil {
		return nil, errors.New("decide: Options.Store is required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.PolicyGate == nil {
		opts.PolicyGate = HallPolicyGate
	}
	s := &Service{opts: opts, log: opts.Logger, st: opts.Store, key: opts.SigningKey}
	if s.key == nil {
		if opts.KeyDir == "" {
			return nil, errors.New("decide: Options.KeyDir (or SigningKey) is required")
		}
		var err error
		if s.key, err = config.LoadOrCreateSigningKey(opts.KeyDir); err != nil {
			return nil, err
		}
	}
	s.registry = workers.NewRegistry(opts.Store, s.registryWorkers, 0)
	opts.Store.OnCommit(s.registry.Changed)
	if opts.Attestation != nil {
		s.SetAttestationSource(opts.Attestation)
	}
	if opts.Dispatcher != nil {
		s.SetDispatcher(opts.Dispatcher)
	}
	s.rules = newRulesHolder(opts.RulesPath)
	s.rules.load()
	s.st.SetApprovalReceipter(s.approvalReceipt)
	return s, nil
}

// Store is the store the Service records into.
func (s *Service) Store() *store.Store { return s.st }

// SetAttestationSource installs the source of the registered and current
// package hashes Route checks (the running *workers.Service). Without one,
// routes that need attestation (any enrolled worker runs from a package) are
// denied DENY_ATTESTATION_UNCONFIGURED.
func (s *Service) SetAttestationSource(a core.AttestationSource) {
	s.attest.Store(&a)
	s.registry.SetSource(a)
}

// AttestationSource returns the installed attestation source (nil if none).
func (s *Service) AttestationSource() core.AttestationSource {
	if p := s.attest.Load(); p != nil {
		return *p
	}
	return nil
}

// SetDispatcher installs what runs allowed decisions (the *workers.Executor).
func (s *Service) SetDispatcher(d Dispatcher) { s.disp.Store(&d) }

func (s *Service) dispatcher() Dispatcher {
	if p := s.disp.Load(); p != nil {
		return *p
	}
	return nil
}

// Maintain expires approvals and reloads a changed rules file (every 5 s)
// until ctx ends.
func (s *Service) Maintain(ctx context.Context) {
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := s.st.ExpireApprovals(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("expire approvals", "err", err)
			}
			s.ReloadRulesIfChanged(ctx)
		}
	}
}
