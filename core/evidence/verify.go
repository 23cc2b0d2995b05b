package evidence

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"hallmonitor/core/receipt"
)

// Problem is one thing that does not verify, and where it is.
type Problem struct {
	// Where is the JSON path: "envelope.signatures[0].sig",
	// "statement.predicate.chains[0].entries[2].receipt.capability_id".
	Where string `json:"where"`
	// Offset and End are the byte range (inclusive) in the file; -1 when unknown.
	Offset  int    `json:"offset"`
	End     int    `json:"end"`
	Message string `json:"message"`
}

func (p Problem) String() string {
	if p.Offset < 0 {
		return p.Where + ": " + p.Message
	}
	return fmt.Sprintf("%s (file bytes %d-%d): %s", p.Where, p.Offset, p.End, p.Message)
}

// ChainReport summarises one verified chain.
type ChainReport struct {
	TenantID   string `json:"tenant_id"`
	Receipts   int    `json:"receipts"`
	First      string `json:"first_receipt_hash"`
	Last       string `json:"last_receipt_hash"`
	Head       string `json:"head_receipt_hash"`
	HeadLength int    `json:"head_length"`
}

// Report is the result of Verify.
type Report struct {
	OK        bool          `json:"ok"`
	KeyID     string        `json:"hall_key_id"`
	PublicKey string        `json:"hall_public_key"`
	Pinned    bool          `json:"pinned"` // the key was given by the verifier, not only read from the bundle
	From      string        `json:"from"`
	To        string        `json:"to"`
	Tenant    string        `json:"tenant"`
	Chains    []ChainReport `json:"chains"`
	Problems  []Problem     `json:"problems"`
}

// MaxBundleBytes bounds what Verify reads.
const MaxBundleBytes = 1 << 30

// verifier holds a bundle being checked and where its parts are.
type verifier struct {
	file     []byte
	rep      *Report
	payStart int // offset of the payload's first base64 character in the file
	payEnd   int // offset of its last base64 character
	payload  []byte
	payLocs  map[string]loc // JSON path -> byte range in the decoded payload (computed when first needed)
	pub      ed25519.PublicKey
	keyID    string
}

type loc struct{ start, end int } // end exclusive

func (v *verifier) add(where string, off, end int, format string, args ...any) {
	if off >= 0 { // a range in the file, however short the file is
		last := max(len(v.file)-1, 0)
		off, end = min(off, last), min(max(end, off), last)
	}
	v.rep.Problems = append(v.rep.Problems, Problem{Where: where, Offset: off, End: end, Message: fmt.Sprintf(format, args...)})
}

// at reports a problem at a JSON path of the statement, located in the file.
func (v *verifier) at(path, format string, args ...any) {
	if v.payLocs == nil {
		v.payLocs = valueLocations(v.payload)
	}
	l, ok := v.payLocs[path]
	if !ok {
		v.add(path, -1, -1, format, args...)
		return
	}
	v.add(path, v.payStart+4*(l.start/3), v.payStart+4*((max(l.end, l.start+1)-1)/3)+3, format, args...)
}

// Verify checks a bundle file offline: the envelope's form, the DSSE
// signature (PAE) with the Hall key (pinned: it must be that key; nil: the
// key the bundle names, reported as not pinned), every receipt's hash and
// signature, the chain links from the anchor before the range to the head,
// and each decision's hash against its receipt.
func Verify(file []byte, pinned ed25519.PublicKey) Report {
	rep := Report{Chains: []ChainReport{}, Problems: []Problem{}}
	v := &verifier{file: file, rep: &rep}
	v.verify(pinned)
	rep.OK = len(rep.Problems) == 0
	return rep
}

func jsonErrOffset(err error) (int, bool) {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return int(se.Offset), true
	case errors.As(err, &te):
		return int(te.Offset), true
	}
	return 0, false
}

func (v *verifier) verify(pinned ed25519.PublicKey) {
	env, ok := v.envelope()
	if !ok {
		return
	}
	payload, ok := v.payloadOf(env)
	if !ok {
		return
	}
	st, ok := v.statementOf(payload)
	if !ok || !v.hallKey(st.Predicate, pinned) {
		return
	}
	v.signatures(env, payload)
	v.statement(st)
}

