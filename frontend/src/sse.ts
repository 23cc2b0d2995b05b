// Server-Sent Events over fetch(): EventSource cannot send an Authorization header, so the
// stream is read with a ReadableStream and parsed here (WHATWG "event stream interpretation").

import { ApiError, authHeaders, getEvents, toApiError, url, type HallEvent } from "./api";

export interface SSEMessage {
  id: string | null;
  event: string;
  data: string;
  retry: number | null;
}

/** SSEParser turns text chunks (split anywhere) into complete messages. */
export class SSEParser {
  private buf = "";
  private data: string[] = [];
  private event = "";
  private id: string | null = null;
  private retry: number | null = null;
  private sawCR = false;

  push(chunk: string): SSEMessage[] {
    const out: SSEMessage[] = [];
    let text = chunk;
    // A CRLF split across chunks: drop the LF that completes a CR already handled.
    if (this.sawCR && text.startsWith("\n")) text = text.slice(1);
    this.sawCR = false;
    this.buf += text;
    for (;;) {
      const m = /\r\n|\r|\n/.exec(this.buf);
      if (!m) break;
      if (m[0] === "\r" && m.index === this.buf.length - 1) {
        // lone CR at the end: could be the start of CRLF; handle it now and skip a following LF.
        this.sawCR = true;
      }
      const line = this.buf.slice(0, m.index);
      this.buf = this.buf.slice(m.index + m[0].length);
      const msg = this.line(line);
      if (msg) out.push(msg);
    }
    return out;
  }

  private line(line: string): SSEMessage | null {
    if (line === "") {
      if (this.data.length === 0) {
        this.event = "";
        return null;
      }
      const msg: SSEMessage = { id: this.id, event: this.event || "message", data: this.data.join("\n"), retry: this.retry };
      this.data = [];
      this.event = "";
      this.retry = null;
      return msg;
    }
    if (line.startsWith(":")) return null; // comment / heartbeat
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    switch (field) {
      case "data":
        this.data.push(value);
        break;
      case "event":
        this.event = value;
        break;
      case "id":
        if (!value.includes("\0")) this.id = value;
        break;
      case "retry":
        if (/^\d+$/.test(value)) this.retry = parseInt(value, 10);
        break;
    }
    return null;
  }
}

/** parseEvent converts one SSE message to a HallEvent, or null if it is not one. */
export function parseEvent(msg: SSEMessage): HallEvent | null {
  try {
    const ev = JSON.parse(msg.data) as HallEvent;
    if (typeof ev !== "object" || ev === null) return null;
    if (typeof ev.id !== "number") {
      const n = msg.id !== null ? Number(msg.id) : NaN;
      if (!Number.isFinite(n)) return null;
      ev.id = n;
    }
    if (!ev.type) ev.type = msg.event;
    if (!ev.data) ev.data = {};
    return ev;
  } catch {
    return null;
  }
}

export type StreamState = "connecting" | "live" | "reconnecting" | "stopped";

export interface FollowOptions {
  onEvent: (ev: HallEvent) => void;
  onState?: (s: StreamState, detail?: string) => void;
  /** start after this event id; when undefined the latest id is asked first (limit=1). */
  since?: number;
  fetchImpl?: typeof fetch;
  /** a known recent event id (e.g. status.server.last_event_id): never start before it. */
  minSince?: number;
  /** delays between reconnects in ms (the last one repeats). */
  backoff?: number[];
  /** long-poll from the start (the desktop window, whose webview does not stream responses). */
  poll?: boolean;
}

/**
 * EventFollower follows GET /api/events as SSE. It learns the latest id first so history is
 * not replayed, reconnects with since=<last id> (and Last-Event-ID) so nothing is lost, and
 * drops duplicates by id.
 */
export class EventFollower {
  lastId = 0;
  private stopped = false;
  private ctrl: AbortController | null = null;
  private attempt = 0;
  /** SSE attempts in a row that received nothing; at 3 the follower long-polls instead. */
  private silent = 0;
  /** long-poll mode: for webviews or proxies that do not stream responses. */
  polling = false;
  /** whether the last request reached the Hall: a long-poll after a (re)connect asks with timeout=0 first,
   * so "live" shows as soon as the Hall answers, not after a quiet 25 s wait. */
  private connected = false;
  private readonly opts: FollowOptions;

