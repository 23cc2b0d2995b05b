import { afterEach, describe, expect, it, vi } from "vitest";
import * as api from "../src/api";
import { EventFollower, SSEParser, parseEvent } from "../src/sse";

describe("SSEParser", () => {
  it("parses events split across chunks with id, event and multi-line data", () => {
    const p = new SSEParser();
    expect(p.push("id: 7\nevent: decision.rec")).toEqual([]);
    const out = p.push('orded\ndata: {"a":\ndata: 1}\n\n');
    expect(out).toEqual([{ id: "7", event: "decision.recorded", data: '{"a":\n1}', retry: null }]);
  });

  it("ignores comments (heartbeats) and handles CRLF split between chunks", () => {
    const p = new SSEParser();
    expect(p.push(": heartbeat\r\n\r\n")).toEqual([]);
    const a = p.push("data: x\r");
    const b = p.push("\n\r\n");
    expect([...a, ...b]).toEqual([{ id: null, event: "message", data: "x", retry: null }]);
  });

  it("keeps the last id for following events and reads retry", () => {
    const p = new SSEParser();
    const out = p.push("id: 3\nretry: 5000\ndata: a\n\ndata: b\n\n");
    expect(out.map((m) => [m.id, m.data, m.retry])).toEqual([
      ["3", "a", 5000],
      ["3", "b", null],
    ]);
  });

  it("parseEvent uses the SSE id when the JSON lacks one and rejects garbage", () => {
    expect(parseEvent({ id: "9", event: "x", data: '{"type":"x","data":{}}', retry: null })?.id).toBe(9);
    expect(parseEvent({ id: null, event: "x", data: "not json", retry: null })).toBeNull();
  });
});

function sseBody(chunks: string[]): ReadableStream<Uint8Array> {
  const enc = new TextEncoder();
  return new ReadableStream({
    start(c) {
      for (const ch of chunks) c.enqueue(enc.encode(ch));
      c.close();
    },
  });
}

const ev = (id: number, type = "decision.recorded") => `id: ${id}\nevent: ${type}\ndata: ${JSON.stringify({ id, type, time: "2026-01-01T00:00:00Z", data: { n: id } })}\n\n`;

describe("EventFollower", () => {
  afterEach(() => vi.unstubAllGlobals());

  it("learns the latest id first, reconnects with since= and Last-Event-ID, and drops duplicates", async () => {
    api.configure({ base: "", token: "t" });
    // limit=1 probe
    vi.stubGlobal("fetch", async () => new Response(JSON.stringify({ events: [{ id: 10, type: "x", time: "", data: {} }], last_id: 10 }), { status: 200 }));
    const seen: number[] = [];
    const requests: { url: string; headers: Record<string, string> }[] = [];
    let n = 0;
    let f!: EventFollower;
    const done = new Promise<void>((resolve) => {
      f = new EventFollower({
        backoff: [1],
        onEvent: (e) => {
          seen.push(e.id);
          if (e.id === 13) resolve();
        },
        fetchImpl: async (u, init) => {
          requests.push({ url: String(u), headers: init?.headers as Record<string, string> });
          n++;
          if (n === 1) return new Response(sseBody([ev(10), ev(11), ": hb\n\n", ev(12).slice(0, 20)]), { status: 200 });
          if (n === 2) return new Response("{}", { status: 503 });
          return new Response(sseBody([ev(12), ev(12), ev(13)]), { status: 200 });
        },
      });
    });
    await f.start();
    await done;
    f.stop();
    expect(seen).toEqual([11, 12, 13]);
    expect(requests[0].url).toBe("/api/events?since=10");
    expect(requests[0].headers.Accept).toBe("text/event-stream");
    expect(requests[0].headers.Authorization).toBe("Bearer t");
    expect(requests[1].url).toBe("/api/events?since=11");
    expect(requests[1].headers["Last-Event-ID"]).toBe("11");
  });

  it("falls back to long-poll from the same id when the stream never gets through", async () => {
    api.configure({ base: "", token: "t" });
    const seen: number[] = [];
    const urls: string[] = [];
    let f!: EventFollower;
    const done = new Promise<void>((resolve) => {
      f = new EventFollower({
        since: 5,
        backoff: [1],
        onEvent: (e) => {
          seen.push(e.id);
          if (e.id === 7) resolve();
        },
        fetchImpl: async (u, init) => {
          urls.push(String(u));
          const accept = (init?.headers as Record<string, string>).Accept;
          if (accept === "text/event-stream") return new Response(sseBody([]), { status: 200 }); // ends with nothing
          return new Response(JSON.stringify({ events: [6, 7].map((id) => ({ id, type: "x", time: "", data: {} })), last_id: 7 }), { status: 200 });
        },
      });
    });
    await f.start();
    await done;
    f.stop();
    expect(f.polling).toBe(true);
    expect(seen).toEqual([6, 7]);
    expect(urls.slice(0, 3)).toEqual(Array(3).fill("/api/events?since=5"));
    expect(urls[3]).toBe("/api/events?since=5&timeout=0&limit=1000");
  });

  it("long-polls from the start when asked (the desktop window)", async () => {
    api.configure({ base: "", token: "t" });
    const urls: string[] = [];
    let f!: EventFollower;
    const done = new Promise<void>((resolve) => {
      f = new EventFollower({
        since: 1,
        poll: true,
        onEvent: () => resolve(),
        fetchImpl: async (u) => {
          urls.push(String(u));
          return new Response(JSON.stringify({ events: [{ id: 2, type: "x", time: "", data: {} }], last_id: 2 }), { status: 200 });
        },
      });
    });
    await f.start();
    await done;
    f.stop();
    expect(urls[0]).toBe("/api/events?since=1&timeout=0&limit=1000");
  });

  it("shows live as soon as the Hall answers the first poll, then waits up to 25 s per poll", async () => {
    api.configure({ base: "", token: "t" });
    const urls: string[] = [];
    const states: string[] = [];
    let f!: EventFollower;
    const done = new Promise<void>((resolve) => {
      f = new EventFollower({
        since: 1,
        poll: true,
        backoff: [1],
        onEvent: () => undefined,
        onState: (s) => states.push(s),
        fetchImpl: async (u) => {
          urls.push(String(u));
          if (urls.length === 2) return new Response("{}", { status: 503 }); // the Hall restarts
          if (urls.length === 5) resolve();
          return new Response(JSON.stringify({ events: [], last_id: 1 }), { status: 200 });
        },
      });
    });
    await f.start();
    await done;
    f.stop();
    expect(urls.slice(0, 4).map((u) => new URL(u, "http://x").searchParams.get("timeout"))).toEqual(["0", "25", "0", "25"]);
    expect(states.slice(0, 4)).toEqual(["connecting", "live", "reconnecting", "live"]);
  });
});