// envelope reads the file as a DSSE envelope, and marks where it differs
// from the envelope's one valid form.
func (v *verifier) envelope() (Envelope, bool) {
	var env Envelope
	if len(v.file) > MaxBundleBytes {
		v.add("file", 0, len(v.file)-1, "larger than %d bytes: not a bundle", MaxBundleBytes)
		return env, false
	}
	dec := json.NewDecoder(bytes.NewReader(v.file))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&env); err != nil {
		off, ok := jsonErrOffset(err)
		if !ok {
			off = int(dec.InputOffset())
		}
		v.add("envelope", max(off-1, 0), off, "not a DSSE envelope (JSON syntax, seen here: the edit is here or before): %v", err)
		return env, false
	}
	if _, err := dec.Token(); err != io.EOF {
		off := int(dec.InputOffset())
		v.add("envelope", off, len(v.file)-1, "data after the envelope")
	}
	canon, _ := encodeEnvelope(env)
	if i := firstDiff(canon, v.file); i >= 0 {
		v.add("envelope", i, i, "the file differs here from its one valid form (a byte was edited, or the file re-formatted)")
	}
	// Where the parts are in the file (in the valid form, which the file has up to the first difference).
	v.payStart = len(`{"payloadType":`) + len(mustJSON(env.PayloadType)) + len(`,"payload":"`)
	v.payEnd = v.payStart + len(env.Payload) - 1
	return env, true
}

// payloadOf checks the payload type and decodes the payload's base64.
func (v *verifier) payloadOf(env Envelope) ([]byte, bool) {
	if env.PayloadType != PayloadType {
		v.add("envelope.payloadType", len(`{"payloadType":`), v.payStart-len(`,"payload":"`)-1, "is %q, want %q", env.PayloadType, PayloadType)
	}
	payload, err := base64.StdEncoding.Strict().DecodeString(env.Payload)
	if err != nil {
		var ce base64.CorruptInputError
		off := v.payStart
		if errors.As(err, &ce) {
			off += int(ce)
		}
		v.add("envelope.payload", max(off-3, v.payStart), off, "not standard base64 (in this 4-character group): %v", err)
		return nil, false
	}
	return payload, true
}

// statementOf reads the payload as an in-toto statement.
func (v *verifier) statementOf(payload []byte) (Statement, bool) {
	var st Statement
	pdec := json.NewDecoder(bytes.NewReader(payload))
	pdec.DisallowUnknownFields()
	if err := pdec.Decode(&st); err != nil {
		// A syntax error is at its offset; any other (an unknown or mistyped
		// field) is somewhere in the payload.
		l, what := loc{0, len(payload)}, ""
		if off, ok := jsonErrOffset(err); ok {
			l, what = loc{max(off-1, 0), off + 1}, " (JSON syntax, seen here: the edit is here or before)"
		}
		v.payLocs = map[string]loc{"statement": l}
		v.at("statement", "the payload is not an in-toto statement%s: %v", what, err)
		return st, false
	}
	v.payload = payload
	return st, true
}

// hallKey reads the Hall's public key from the predicate and checks it
// against its key id and the key the caller pinned (if any).
func (v *verifier) hallKey(p Predicate, pinned ed25519.PublicKey) bool {
	v.rep.KeyID, v.rep.PublicKey, v.rep.From, v.rep.To, v.rep.Tenant = p.HallKeyID, p.HallPublicKey, p.From, p.To, p.Tenant
	pubBytes, err := hex.DecodeString(p.HallPublicKey)
	if err != nil || len(pubBytes) != ed25519.PublicKeySize {
		v.at("statement.predicate.hall_public_key", "must be %d hex characters (an Ed25519 public key)", 2*ed25519.PublicKeySize)
		return false
	}
	v.pub, v.keyID = pubBytes, KeyID(pubBytes)
	if pinned != nil {
		v.rep.Pinned = true
		if !bytes.Equal(pinned, v.pub) {
			v.at("statement.predicate.hall_public_key", "is %s, not the Hall key you pinned (%s)", p.HallPublicKey, hex.EncodeToString(pinned))
		}
	}
	if p.HallKeyID != v.keyID {
		v.at("statement.predicate.hall_key_id", "is %q, but the public key's id is %q", p.HallKeyID, v.keyID)
	}
	return true
}

// signatures checks each DSSE signature over PAE(payloadType, payload).
func (v *verifier) signatures(env Envelope, payload []byte) {
	for i, s := range env.Signatures {
		where := fmt.Sprintf("envelope.signatures[%d]", i)
		off, end := v.locate(`{"keyid":`+string(mustJSON(s.KeyID))+`,"sig":`+string(mustJSON(s.Sig))+`}`, v.payEnd)
		if s.KeyID != v.keyID {
			v.add(where+".keyid", off, end, "is %q, want the Hall key %q", s.KeyID, v.keyID)
			continue
		}
		sig, err := base64.StdEncoding.Strict().DecodeString(s.Sig)
		if err == nil && ed25519.Verify(v.pub, PAE(env.PayloadType, payload), sig) {
			continue
		}
		v.add(where+".sig", v.payStart, end, "the DSSE signature does not verify: the payload (file bytes %d-%d) or this signature was changed", v.payStart, v.payEnd)
	}
	if len(env.Signatures) == 0 {
		v.add("envelope.signatures", v.payEnd, len(v.file)-1, "no signature")
	}
}

