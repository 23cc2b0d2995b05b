package cli

import (
	"bytes"
	"strings"
	"testing"
)

// TestManPageListsEveryCommandAndItsRealFlags renders `help --man` and checks that every command has its
// section and that the flags, value names and defaults come from the commands' own flag sets.
func TestManPageListsEveryCommandAndItsRealFlags(t *testing.T) {
	var out, errb bytes.Buffer
	if code := Main([]string{"help", "--man"}, Resources{}, &out, &errb); code != 0 {
		t.Fatalf("help --man exited %d: %s", code, errb.String())
	}
	man := out.String()
	if !strings.HasPrefix(man, ".TH HALLMONITOR 1 ") {
		t.Fatalf("the page does not start with .TH: %.80q", man)
	}
	for name := range commands() {
		if !strings.Contains(man, `.SS "hallmonitor `+name+`"`) {
			t.Errorf("no section for command %q", name)
		}
	}
	for _, want := range []string{
		`.SS "hallmonitor attest keygen"`,
		`.SS "hallmonitor attest build"`,
		`.SS "hallmonitor attest hash"`,
		`\fB\-\-port\fR \fIint\fR` + "\nTCP port on 127.0.0.1 (env HALLMONITOR_PORT;",
		`\fB\-\-cases\fR \fIstring\fR`,
		`\fB\-\-bench\fR \fIint\fR`,
		`\fB\-\-worker\-id\fR \fIstring\fR`,
		`\fB\-\-timeout\fR \fIduration\fR` + "\ntime limit of one worker run (default: 30s)",
		`\fB\-\-hmac\-env\fR \fIstring\fR` + "\nenvironment variable with the HMAC-SHA256 secret for HMAC manifests (default: WCP_ATTEST_HMAC_KEY)",
		`\fB\-\-receipts\fR` + "\nverify the evidence receipt chains instead\n",
		".SH ENVIRONMENT\n.TP\n.B HALLMONITOR_CONFIG_DIR\n",
	} {
		if !strings.Contains(man, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if errb.Len() > 0 || strings.Contains(man, "Usage") {
		t.Errorf("a command's --help text leaked into the page or stderr: %q", errb.String())
	}
}

func TestRoffText(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain text", "plain text"},
		{".starts with a dot", `\&.starts with a dot`},
		{"'starts with a quote", `\&'starts with a quote`},
		{`a \ backslash`, `a \e backslash`},
	} {
		if got := roffText(tc.in); got != tc.want {
			t.Errorf("roffText(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
