// The one API module: typed functions for every Hall API endpoint (docs/api.md).
// Every non-2xx answer becomes a thrown ApiError carrying the server's code, message and field.

export type Outcome = "allowed" | "denied" | "pending";

export interface DecisionSummary {
  decision_id: string;
  timestamp: string;
  outcome: Outcome;
  denied: boolean;
  deny_code: string;
  deny_message: string;
  capability_id: string;
  tenant_id: string;
  env: string;
  data_label: string;
  correlation_id: string;
  matched_rule_id: string;
  selected_worker_species_id: string;
  blast_score: number | null;
  supervisor_required: boolean;
  pending_approval_id: string;
  dry_run: boolean;
  source: "route" | "ingest" | "mcp" | string;
  /** who asked: the agent's name, "person:<login>" when the person routed, "" for rows from before agents. */
  agent?: string;
}

export interface Dispatch {
  dispatch_id: string;
  decision_id: string;
  capability_id: string;
  tenant_id: string;
  worker_species_id: string;
  worker_id: string;
  started_at: string;
  finished_at: string | null;
  duration_ms: number | null;
  outcome: string;
  error: string;
}

/** The answer of POST /wcp/dispatch: the finished dispatch and what the worker wrote. */
export interface DispatchRun {
  dispatch: Dispatch;
  output?: unknown;
  output_text?: string;
  package_hash: string;
}

export type Severity = "critical" | "error" | "warning" | "info";

export interface Alert {
  alert_id: string;
  type: string;
  severity: Severity;
  title: string;
  body: string;
  worker_id: string;
  decision_id: string;
  created_at: string;
  last_event_at: string;
  count: number;
  acknowledged: boolean;
  acknowledged_at: string | null;
}

export type ApprovalStatus = "pending" | "approved" | "denied" | "escalated" | "expired";

export interface Approval {
  approval_id: string;
  decision_id: string;
  capability_id: string;
  tenant_id: string;
  matched_rule_id: string;
  reason: string;
  status: ApprovalStatus;
  created_at: string;
  expires_at: string | null;
  resolved_at: string | null;
  resolved_by: string;
  note: string;
  /** the agent whose call waits (a name, or "person:<login>" when the person asked). */
  agent?: string;
  /** when the approval's one run started ("" while unused). */
  used_at?: string;
  worker_species_id?: string;
  blast_score?: number | null;
  request_summary?: string;
  last_dispatch?: DispatchBrief | null;
}

/** DispatchBrief is the latest run of an approved decision. */
export interface DispatchBrief {
  dispatch_id: string;
  outcome: string;
  error: string;
  duration_ms: number | null;
  finished_at: string;
}

export interface Attestation {
  state: "verified" | "tampered" | "unsigned" | "missing" | "unknown";
  package_hash: string;
  registered_hash: string;
  checked_at: string | null;
  deny_code: string;
  reason: string;
}

export interface WorkerRegistryState {
  status: string;
  banned: boolean;
  ban_reason: string;
  current_hash: string;
  checked_at: string | null;
  age_seconds: number | null;
  error: string;
}

export interface Worker {
  worker_id: string;
  worker_species_id: string;
  capabilities: string[];
  risk_tier: string;
  blast_score: number | null;
  controls: string[];
  guarantee: string;
  enrolled_at: string;
  updated_at: string;
  package_path: string;
  status: "active" | "tampered" | "banned" | "unverified" | string;
  attestation: Attestation | null;
  registry: WorkerRegistryState | null;
  record: Record<string, unknown>;
}

export interface HallEvent {
  id: number;
  type: string;
  time: string;
  data: Record<string, unknown>;
}

export interface Counts {
  workers: number;
  decisions_today: number;
  denials_today: number;
  active_dispatches: number;
  open_alerts: number;
  pending_approvals: number;
}

export interface ServerInfo {
  version: string;
  listen: string;
  db_path: string;
  log_path: string;
  started_at: string;
  uptime_seconds: number;
  rules_loaded: number | boolean;
  rules_hash: string;
  rules_path: string;
  last_event_id: number;
}