// locate finds s in the file after from; the range covers it, or the rest of the file.
func (v *verifier) locate(s string, from int) (int, int) {
	from = min(max(from, 0), len(v.file))
	if i := bytes.Index(v.file[from:], []byte(s)); i >= 0 {
		return from + i, from + i + len(s) - 1
	}
	return from, len(v.file) - 1
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	if len(a) != len(b) {
		return min(len(a), len(b))
	}
	return -1
}

func (v *verifier) statement(st Statement) {
	if st.Type != StatementType {
		v.at("statement._type", "is %q, want %q", st.Type, StatementType)
	}
	if st.PredicateType != PredicateType {
		v.at("statement.predicateType", "is %q, want %q", st.PredicateType, PredicateType)
	}
	p := st.Predicate
	from, errFrom := time.Parse(time.RFC3339Nano, p.From)
	to, errTo := time.Parse(time.RFC3339Nano, p.To)
	if errFrom != nil {
		v.at("statement.predicate.from", "is not an RFC 3339 time")
	}
	if errTo != nil {
		v.at("statement.predicate.to", "is not an RFC 3339 time")
	}
	subj := 0
	for c, ch := range p.Chains {
		cp := fmt.Sprintf("statement.predicate.chains[%d]", c)
		if p.Tenant != "" && ch.TenantID != p.Tenant {
			v.at(cp+".tenant_id", "is %q, but the bundle is for tenant %q", ch.TenantID, p.Tenant)
		}
		var prev *receipt.Receipt
		if ch.Before != nil {
			if v.receipt(cp+".before", *ch.Before, ch.TenantID) {
				prev = ch.Before
			}
		}
		for i, e := range ch.Entries {
			ep := fmt.Sprintf("%s.entries[%d]", cp, i)
			r := e.Receipt
			v.receipt(ep+".receipt", r, ch.TenantID)
			v.decision(ep, e)
			switch {
			case i == 0 && ch.Before == nil && (r.PrevReceiptHash != nil || r.Sequence != 0):
				v.at(ep+".receipt.prev_receipt_hash", "the range does not start the chain, but the bundle has no receipt before it")
			case i > 0 || ch.Before != nil:
				want := ch.Before
				if i > 0 {
					want = &ch.Entries[i-1].Receipt
				}
				if r.PrevReceiptHash == nil || *r.PrevReceiptHash != want.ReceiptHash {
					v.at(ep+".receipt.prev_receipt_hash", "does not link to the previous receipt %s (a receipt was removed, added or reordered)", want.ReceiptHash)
				} else if r.Sequence != want.Sequence+1 {
					v.at(ep+".receipt.sequence", "is %d, want %d", r.Sequence, want.Sequence+1)
				}
			}
			if t, err := time.Parse(time.RFC3339Nano, r.IssuedAt); err != nil || (errFrom == nil && t.Before(from)) || (errTo == nil && t.After(to)) {
				v.at(ep+".receipt.issued_at", "%s is outside the bundle's range %s to %s", r.IssuedAt, p.From, p.To)
			}
			if subj >= len(st.Subject) {
				v.at("statement.subject", "lists %d receipts, the chains hold more", len(st.Subject))
			} else if s := st.Subject[subj]; s.Name != "receipt:"+r.ReceiptID || s.Digest["sha256"] != r.ReceiptHash || len(s.Digest) != 1 {
				v.at(fmt.Sprintf("statement.subject[%d]", subj), "does not name receipt %s with digest sha256:%s", r.ReceiptID, r.ReceiptHash)
			}
			subj++
			prev = &ch.Entries[i].Receipt
		}
		hp := cp + ".head"
		v.receipt(hp, ch.Head, ch.TenantID)
		if ch.HeadLength != int(ch.Head.Sequence)+1 {
			v.at(cp+".head_length", "is %d, but the head receipt has sequence %d", ch.HeadLength, ch.Head.Sequence)
		}
		if prev != nil && (prev.Sequence > ch.Head.Sequence || (prev.Sequence == ch.Head.Sequence && prev.ReceiptHash != ch.Head.ReceiptHash)) {
			v.at(hp, "is not at or after the range's last receipt (sequence %d)", prev.Sequence)
		}
		rep := ChainReport{TenantID: ch.TenantID, Receipts: len(ch.Entries), Head: ch.Head.ReceiptHash, HeadLength: ch.HeadLength}
		if n := len(ch.Entries); n > 0 {
			rep.First, rep.Last = ch.Entries[0].Receipt.ReceiptHash, ch.Entries[n-1].Receipt.ReceiptHash
		}
		v.rep.Chains = append(v.rep.Chains, rep)
	}
	if subj < len(st.Subject) {
		v.at(fmt.Sprintf("statement.subject[%d]", subj), "names a receipt the chains do not hold")
	}
}

