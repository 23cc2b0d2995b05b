// Command testregistry runs the test registry (internal/testservers/registrytest)
// as a process for browser end-to-end tests and manual runs. It prints its base
// URL as the first line of stdout, then serves until SIGINT/SIGTERM:
//
//	go run ./internal/testservers/registrytest/cmd/testregistry -addr 127.0.0.1:0
//
// Point the Hall at it with HALLMONITOR_REGISTRY_URL=<printed URL>. Flip its
// switches at run time with POST <URL>/_test/{standing,fail,delay,reset,...}
// (registrytest.ControlPrefix). It knows the workers x.octocat.summarize.v1
// (active) and x.octocat.banned.v1 (banned) and bans one hash.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"hallmonitor/hallapi/registry"
	"hallmonitor/internal/testservers/registrytest"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address (port 0 = any free port)")
	clientID := flag.String("client-id", "", "accept only this OAuth client_id (empty = any)")
	login := flag.String("login", "octocat", "fake GitHub login of the signed-in user")
	standing := flag.String("standing", registry.StandingOK, "account standing: ok, grace, degraded or suspended")
	grace := flag.Int64("grace-seconds", 3600, "grace countdown in seconds when -standing=grace")
	delay := flag.Duration("delay", 0, "delay every answer by this much (e.g. 2s)")
	verbose := flag.Bool("v", false, "log requests to stderr")
	flag.Parse()

	switch *standing {
	case registry.StandingOK, registry.StandingGrace, registry.StandingDegraded, registry.StandingSuspended:
	default:
		fmt.Fprintf(os.Stderr, "testregistry: -standing %q: use ok, grace, degraded or suspended\n", *standing)
		os.Exit(2)
	}
	logger := slog.New(slog.DiscardHandler)
	if *verbose {
		logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	u := registrytest.DefaultUser()
	u.Login, u.Standing, u.GraceSeconds = *login, *standing, *grace
	s, err := registrytest.Start(registrytest.Options{Addr: *addr, ClientID: *clientID, User: &u, Logger: logger})
	if err != nil {
		fmt.Fprintln(os.Stderr, "testregistry:", err)
		os.Exit(1)
	}
	s.SetDelay(*delay)
	s.PutWorker(registry.VerifyResponse{WorkerID: "x.octocat.summarize.v1", Status: "active",
		CurrentHash: "sha256:" + fmt.Sprintf("%064x", 1), AttestedAt: "2026-01-01T00:00:00Z"})
	s.PutWorker(registry.VerifyResponse{WorkerID: "x.octocat.banned.v1", Status: "banned", Banned: true, BanReason: "malware"})
	s.Ban(registry.BanEntry{SHA256: fmt.Sprintf("%064x", 2), Reason: "malware", ReportedAt: "2026-01-02T00:00:00Z", Source: "registrytest", ReviewStatus: "confirmed"})
	fmt.Println(s.URL)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	done := make(chan struct{})
	go func() { _ = s.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
	}
}
