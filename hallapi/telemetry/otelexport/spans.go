package otelexport

import (
	"context"
	"time"

	"hallmonitor/hallapi/events"
	"hallmonitor/hallapi/store"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	otellog "go.opentelemetry.io/otel/log"
	"go.opentelemetry.io/otel/trace"
)

// Attribute keys of the exported spans and logs (WCP fields).
const (
	AttrDecisionID    = "wcp.decision_id"
	AttrCapability    = "wcp.capability_id"
	AttrWorker        = "wcp.worker_species_id"
	AttrOutcome       = "wcp.outcome"
	AttrDenyCode      = "wcp.deny_code"
	AttrRule          = "wcp.matched_rule_id"
	AttrAgent         = "wcp.agent"
	AttrArtifactHash  = "wcp.artifact_hash"
	AttrReceiptID     = "wcp.receipt_id"
	AttrTenant        = "wcp.tenant_id"
	AttrCorrelationID = "wcp.correlation_id"
	AttrSource        = "wcp.source"
	AttrInput         = "wcp.input"
	AttrApprovalID    = "wcp.approval_id"
	AttrDispatchID    = "wcp.dispatch_id"
)

func (p *pipeline) handle(ctx context.Context, ev events.Event) {
	switch ev.Type {
	case events.DecisionRecorded:
		if d, ok := events.Decode[store.DecisionSummary](ev); ok {
			p.routeSpan(ctx, ev, d)
		}
	case events.ApprovalResolved:
		if a, ok := events.Decode[store.Approval](ev); ok {
			p.approvalSpan(ctx, a)
		}
	case events.DispatchFinished:
		if d, ok := events.Decode[store.Dispatch](ev); ok {
			p.dispatchSpan(ctx, d)
		}
	case events.ApprovalCreated:
		if a, ok := events.Decode[store.Approval](ev); ok {
			p.log(ctx, ev, a.DecisionID, otellog.SeverityInfo, "approval requested: "+a.CapabilityID,
				attribute.String(AttrApprovalID, a.ApprovalID), attribute.String(AttrCapability, a.CapabilityID),
				attribute.String(AttrRule, a.MatchedRuleID), attribute.String(AttrTenant, a.TenantID),
				attribute.String("wcp.approval.reason", a.Reason), attribute.String("wcp.approval.expires_at", a.ExpiresAt))
		}
	case events.AlertRaised, events.AlertAcknowledged:
		if a, ok := events.Decode[store.Alert](ev); ok {
			sev := map[string]otellog.Severity{"info": otellog.SeverityInfo, "warning": otellog.SeverityWarn,
				"critical": otellog.SeverityError}[a.Severity]
			if sev == 0 || ev.Type == events.AlertAcknowledged {
				sev = otellog.SeverityInfo
			}
			p.log(ctx, ev, a.DecisionID, sev, a.Title, attribute.String("hall.alert.id", a.AlertID),
				attribute.String("hall.alert.type", a.Type), attribute.String("hall.alert.severity", a.Severity),
				attribute.String("hall.alert.body", a.Body), attribute.String("hall.worker_id", a.WorkerID),
				attribute.Int("hall.alert.count", a.Count), attribute.Bool("hall.alert.acknowledged", a.Acknowledged))
		}
	}
}

func parseTime(s string, def time.Time) time.Time {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999-07:00"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t
		}
	}
	return def
}

// routeSpan is the root span of a decision's trace, with the WCP
// attributes of the decision and of its receipt.
func (p *pipeline) routeSpan(ctx context.Context, ev events.Event, d store.DecisionSummary) {
	attrs := []attribute.KeyValue{
		attribute.String(AttrDecisionID, d.DecisionID), attribute.String(AttrCapability, d.CapabilityID),
		attribute.String(AttrWorker, d.SelectedWorkerSpeciesID), attribute.String(AttrOutcome, d.Outcome),
		attribute.String(AttrDenyCode, d.DenyCode), attribute.String(AttrRule, d.MatchedRuleID),
		attribute.String(AttrTenant, d.TenantID), attribute.String(AttrCorrelationID, d.CorrelationID),
		attribute.String(AttrSource, d.Source), attribute.String("wcp.env", d.Env),
		attribute.Bool("wcp.dry_run", d.DryRun), attribute.Bool("wcp.supervisor_required", d.SupervisorRequired),
	}
	if d.BlastScore != nil {
		attrs = append(attrs, attribute.Int("wcp.blast_score", *d.BlastScore))
	}
	artifact, receiptID := "", ""
	if f, err := p.e.opts.Store.DecisionSpanFields(ctx, d.DecisionID, p.set.IncludeInputs); err == nil {
		artifact, receiptID = f.ArtifactHash, f.ReceiptID
		if f.Input != "" {
			attrs = append(attrs, attribute.String(AttrInput, f.Input))
		}
	}
	attrs = append(attrs, attribute.String(AttrAgent, d.Agent), attribute.String(AttrArtifactHash, artifact),
		attribute.String(AttrReceiptID, receiptID))
	start := parseTime(d.Timestamp, ev.Time)
	end := ev.Time
	if end.Before(start) {
		end = start
	}
	sctx := withIDs(ctx, d.DecisionID, SpanID("route", d.DecisionID), false)
	_, span := p.tracer.Start(sctx, "wcp.route", trace.WithTimestamp(start), trace.WithSpanKind(trace.SpanKindServer),
		trace.WithAttributes(attrs...))
	if d.Outcome == store.OutcomeDenied {
		span.SetStatus(codes.Error, d.DenyCode)
	}
	span.End(trace.WithTimestamp(end))
}