// receipt checks one receipt's hash, key and signature; it reports whether all hold.
func (v *verifier) receipt(path string, r receipt.Receipt, tenant string) bool {
	ok := true
	if h, err := r.ComputeHash(); err != nil || h != r.ReceiptHash {
		v.at(path, "receipt_hash does not match the receipt's fields (the receipt was edited)")
		ok = false
	}
	if r.SigningKeyID != v.keyID {
		v.at(path+".signing_key_id", "is %q, not the Hall key %q", r.SigningKeyID, v.keyID)
		return false
	}
	sig, err := hex.DecodeString(r.Signature)
	if err != nil || !ed25519.Verify(v.pub, []byte(r.ReceiptHash), sig) {
		v.at(path+".signature", "does not verify with the Hall key")
		ok = false
	}
	if r.TenantID != tenant {
		v.at(path+".tenant_id", "is %q, in the chain of tenant %q", r.TenantID, tenant)
		ok = false
	}
	return ok
}

// decision checks the decision against its receipt's decision_hash and
// names the field that differs when it can.
func (v *verifier) decision(path string, e Entry) {
	h, err := receipt.DecisionHashJSON(e.Decision)
	if err == nil && h == e.Receipt.DecisionHash {
		return
	}
	var d struct {
		DecisionID    string  `json:"decision_id"`
		CorrelationID string  `json:"correlation_id"`
		TenantID      string  `json:"tenant_id"`
		CapabilityID  string  `json:"capability_id"`
		MatchedRuleID string  `json:"matched_rule_id"`
		Denied        bool    `json:"denied"`
		Selected      *string `json:"selected_worker_species_id"`
		Supervisor    bool    `json:"supervisor_required"`
		ArtifactHash  *string `json:"artifact_hash"`
	}
	json.Unmarshal(e.Decision, &d)
	r := e.Receipt
	str := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	for _, f := range []struct {
		field    string
		dec, rec string
	}{
		{"decision_id", d.DecisionID, r.DecisionID}, {"correlation_id", d.CorrelationID, r.CorrelationID},
		{"tenant_id", d.TenantID, r.TenantID}, {"capability_id", d.CapabilityID, r.CapabilityID},
		{"matched_rule_id", d.MatchedRuleID, r.MatchedRuleID}, {"denied", strconv.FormatBool(d.Denied), strconv.FormatBool(r.Denied)},
		{"selected_worker_species_id", str(d.Selected), str(r.SelectedWorkerSpeciesID)},
		{"supervisor_required", strconv.FormatBool(d.Supervisor), strconv.FormatBool(r.SupervisorRequired)},
		{"artifact_hash", str(d.ArtifactHash), str(r.ArtifactHash)},
	} {
		if f.dec != f.rec {
			v.at(path+".decision."+f.field, "is %q but the signed receipt says %q (the decision was edited)", f.dec, f.rec)
			return
		}
	}
	v.at(path+".decision", "its hash does not match the receipt's decision_hash %s (the decision was edited)", r.DecisionHash)
}

// valueLocations maps each JSON path of doc ("statement", "statement.subject[0].name", ...)
// to the byte range of its value.
func valueLocations(doc []byte) map[string]loc {
	out := map[string]loc{}
	type frame struct {
		path     string
		array    bool
		index    int
		key      string
		wantKey  bool
		startOff int
	}
	dec := json.NewDecoder(bytes.NewReader(doc))
	var stack []*frame
	child := func() string {
		if len(stack) == 0 {
			return "statement"
		}
		f := stack[len(stack)-1]
		if f.array {
			return f.path + "[" + strconv.Itoa(f.index) + "]"
		}
		return f.path + "." + f.key
	}
	advance := func() {
		if len(stack) == 0 {
			return
		}
		f := stack[len(stack)-1]
		if f.array {
			f.index++
		} else {
			f.wantKey = true
		}
	}
	skip := func(off int) int {
		for off < len(doc) && (doc[off] == ' ' || doc[off] == ':' || doc[off] == ',' || doc[off] == '\n' || doc[off] == '\t' || doc[off] == '\r') {
			off++
		}
		return off
	}
	for {
		start := skip(int(dec.InputOffset()))
		tok, err := dec.Token()
		if err != nil {
			return out
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{', '[':
				stack = append(stack, &frame{path: child(), array: t == '[', wantKey: t == '{', startOff: start})
			default:
				f := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				out[f.path] = loc{f.startOff, int(dec.InputOffset())}
				advance()
			}
		default:
			if len(stack) > 0 && !stack[len(stack)-1].array && stack[len(stack)-1].wantKey {
				if k, ok := t.(string); ok {
					stack[len(stack)-1].key, stack[len(stack)-1].wantKey = k, false
					continue
				}
			}
			out[child()] = loc{start, int(dec.InputOffset())}
			advance()
		}
	}
}
