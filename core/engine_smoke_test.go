package core

import "testing"

func TestArtifactHashReferenceExample(t *testing.T) {
	in, errs := ParseRouteInput([]byte(`{"capability_id":"cap.hello.greet","env":"prod","data_label":"PUBLIC","tenant_risk":"low","qos_class":"P2","tenant_id":"tenant-a","correlation_id":"corr-0001"}`))
	if errs != nil {
		t.Fatal(errs)
	}
	const want = "e25c292a6817b8e47b1b7801f30604f6c56cd262b384a86ecde0fda62da0cebc"
	if got := ArtifactHash(&in); got != want {
		t.Fatalf("artifact hash %s, want %s", got, want)
	}
}