// approvalSpan covers an approval from its request to its resolution, in
// the decision's trace.
func (p *pipeline) approvalSpan(ctx context.Context, a store.Approval) {
	start := parseTime(a.CreatedAt, time.Now())
	end := parseTime(a.ResolvedAt, start)
	sctx := withIDs(ctx, a.DecisionID, SpanID("approval", a.ApprovalID), true)
	_, span := p.tracer.Start(sctx, "wcp.approval", trace.WithTimestamp(start), trace.WithAttributes(
		attribute.String(AttrDecisionID, a.DecisionID), attribute.String(AttrApprovalID, a.ApprovalID),
		attribute.String(AttrCapability, a.CapabilityID), attribute.String(AttrRule, a.MatchedRuleID),
		attribute.String(AttrTenant, a.TenantID), attribute.String("wcp.approval.status", a.Status),
		attribute.String("wcp.approval.resolved_by", a.ResolvedBy)))
	if a.Status != "approved" {
		span.SetStatus(codes.Error, a.Status)
	}
	span.End(trace.WithTimestamp(end))
}

// dispatchSpan covers one run of an allowed decision, in its trace.
func (p *pipeline) dispatchSpan(ctx context.Context, d store.Dispatch) {
	start := parseTime(d.StartedAt, time.Now())
	end := parseTime(d.FinishedAt, start)
	attrs := []attribute.KeyValue{attribute.String(AttrDecisionID, d.DecisionID), attribute.String(AttrDispatchID, d.DispatchID),
		attribute.String(AttrCapability, d.CapabilityID), attribute.String(AttrWorker, d.WorkerSpeciesID),
		attribute.String("wcp.worker_id", d.WorkerID), attribute.String(AttrTenant, d.TenantID),
		attribute.String("wcp.dispatch.outcome", d.Outcome), attribute.String("wcp.result_hash", d.ResultHash)}
	sctx := withIDs(ctx, d.DecisionID, SpanID("dispatch", d.DispatchID), true)
	_, span := p.tracer.Start(sctx, "wcp.dispatch", trace.WithTimestamp(start), trace.WithSpanKind(trace.SpanKindInternal),
		trace.WithAttributes(attrs...))
	if d.Outcome != store.DispatchSucceeded {
		span.SetStatus(codes.Error, d.Error)
	}
	span.End(trace.WithTimestamp(end))
}

// log emits one log record, in the decision's trace when it names one.
func (p *pipeline) log(ctx context.Context, ev events.Event, decisionID string, sev otellog.Severity, body string, attrs ...attribute.KeyValue) {
	if decisionID != "" {
		ctx = trace.ContextWithSpanContext(ctx, trace.NewSpanContext(trace.SpanContextConfig{
			TraceID: TraceID(decisionID), SpanID: SpanID("route", decisionID), TraceFlags: trace.FlagsSampled}))
	}
	var r otellog.Record
	r.SetTimestamp(ev.Time)
	r.SetObservedTimestamp(time.Now())
	r.SetSeverity(sev)
	r.SetSeverityText(sev.String())
	r.SetEventName(ev.Type)
	r.SetBody(attribute.StringValue(body))
	r.AddAttributes(attribute.Int64("hall.event_id", ev.ID), attribute.String(AttrDecisionID, decisionID))
	r.AddAttributes(attrs...)
	p.lp.Logger("hallmonitor/hallapi/telemetry/otelexport").Emit(ctx, r)
}
