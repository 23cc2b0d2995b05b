package registry

import (
	"encoding/json"
	"time"
)

// VerifyResponse is the registry's answer about one worker (wcp-reference 5.1).
// A worker the registry does not know (HTTP 404) has Status "unknown".
type VerifyResponse struct {
	WorkerID             string `json:"worker_id"`
	Status               string `json:"status"`
	CurrentHash          string `json:"current_hash"`
	Banned               bool   `json:"banned"`
	BanReason            string `json:"ban_reason"`
	AttestedAt           string `json:"attested_at"`
	AIGenerated          bool   `json:"ai_generated"`
	AIService            string `json:"ai_service"`
	AIModel              string `json:"ai_model"`
	AISessionFingerprint string `json:"ai_session_fingerprint"`
}

// StatusUnknown is the status of a worker the registry does not know.
const StatusUnknown = "unknown"

// Freshness says how old an answer is and whether it came from the cache. When
// the registry could not be reached and a last known answer exists, Stale is
// true and Error says why the fresh check failed.
type Freshness struct {
	Cached     bool      `json:"cached"`
	Stale      bool      `json:"stale"`
	CheckedAt  time.Time `json:"checked_at"`
	AgeSeconds int64     `json:"age_seconds"`
	Error      string    `json:"error,omitempty"`
}

// VerifyResult is a VerifyResponse with its freshness.
type VerifyResult struct {
	VerifyResponse
	Freshness
}

// BanEntry is one banned package hash.
type BanEntry struct {
	SHA256       string `json:"sha256"`
	Reason       string `json:"reason"`
	ReportedAt   string `json:"reported_at"`
	Source       string `json:"source"`
	ReviewStatus string `json:"review_status"`
}

// BanListResult is the ban list with its freshness.
type BanListResult struct {
	Entries []BanEntry `json:"entries"`
	Freshness
}

// Banned reports whether sha256 is on the list (exact match).
func (b BanListResult) Banned(sha256 string) (BanEntry, bool) {
	for _, e := range b.Entries {
		if e.SHA256 == sha256 {
			return e, true
		}
	}
	return BanEntry{}, false
}

// Account standings. Only StandingOK and StandingGrace allow going online.
const (
	StandingOK        = "ok"
	StandingGrace     = "grace"
	StandingDegraded  = "degraded"
	StandingSuspended = "suspended"
)

// AllowsOnline reports whether a standing lets the Hall go online.
func AllowsOnline(standing string) bool {
	return standing == StandingOK || standing == StandingGrace
}

// Standing is the registry's answer about the account behind a token.
type Standing struct {
	Standing              string    `json:"standing"`
	Tier                  string    `json:"tier_id"`
	GitHubLogin           string    `json:"github_login"`
	CheckedAt             time.Time `json:"checked_at"`
	GraceSecondsRemaining int64     `json:"grace_seconds_remaining"`
}

// Profile is the identity and plan of the account behind a token.
type Profile struct {
	GitHubLogin    string `json:"github_login"`
	AvatarURL      string `json:"avatar_url"`
	Tier           string `json:"tier"`
	CreatedAt      string `json:"created_at"`
	NamespaceLimit int    `json:"namespace_limit"`
}

// Namespace is one namespace held by the account.
type Namespace struct {
	Prefix      string `json:"prefix"`
	Kind        string `json:"kind"`
	WorkerCount int    `json:"worker_count"`
	Public      bool   `json:"public"`
}

// NamespaceKind classifies a namespace prefix: "x" (x.* community), "org" (org.*) or "other".
func NamespaceKind(prefix string) string {
	switch {
	case len(prefix) >= 2 && prefix[:2] == "x.":
		return "x"
	case len(prefix) >= 4 && prefix[:4] == "org.":
		return "org"
	}
	return "other"
}

// standingWire accepts the field spellings registries use.
type standingWire struct {
	Standing              string      `json:"standing"`
	TierID                string      `json:"tier_id"`
	Tier                  string      `json:"tier"`
	GitHubLogin           string      `json:"github_login"`
	CheckedAt             string      `json:"checked_at"`
	GraceSecondsRemaining json.Number `json:"grace_seconds_remaining"`
}

type profileWire struct {
	GitHubLogin    string `json:"github_login"`
	Username       string `json:"username"`
	AvatarURL      string `json:"avatar_url"`
	Tier           string `json:"tier"`
	Plan           string `json:"plan"`
	CreatedAt      string `json:"created_at"`
	NamespaceLimit *int   `json:"namespace_limit"`
}

type namespaceWire struct {
	Prefix      string `json:"prefix"`
	Namespace   string `json:"namespace"`
	ID          string `json:"id"`
	WorkerCount *int   `json:"worker_count"`
	Workers     *int   `json:"workers"`
	Public      *bool  `json:"public"`
	Visibility  string `json:"visibility"`
}