export type HallState = "offline" | "ready" | "online";

export interface Status {
  state: HallState;
  online: boolean;
  logged_in: boolean;
  github_login: string;
  account_standing: string;
  grace_seconds_remaining: number | null;
  standing_checked_at: string | null;
  tier: string;
  counts: Counts;
  recent_refusals: DecisionSummary[];
  server: ServerInfo;
  /** the OpenTelemetry export (see telemetry.ts) */
  export?: import("./telemetry").ExportStatus;
}


export interface Settings {
  timezone: string;
  locale: string;
  feed_max_rows: number;
  notify_on: string[];
  notify_every_denial: boolean;
  default_profile: string;
  theme: "system" | "light" | "dark";
  close_to_tray: boolean;
}

export interface Config {
  data_dir: string;
  port: number;
  registry_url: string;
  workers_dir: string;
  rules_path: string;
  default_profile: string;
  setup_completed_at?: string | null;
}

export interface SetupState {
  completed: boolean;
  config: Config;
  defaults: Config;
}

export interface ValidationCheck {
  field: string;
  ok: boolean;
  warning: boolean;
  message: string;
}

export interface ValidationResult {
  valid: boolean;
  checks: ValidationCheck[];
  record: Record<string, unknown>;
}

export interface Namespace {
  prefix: string;
  kind: "x" | "org" | "other";
  worker_count: number | null;
  public: boolean;
}

export interface Standing {
  standing: string;
  grace_seconds_remaining: number | null;
  checked_at: string | null;
  age_seconds: number | null;
  error: string;
}

export interface Profile {
  logged_in: boolean;
  github_login: string;
  avatar_url: string;
  tier: string;
  namespaces: Namespace[];
  standing: Standing | null;
}

export interface LoginStart {
  login_id: string;
  auth_url: string;
  expires_at: string;
}

export type LoginStatus = "pending" | "done" | "failed" | "expired" | "cancelled";

export interface DecisionDetail {
  decision: Record<string, unknown>;
  input: Record<string, unknown>;
  receipt: Record<string, unknown>;
  dispatch: Dispatch | null;
  approval: Approval | null;
  /** the decision's feed row (with its agent). */
  summary?: DecisionSummary;
}

export interface VerifyResponse {
  worker_id: string;
  status: string;
  current_hash: string | null;
  banned: boolean;
  ban_reason?: string;
  message?: string;
  cached: boolean;
  checked_at: string | null;
  age_seconds: number | null;
}

export interface Rule {
  [key: string]: unknown;
}

export interface DecisionFilter {
  outcome?: Outcome | "";
  worker?: string;
  capability?: string;
  tenant?: string;
  from?: string;
  to?: string;
  q?: string;
  /** an agent's name (or "person:<login>"): its decisions only. */
  agent?: string;
}

/** ApiError is what every failed call throws: the server's error code, sentence and field. */
export class ApiError extends Error {
  readonly code: string;
  readonly field: string;
  readonly status: number;
  constructor(status: number, code: string, message: string, field = "") {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.field = field;
  }
}

/** SESSION_KEY holds this tab's browser-session token (hms_…), the only credential the page keeps. */
const SESSION_KEY = "hallmonitor.session";
/** LEGACY_KEY is where earlier versions kept the API token itself; it is removed at start. */
const LEGACY_KEY = "hallmonitor.token";

/** AGENT_TOKEN_MESSAGE is what the token screen says when an agent token is pasted: agents cannot open the UI. */
export const AGENT_TOKEN_MESSAGE =
  "That is an agent token. Paste the admin credential from <config dir>/admin-token (or open the link `hallmonitor serve` printed).";
/** PERSON_ONLY_MESSAGE is what the page says when the Hall answers 403 forbidden_scope to it. */
export const PERSON_ONLY_MESSAGE = "This page needs the person's session";

let base = "";
let token: string | null = null;
let unauthorizedHandler: ((err: ApiError) => void) | null = null;
let lockedHandler: ((err: ApiError) => void) | null = null;
let forbiddenHandler: ((err: ApiError) => void) | null = null;

