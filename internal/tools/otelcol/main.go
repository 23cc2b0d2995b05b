// Command otelcol is the OpenTelemetry Collector's official OTLP receiver
// (go.opentelemetry.io/collector/receiver/otlpreceiver) run alone, with a
// sink that writes every span and log record it receives as one JSON line
// (OTLP/JSON, as the collector's file exporter writes it). The Hall's tests
// build it (it is its own Go module, so the collector's dependencies stay
// out of the app's go.mod) and export to it over OTLP HTTP and gRPC.
//
//	otelcol -http 127.0.0.1:4318 -grpc 127.0.0.1:4317 -out received.jsonl
//
// It prints "ready" on stdout once both listeners accept, and stops on
// SIGINT/SIGTERM.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/receiver/otlpreceiver"
	"go.opentelemetry.io/collector/receiver/receivertest"
)

// sink appends each batch it receives to one file, one OTLP/JSON line per batch.
type sink struct {
	mu sync.Mutex
	f  *os.File
}

func (s *sink) write(b []byte, err error) error {
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	// One write per batch, no fsync: readers see it at once, and the
	// receiver does not compete with the Hall's own durable writes.
	_, err = s.f.Write(append(b, '\n'))
	return err
}

func main() {
	httpAddr := flag.String("http", "127.0.0.1:4318", "OTLP/HTTP listen address")
	grpcAddr := flag.String("grpc", "127.0.0.1:4317", "OTLP/gRPC listen address")
	out := flag.String("out", "received.jsonl", "file the received spans and logs are appended to (OTLP/JSON, one batch a line)")
	flag.Parse()
	if err := run(*httpAddr, *grpcAddr, *out); err != nil {
		fmt.Fprintln(os.Stderr, "otelcol:", err)
		os.Exit(1)
	}
}

func run(httpAddr, grpcAddr, out string) error {
	f, err := os.OpenFile(out, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	s := &sink{f: f}
	var tm ptrace.JSONMarshaler
	var lm plog.JSONMarshaler
	traces, err := consumer.NewTraces(func(_ context.Context, td ptrace.Traces) error { return s.write(tm.MarshalTraces(td)) })
	if err != nil {
		return err
	}
	logs, err := consumer.NewLogs(func(_ context.Context, ld plog.Logs) error { return s.write(lm.MarshalLogs(ld)) })
	if err != nil {
		return err
	}

	factory := otlpreceiver.NewFactory()
	cfg := factory.CreateDefaultConfig().(*otlpreceiver.Config)
	cfg.Protocols.GRPC.GetOrInsertDefault().NetAddr.Endpoint = grpcAddr
	cfg.Protocols.HTTP.GetOrInsertDefault().ServerConfig.NetAddr.Endpoint = httpAddr
	set := receivertest.NewNopSettings(factory.Type())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// The OTLP receiver shares one server between signals: the traces and
	// logs receivers it returns for the same config are one component.
	tr, err := factory.CreateTraces(ctx, set, cfg, traces)
	if err != nil {
		return err
	}
	lr, err := factory.CreateLogs(ctx, set, cfg, logs)
	if err != nil {
		return err
	}
	host := componenttest.NewNopHost()
	for _, c := range []component.Component{tr, lr} {
		if err := c.Start(ctx, host); err != nil {
			return fmt.Errorf("start the OTLP receiver: %w", err)
		}
	}
	fmt.Println("ready")
	<-ctx.Done()
	for _, c := range []component.Component{lr, tr} {
		_ = c.Shutdown(context.Background())
	}
	return nil
}