  constructor(opts: FollowOptions) {
    this.opts = opts;
    if (opts.since !== undefined) this.lastId = opts.since;
    this.polling = !!opts.poll;
  }

  async start(): Promise<void> {
    this.opts.onState?.("connecting");
    if (this.opts.since === undefined) {
      try {
        const r = await getEvents({ limit: 1, timeout: 0, since: 0 });
        const ids = r.events.map((e) => e.id);
        this.lastId = Math.max(this.lastId, r.last_id || 0, this.opts.minSince ?? 0, ...ids);
      } catch (e) {
        this.lastId = Math.max(this.lastId, this.opts.minSince ?? 0);
        this.opts.onState?.("reconnecting", e instanceof Error ? e.message : String(e));
      }
    }
    void this.loop();
  }

  stop(): void {
    this.stopped = true;
    this.ctrl?.abort();
    this.opts.onState?.("stopped");
  }

  private deliver(ev: HallEvent): void {
    if (ev.id <= this.lastId) return;
    this.lastId = ev.id;
    this.opts.onEvent(ev);
  }

  private async loop(): Promise<void> {
    const f = this.opts.fetchImpl ?? fetch.bind(globalThis);
    const backoff = this.opts.backoff ?? [500, 1000, 2000, 5000, 10000];
    while (!this.stopped) {
      this.ctrl = new AbortController();
      if (this.polling) {
        if (await this.pollOnce(f)) continue;
      } else {
        const gotBytes = await this.streamOnce(f);
        if (this.stopped) return;
        this.silent = gotBytes ? 0 : this.silent + 1;
        if (this.silent >= 3) {
          // The stream never got through (a webview or proxy that buffers responses): long-poll the same
          // endpoint instead, from the same id, so nothing is lost.
          this.polling = true;
          this.attempt = 0;
          continue;
        }
      }
      const delay = backoff[Math.min(this.attempt, backoff.length - 1)];
      this.attempt++;
      await new Promise((r) => setTimeout(r, delay));
    }
  }

  /** streamOnce follows one SSE response until it ends or fails; true if any bytes arrived. */
  private async streamOnce(f: typeof fetch): Promise<boolean> {
    let gotBytes = false;
    try {
      const headers = authHeaders({ Accept: "text/event-stream" });
      if (this.lastId > 0) headers["Last-Event-ID"] = String(this.lastId);
      const res = await f(url("/api/events", { since: this.lastId }), { headers, signal: this.ctrl?.signal, cache: "no-store" });
      if (!res.ok) throw await toApiError(res);
      if (!res.body) throw new Error("the browser cannot stream responses");
      this.attempt = 0;
      this.opts.onState?.("live");
      const parser = new SSEParser();
      const reader = res.body.getReader();
      const dec = new TextDecoder();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        gotBytes = true;
        for (const msg of parser.push(dec.decode(value, { stream: true }))) {
          const ev = parseEvent(msg);
          if (ev) this.deliver(ev);
        }
      }
      if (!this.stopped) this.opts.onState?.("reconnecting", "the event stream ended");
    } catch (e) {
      if (this.stopped) return gotBytes;
      const detail = e instanceof ApiError ? e.message : e instanceof Error ? e.message : String(e);
      // On 401 the app shows the token screen; retrying continues so the stream resumes once it is entered.
      this.opts.onState?.("reconnecting", detail);
    }
    return gotBytes;
  }

  /** pollOnce waits up to 25 s for events after lastId (GET /api/events long-poll; no wait while not yet
   * connected); false on failure. */
  private async pollOnce(f: typeof fetch): Promise<boolean> {
    try {
      const res = await f(url("/api/events", { since: this.lastId, timeout: this.connected ? 25 : 0, limit: 1000 }), {
        headers: authHeaders({ Accept: "application/json" }),
        signal: this.ctrl?.signal,
        cache: "no-store",
      });
      if (!res.ok) throw await toApiError(res);
      const body = (await res.json()) as { events: HallEvent[] };
      this.attempt = 0;
      if (!this.connected) this.opts.onState?.("live", "long-poll");
      this.connected = true;
      for (const ev of body.events ?? []) this.deliver(ev);
      return true;
    } catch (e) {
      if (this.stopped) return true;
      this.connected = false;
      this.opts.onState?.("reconnecting", e instanceof Error ? e.message : String(e));
      return false;
    }
  }
}