/** configure sets the API origin ("" = same origin) and the session token. */
export function configure(opts: { base?: string; token?: string | null }): void {
  if (opts.base !== undefined) base = opts.base.replace(/\/+$/, "");
  if (opts.token !== undefined) token = opts.token;
}

/** getToken is the browser session's token, null in the desktop window (in-process, no token). */
export function getToken(): string | null {
  return token;
}

/** setToken keeps the session token for this tab only (sessionStorage), never in localStorage or a URL. */
export function setToken(value: string | null): void {
  token = value && value.trim() ? value.trim() : null;
  try {
    if (token) sessionStorage.setItem(SESSION_KEY, token);
    else sessionStorage.removeItem(SESSION_KEY);
  } catch {
    /* storage disabled: the token stays in memory for this page */
  }
}

/**
 * takeTokenFromLocation reads `#token=...` (the admin credential `hallmonitor serve` prints), strips it
 * from the address bar and returns it for openSession: it is never stored. It also loads this tab's
 * saved session token (and forgets a credential an earlier version saved).
 */
export function takeTokenFromLocation(loc: Location = window.location, hist: History = window.history): string | null {
  try {
    sessionStorage.removeItem(LEGACY_KEY);
    const saved = sessionStorage.getItem(SESSION_KEY);
    if (saved) token = saved;
  } catch {
    /* ignore */
  }
  const params = new URLSearchParams(loc.hash.replace(/^#/, ""));
  const credential = params.get("token");
  if (!credential) return null;
  params.delete("token");
  const rest = params.toString();
  hist.replaceState(null, "", loc.pathname + loc.search + (rest ? "#" + rest : ""));
  return credential;
}

/** SessionInfo is the answer of POST /api/session. */
export interface SessionInfo {
  session_token: string;
  expires_at: string;
  person: string;
}

/**
 * openSession trades the person's admin credential for a session of this browser (POST /api/session:
 * the session token, plus an HttpOnly cookie without which the token is refused) and keeps only the
 * session token. An agent token is refused with AGENT_TOKEN_MESSAGE. Its errors go to
 * the caller (the token screen), not to the 401 handler.
 */
export async function openSession(credential: string): Promise<SessionInfo> {
  const value = credential.trim();
  if (!value) throw new ApiError(0, "missing_field", "Paste the admin credential from <config dir>/admin-token.");
  let res: Response;
  try {
    // no X-Hall-UI: the credential itself is not a UI session, so a locked Hall still opens one and the
    // lock screen then asks for the passphrase
    res = await fetch(url("/api/session"), { method: "POST", headers: { Accept: "application/json", Authorization: "Bearer " + value }, credentials: "same-origin" });
  } catch {
    throw new ApiError(0, "network", "Cannot reach the Hall API (POST /api/session): is hallmonitor running?");
  }
  if (!res.ok) {
    const err = await toApiError(res);
    if (err.status === 403 && err.code === "forbidden_scope") throw new ApiError(403, err.code, AGENT_TOKEN_MESSAGE);
    throw err;
  }
  const info = (await res.json().catch(() => null)) as SessionInfo | null;
  if (!info || typeof info.session_token !== "string" || !info.session_token) {
    throw new ApiError(res.status, "bad_response", "The Hall API answered POST /api/session without a session token.");
  }
  setToken(info.session_token);
  return info;
}

/** closeSession ends this browser's session (DELETE /api/session) and forgets its token. */
export async function closeSession(): Promise<void> {
  try {
    await json<{ closed: boolean }>("DELETE", "/api/session");
  } finally {
    setToken(null);
  }
}

/** WhoAmI is GET /api/whoami: the caller's principal. */
export interface WhoAmI {
  principal: "person" | "agent";
  name: string;
  agent_id?: string;
  via: "desktop" | "browser" | "cli" | "agent" | "mcp" | string;
}
export const whoami = () => json<WhoAmI>("GET", "/api/whoami");

/** onForbidden registers the callback run when the server answers 403 forbidden_scope (an agent's credential). */
export function onForbidden(fn: ((err: ApiError) => void) | null): void {
  forbiddenHandler = fn;
}

/** onUnauthorized registers the callback run whenever the server answers 401. */
export function onUnauthorized(fn: ((err: ApiError) => void) | null): void {
  unauthorizedHandler = fn;
}

/** onLocked registers the callback run whenever the server answers 423 (the UI passphrase lock is on). */
export function onLocked(fn: ((err: ApiError) => void) | null): void {
  lockedHandler = fn;
}

type Query = Record<string, string | number | boolean | undefined | null>;

export function buildQuery(q?: Query): string {
  if (!q) return "";
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) {
    if (v === undefined || v === null || v === "") continue;
    p.set(k, String(v));
  }
  const s = p.toString();
  return s ? "?" + s : "";
}

export function authHeaders(extra?: Record<string, string>): Record<string, string> {
  // X-Hall-UI marks the Hall's own UI: the passphrase lock applies to it, not to agents.
  const h: Record<string, string> = { Accept: "application/json", "X-Hall-UI": "1", ...extra };
  if (token) h.Authorization = "Bearer " + token;
  return h;
}

export function url(path: string, query?: Query): string {
  return base + path + buildQuery(query);
}

/** toApiError turns a failed Response into an ApiError using the server's JSON error body. */
export async function toApiError(res: Response): Promise<ApiError> {
  let code = "http_" + res.status;
  let message = `The Hall API answered ${res.status} ${res.statusText}`.trim();
  let field = "";
  try {
    const text = await res.text();
    if (text) {
      const body = JSON.parse(text) as { error?: { code?: string; message?: string; field?: string } };
      if (body && body.error) {
        code = body.error.code || code;
        message = body.error.message || message;
        field = body.error.field || "";
      }
    }
  } catch {
    /* not JSON: keep the status line */
  }
  return new ApiError(res.status, code, message, field);
}

interface RequestOpts {
  query?: Query;
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

/** raw performs one call and returns the Response when it is 2xx, throwing ApiError otherwise. */
export async function raw(method: string, path: string, opts: RequestOpts = {}): Promise<Response> {
  const headers = authHeaders(opts.headers);
  let body: string | undefined;
  if (opts.body !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(opts.body);
  }
  let res: Response;
  try {
    res = await fetch(url(path, opts.query), { method, headers, body, signal: opts.signal, credentials: "same-origin" });
  } catch (e) {
    if (e instanceof DOMException && e.name === "AbortError") throw e;
    throw new ApiError(0, "network", `Cannot reach the Hall API (${method} ${path}): is hallmonitor running?`);
  }
  if (!res.ok) {
    const err = await toApiError(res);
    if (res.status === 401 && unauthorizedHandler) unauthorizedHandler(err);
    if (res.status === 423 && lockedHandler) lockedHandler(err);
    if (res.status === 403 && err.code === "forbidden_scope" && forbiddenHandler) forbiddenHandler(err);
    throw err;
  }
  return res;
}

async function json<T>(method: string, path: string, opts: RequestOpts = {}): Promise<T> {
  const res = await raw(method, path, opts);
  if (res.status === 204) return {} as T;
  const text = await res.text();
  if (!text) return {} as T;
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new ApiError(res.status, "bad_response", `The Hall API sent a reply to ${method} ${path} that is not JSON.`);
  }
}

const enc = encodeURIComponent;

// ---- health, status, events
export const getStatus = () => json<Status>("GET", "/api/status");

/** DecisionStats: GET /api/stats/decisions (the Status screen's charts). */
export interface DecisionStats {
  window_start: string;
  day_start: string;
  /** every minute of the window, oldest first; minute is Unix seconds of the minute's start. */
  per_minute: { minute: number; allowed: number; denied: number; pending: number }[];
  top_deny_codes: { name: string; count: number }[];
  top_capabilities: { name: string; count: number }[];
  day_total: number;
}
export const getOtlp = () => json<{ export: import("./telemetry").ExportStatus }>("GET", "/api/telemetry/otlp");
export const putOtlp = (s: import("./telemetry").OtlpSettings) =>
  json<{ export: import("./telemetry").ExportStatus }>("PUT", "/api/telemetry/otlp", { body: s });
export const decisionStats = (q: { window?: string; day_start?: string } = {}) => json<DecisionStats>("GET", "/api/stats/decisions", { query: q });
export const getEvents = (q: { since?: number; limit?: number; timeout?: number; types?: string }, signal?: AbortSignal) =>
  json<{ events: HallEvent[]; last_id: number }>("GET", "/api/events", { query: q, signal });

// ---- decisions
export const listDecisions = (f: DecisionFilter & { limit?: number; cursor?: string }, signal?: AbortSignal) =>
  json<{ decisions: DecisionSummary[]; next_cursor: string | null }>("GET", "/api/decisions", { query: { ...f }, signal });
export const getDecision = (id: string) => json<DecisionDetail>("GET", "/api/decisions/" + enc(id));
/** fetchFile downloads a file the server names in Content-Disposition (fallback when it does not). */
async function fetchFile(path: string, query: Query, fallback: string): Promise<{ blob: Blob; filename: string; headers: Headers }> {
  const res = await raw("GET", path, { query, headers: { Accept: "*/*" } });
  const m = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(res.headers.get("Content-Disposition") || "");
  return { blob: await res.blob(), filename: m ? decodeURIComponent(m[1]) : fallback, headers: res.headers };
}
/** exportDecisions downloads the filtered decisions; returns the blob and the server's file name. */
export async function exportDecisions(f: DecisionFilter, format: "jsonl" | "csv"): Promise<{ blob: Blob; filename: string }> {
  const { blob, filename } = await fetchFile("/api/decisions/export", { ...f, format }, `decisions.${format}`);
  return { blob, filename };
}
/** exportEvidence downloads the signed evidence bundle of a time range (and tenant), and how many receipts it holds. */
export async function exportEvidence(q: { from: string; to: string; tenant?: string }): Promise<{ blob: Blob; filename: string; receipts: string }> {
  const { blob, filename, headers } = await fetchFile("/api/evidence", q, "hall-evidence.dsse.json");
  return { blob, filename, receipts: headers.get("X-Evidence-Receipts") ?? "?" };
}
export const ingestDecisions = (body: unknown) =>
  json<{ recorded: number; decision_ids: string[] }>("POST", "/api/decisions/ingest", { body });
export const route = (input: unknown, dryRun = false) =>
  json<{ decision: Record<string, unknown>; receipt: Record<string, unknown> }>("POST", "/wcp/route", {
    body: dryRun ? { input, dry_run: true } : { input },
  });

// ---- dispatches
export const activeDispatches = () => json<{ active: Dispatch[] }>("GET", "/api/dispatches/active");
export const listDispatches = (q: { limit?: number; cursor?: string } = {}) =>
  json<{ dispatches: Dispatch[]; next_cursor: string | null }>("GET", "/api/dispatches", { query: q });
/** The Hall runs the selected worker of an allowed (or approved) decision and answers when it finished. */
export const runDecision = (decisionId: string) =>
  json<DispatchRun>("POST", "/wcp/dispatch", { body: { decision_id: decisionId } });

// ---- alerts
export const listAlerts = (q: { severity?: Severity | ""; acknowledged?: boolean; limit?: number } = {}) =>
  json<{ alerts: Alert[] }>("GET", "/api/alerts", { query: q });
export const ackAlert = (id: string) => json<Alert>("POST", `/api/alerts/${enc(id)}/ack`);

// ---- approvals
export const listApprovals = (status: ApprovalStatus | "" = "pending") =>
  json<{ approvals: Approval[] }>("GET", "/api/approvals", { query: { status } });
export const resolveApproval = (id: string, action: "approve" | "deny" | "escalate", note?: string) =>
  json<Approval>("POST", `/api/approvals/${enc(id)}/resolve`, { body: note ? { action, note } : { action } });

// ---- agents (the person's: each agent's own token, stored hashed; the token is in the create/rotate answer only)
export interface AgentAccount {
  agent_id: string;
  name: string;
  token_hint: string;
  created_at: string;
  created_by?: string;
  last_used_at: string | null;
  revoked_at: string | null;
  revoked_by?: string;
}
export const listAgents = () => json<{ agents: AgentAccount[] }>("GET", "/api/agents");
export const createAgent = (name: string) => json<{ agent: AgentAccount; token: string }>("POST", "/api/agents", { body: { name } });
export const rotateAgent = (id: string) => json<{ agent: AgentAccount; token: string }>("POST", `/api/agents/${enc(id)}/rotate`);
export const revokeAgent = (id: string) => json<{ agent: AgentAccount }>("DELETE", "/api/agents/" + enc(id));

// ---- workers
export const listWorkers = () => json<{ workers: Worker[] }>("GET", "/api/workers");
/** a worker package in the workers directory that is not enrolled (GET /api/workers/available). */
export interface AvailablePackage {
  folder: string;
  path: string;
  worker_id: string;
  worker_species_id: string;
  capabilities: string[];
  risk_tier: string;
  valid: boolean;
  problem: string;
  record: Record<string, unknown> | null;
}
export const listAvailableWorkers = () =>
  json<{ workers_dir: string; packages: AvailablePackage[]; truncated: boolean; error: string }>("GET", "/api/workers/available");
/** workersDir is the workers folder the setup wizard is choosing (the Hall honours it until setup completes). */
function enrollBody(record: unknown, packagePath?: string, publicKey?: string, workersDir?: string) {
  const b: Record<string, unknown> = { record };
  if (packagePath) b.package_path = packagePath;
  if (publicKey) b.public_key_ed25519 = publicKey;
  if (workersDir) b.workers_dir = workersDir;
  return b;
}
export const validateWorker = (record: unknown, packagePath?: string, publicKey?: string, workersDir?: string) =>
  json<ValidationResult>("POST", "/api/workers/validate", { body: enrollBody(record, packagePath, publicKey, workersDir) });
export const enrollWorker = (record: unknown, packagePath?: string, publicKey?: string, workersDir?: string) =>
  json<{ enrolled: boolean; updated?: boolean; worker: Worker }>("POST", "/api/workers/enroll", { body: enrollBody(record, packagePath, publicKey, workersDir) });

// ---- namespace keys (the private half stays in the Hall's config dir)
export interface NamespaceKey {
  namespace: string;
  public_key: string;
  source: string;
  can_sign: boolean;
  public_key_path?: string;
}
export const listKeys = (namespace: string) =>
  json<{ keys: NamespaceKey[]; keys_dir: string }>("GET", "/api/keys?namespace=" + encodeURIComponent(namespace));
export const makeKey = (namespace: string) => json<NamespaceKey>("POST", "/api/keys", { body: { namespace } });
export const signPackage = (b: { package_path: string; worker_id: string; worker_species_id: string; worker_version?: string }) =>
  json<{ namespace: string; public_key: string; package_hash: string; manifest_path: string; package_path: string }>("POST", "/api/keys/sign", { body: b });
export const unenrollWorker = (id: string) => json<{ unenrolled: boolean }>("DELETE", "/api/workers/" + enc(id));
export const verifyWorker = (id: string) => json<VerifyResponse>("GET", "/wcp/registry/verify/" + enc(id));
export const banList = () =>
  json<{ entries: Record<string, unknown>[]; checked_at: string | null; age_seconds: number | null; cached: boolean }>(
    "GET",
    "/wcp/registry/ban-list",
  );
export const capabilities = () => json<{ capabilities: { capability_id: string; workers: string[] }[] }>("GET", "/wcp/capabilities");

// ---- rules editor (ETag / If-Match)
export interface ShadowWarning {
  shadower_rule_id: string;
  shadowed_rule_id: string;
  shadowed_index: number;
  identical: boolean;
}
export interface RulesDoc {
  rules: Rule[];
  rules_hash: string;
  path: string;
  loaded_at: string;
  error: string;
  shadow_warnings: ShadowWarning[];
  etag: string;
}
export interface FlipOutcome {
  outcome: Outcome;
  worker: string;
  deny_code: string;
  rule_id: string;
}
export interface Flip {
  decision_id: string;
  capability_id: string;
  env: string;
  tenant_id: string;
  kind: string;
  before: FlipOutcome;
  after: FlipOutcome;
}
export interface RulesPreview {
  preview: { replayed: number; skipped: number; unchanged: number; flipped: number; counts: Record<string, number>; flips: Flip[]; truncated: boolean };
  limit: number;
  rules_hash: string;
  in_force_hash: string;
  shadow_warnings: ShadowWarning[];
}
export const getRules = () => json<RulesDoc>("GET", "/api/rules");
export const putRules = (rules: Rule[], etag: string) => json<RulesDoc>("PUT", "/api/rules", { body: { rules }, headers: { "If-Match": etag } });
export const previewRules = (rules: Rule[], limit?: number) => json<RulesPreview>("POST", "/api/rules/preview", { body: limit ? { rules, limit } : { rules } });

// ---- settings (ETag / If-Match)
export async function getSettings(): Promise<{ settings: Settings; etag: string }> {
  const res = await raw("GET", "/api/settings");
  const body = (await res.json()) as { settings: Settings };
  return { settings: body.settings, etag: res.headers.get("ETag") || "" };
}
export async function putSettings(s: Settings, etag: string): Promise<{ settings: Settings; etag: string }> {
  const res = await raw("PUT", "/api/settings", { body: s, headers: { "If-Match": etag } });
  const body = (await res.json()) as { settings: Settings };
  return { settings: body.settings, etag: res.headers.get("ETag") || "" };
}

// ---- setup
export const getSetup = () => json<SetupState>("GET", "/api/setup");
export const postSetup = (c: Config) =>
  json<{ completed: boolean; config: Config; restart_required: boolean }>("POST", "/api/setup", { body: c });
/** rotateToken makes a new token for agent "default" (the old one stops working). */
export const rotateToken = () => json<{ token: string }>("POST", "/api/setup/token");

// ---- account
export const getProfile = () => json<Profile>("GET", "/api/profile");
export const startLogin = () => json<LoginStart>("POST", "/api/auth/login", { body: {} });
export const loginStatus = (id: string) => json<{ status: LoginStatus; error?: string }>("GET", "/api/auth/login/" + enc(id));
export const cancelLogin = (id: string) => json<unknown>("DELETE", "/api/auth/login/" + enc(id));
export const startDeviceLogin = () =>
  json<{ login_id: string; user_code: string; verification_uri: string; expires_at: string; interval: number }>(
    "POST",
    "/api/auth/device",
  );
export const logout = () => json<{ logged_out: boolean }>("POST", "/api/auth/logout");
export const goOnline = (desktopHash?: string) =>
  json<{ ok: boolean; account_standing: string; tier: string }>("POST", "/api/server/go-online", {
    body: desktopHash ? { desktop_hash: desktopHash } : {},
  });
export const goOffline = () => json<{ ok: boolean }>("POST", "/api/server/go-offline");

// ---- connected MCP servers (Settings → Connected MCPs)
export type McpStatus = "online" | "offline" | "error" | "unknown";
export interface McpServer {
  id: string;
  name: string;
  transport: "http" | "stdio";
  url: string;
  argv: string[];
  status: McpStatus;
  tool_count: number;
  tools: { name: string; description: string }[];
  last_ping_at: string;
  last_error: string;
  created_at: string;
  /** the capability a routing rule names to let this server's tool calls through */
  capability_id: string;
  worker_species_id: string;
}
export interface McpServerInput {
  name: string;
  transport: "http" | "stdio";
  url?: string;
  command?: string;
}
export const listMcpServers = () => json<{ servers: McpServer[] }>("GET", "/api/mcp/servers");
export const addMcpServer = (s: McpServerInput) => json<{ server: McpServer }>("POST", "/api/mcp/servers", { body: s });
export const removeMcpServer = (id: string) => json<{ removed: boolean }>("DELETE", "/api/mcp/servers/" + enc(id));
export const pingMcpServer = (id: string) => json<{ status: McpStatus; server: McpServer }>("POST", `/api/mcp/servers/${enc(id)}/ping`);

// ---- UI passphrase lock
export interface LockStatus {
  passphrase_set: boolean;
  locked: boolean;
  retry_after_seconds: number;
}
export const passphraseStatus = () => json<LockStatus>("GET", "/api/auth/passphrase-status");
export const setPassphrase = (passphrase: string) => json<LockStatus>("POST", "/api/auth/set-passphrase", { body: { passphrase } });
export const unlock = (passphrase: string) => json<LockStatus>("POST", "/api/auth/unlock", { body: { passphrase } });
export const lockNow = () => json<LockStatus>("POST", "/api/auth/lock");
export const changePassphrase = (current: string, next: string) =>
  json<LockStatus>("POST", "/api/auth/change-passphrase", { body: { current_passphrase: current, new_passphrase: next } });
export const removePassphrase = (current: string) => json<LockStatus>("POST", "/api/auth/remove-passphrase", { body: { current_passphrase: current } });
// ---- coordination (the multi-agent task board, /api/coord/*)
export type TaskStatus = "pending" | "in_progress" | "done";
export type DepType = "FS" | "SS" | "FF" | "SF";
export type Priority = "P0" | "P1" | "P2";

export interface CoordAgent {
  id: string;
  name: string;
  type: string;
  status: "active" | "idle" | "offline";
  active_tasks: number;
  registered_at: string;
  last_seen: string;
}

export interface CoordTask {
  id: string;
  title: string;
  details: string;
  owner: string;
  priority: Priority;
  agent_type: string;
  section: string;
  location: string;
  predecessors: string[];
  dep_type: DepType;
  status: TaskStatus;
  claimed_by: string;
  result: string;
  created_by: string;
  updated_by: string;
  completed_by: string;
  created_at: string;
  updated_at: string;
  claimed_at: string;
  completed_at: string;
}

/** The editable fields of a task (POST /api/coord/tasks, PATCH, follow_up). */
export interface TaskFields {
  title: string;
  details?: string;
  owner?: string;
  priority?: Priority;
  agent_type?: string;
  section?: string;
  location?: string;
  predecessors?: string[];
  dep_type?: DepType;
}

export interface CoordLock {
  path: string;
  holder: string;
  acquired_at: string;
  expires_at: string;
  released_at: string;
  released_by: string;
}

export interface CoordMessage {
  id: number;
  from: string;
  to: string;
  message: string;
  task_id: string;
  msg_type: "message" | "result" | "alert";
  created_at: string;
}

/** Who the UI's coordination actions are attributed to (the GitHub login, else the OS user). */
export interface CoordMe {
  id: string;
  source: "github" | "os";
}

export const coordAgents = () => json<{ agents: CoordAgent[]; me: CoordMe }>("GET", "/api/coord/agents");
export const coordTasks = () => json<{ tasks: CoordTask[] }>("GET", "/api/coord/tasks");
export const coordCreateTask = (t: TaskFields) => json<{ task: CoordTask }>("POST", "/api/coord/tasks", { body: t });
export const coordUpdateTask = (id: string, t: Partial<TaskFields>) => json<{ task: CoordTask }>("PATCH", `/api/coord/tasks/${enc(id)}`, { body: t });
export const coordCompleteTask = (id: string, body: { summary?: string; follow_up?: TaskFields; notify?: boolean }) =>
  json<{ task: CoordTask; follow_up: CoordTask | null; messages: CoordMessage[] }>("POST", `/api/coord/tasks/${enc(id)}/complete`, { body });
export const coordClaimTask = (id: string) => json<{ task: CoordTask }>("POST", `/api/coord/tasks/${enc(id)}/claim`, { body: {} });
export const coordReassign = (id: string, owner: string) => json<{ task: CoordTask }>("POST", `/api/coord/tasks/${enc(id)}/reassign`, { body: { owner } });
export const coordLocks = () => json<{ locks: CoordLock[] }>("GET", "/api/coord/locks");
export const coordPostMessage = (m: { to: string; message: string; task_id?: string; msg_type?: CoordMessage["msg_type"] }) =>
  json<{ message: CoordMessage }>("POST", "/api/coord/messages", { body: m });
