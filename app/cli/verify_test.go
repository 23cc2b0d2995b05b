package cli

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"hallmonitor/app/hall"
)

// verify --receipts on the database also catches what a chain alone cannot:
// a decision edited under its receipt, and deleted newest receipts.
func TestVerifyReceiptsCatchesDatabaseEdits(t *testing.T) {
	h := openHallWithDecisions(t, t.TempDir(), 3, "t1")
	dbPath := h.Store.Path()
	h.Close()
	if code, out, errs := run(t, runVerify, "--receipts"); code != 0 || !strings.Contains(out, "3 receipts") {
		t.Fatalf("intact chain: %d %s %s", code, out, errs)
	}
	db, err := sql.Open("sqlite3", dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	exec := func(q string) {
		t.Helper()
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	exec(`UPDATE decisions SET decision_json = replace(decision_json, '"correlation_id":"c1"', '"correlation_id":"cX"') WHERE correlation_id = 'c1'`)
	if code, out, _ := run(t, runVerify, "--receipts"); code != 1 || !strings.Contains(out, "edited after it was signed") {
		t.Fatalf("edited decision: %d %s", code, out)
	}
	exec(`UPDATE decisions SET decision_json = replace(decision_json, '"correlation_id":"cX"', '"correlation_id":"c1"') WHERE correlation_id = 'c1'`)
	exec(`DELETE FROM receipts WHERE decision_id = (SELECT decision_id FROM decisions WHERE correlation_id = 'c2')`)
	if code, out, _ := run(t, runVerify, "--receipts"); code != 1 || !strings.Contains(out, "chain truncated") || !strings.Contains(out, "recorded 3 receipts") {
		t.Fatalf("deleted newest receipt: %d %s", code, out)
	}
}

// openHallWithDecisions opens a Hall (app/hall) with its config and data
// folders in tmp, the ones the CLI then finds too, and routes n requests for
// each tenant (denied: there are no rules, each still gets its receipt).
func openHallWithDecisions(t *testing.T, tmp string, n int, tenants ...string) *hall.Hall {
	t.Helper()
	t.Setenv("HALLMONITOR_CONFIG_DIR", filepath.Join(tmp, "config"))
	t.Setenv("HALLMONITOR_DATA_DIR", filepath.Join(tmp, "data"))
	h, err := hall.Open(hall.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		for _, tenant := range tenants {
			in := fmt.Sprintf(`{"capability_id":"cap.doc.summarize","env":"dev","data_label":"PUBLIC","tenant_risk":"low","qos_class":"P2","tenant_id":%q,"correlation_id":"c%d"}`, tenant, i)
			if _, err := h.Decide.Route(context.Background(), []byte(in), false, "route"); err != nil {
				t.Fatal(err)
			}
		}
	}
	return h
}
