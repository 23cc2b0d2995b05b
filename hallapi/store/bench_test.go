package store

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkRecordDecisions1000 is the store's share of batched ingest: one
// transaction of 1000 decisions (rows, indexes and events), no HTTP or JSON
// parsing. Its rate bounds what POST /api/decisions/ingest can reach.
func BenchmarkRecordDecisions1000(b *testing.B) {
	st, err := Open(filepath.Join(b.TempDir(), "hall.db"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	full := []byte(`{"decision_id":"x","capability_id":"cap.doc.summarize","tenant_id":"t1","env":"dev","denied":false,` +
		`"candidate_workers_ranked":[],"required_controls_effective":[],"recommended_profiles_effective":[],"telemetry_envelopes":[]}`)
	ctx := context.Background()
	base := time.Now()
	b.ResetTimer()
	for i := range b.N {
		ws := make([]DecisionWrite, 1000)
		for j := range ws {
			ws[j] = DecisionWrite{Time: base.Add(time.Duration(i*1000+j) * time.Microsecond), Decision: full,
				Summary: DecisionSummary{DecisionID: fmt.Sprintf("b%d-%d", i, j), Outcome: OutcomeAllowed, CapabilityID: "cap.doc.summarize",
					TenantID: fmt.Sprintf("t%d", j%4), Env: "dev", CorrelationID: fmt.Sprintf("corr-%d", j),
					SelectedWorkerSpeciesID: "wrk.doc.summarizer", Source: SourceIngest}}
		}
		if _, err := st.RecordDecisions(ctx, ws); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "decisions/s")
}
