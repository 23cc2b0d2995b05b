// The coordination feed: the event types it shows, the tag and one-line summary of a row, and
// the list itself (newest first).

import type { HallEvent } from "../../api";
import { h } from "../../dom";
import { formatDateTime, formatTime } from "../../time";
import { errorBox } from "../../ui";
import { STATUS_LABEL } from "./board";

/** The event types of the feed: coordination and dispatches. */
export const FEED_TYPES = [
  "coord.task.created",
  "coord.task.updated",
  "coord.task.completed",
  "coord.message",
  "coord.agent",
  "coord.lock.acquired",
  "coord.lock.released",
  "dispatch.started",
  "dispatch.finished",
];
export const FEED_MAX = 200;

/** feedTag is the short type label of a feed row. */
export function feedTag(ev: HallEvent): string {
  const d = ev.data;
  switch (ev.type) {
    case "coord.task.created":
      return "NEW";
    case "coord.task.completed":
      return "DONE";
    case "coord.task.updated":
      return "TASK";
    case "coord.message":
      return d.msg_type === "alert" ? "ALERT" : d.msg_type === "result" ? "RESULT" : "MSG";
    case "coord.agent":
      return "AGENT";
    case "coord.lock.acquired":
      return "LOCK";
    case "coord.lock.released":
      return "UNLOCK";
    case "dispatch.started":
      return "RUN";
    case "dispatch.finished":
      return "RUN ✓";
  }
  return ev.type.split(".").pop()!.slice(0, 6).toUpperCase();
}

/** feedSummary is the one-line text of a feed row. */
export function feedSummary(ev: HallEvent): string {
  const d = ev.data;
  const s = (k: string) => (typeof d[k] === "string" ? (d[k] as string) : "");
  switch (ev.type) {
    case "coord.task.created":
      return `new task ${s("id")}: ${s("title")} (by ${s("created_by")}, owner ${s("owner")})`;
    case "coord.task.completed":
      return `task ${s("id")} completed by ${s("completed_by")}${s("result") ? ` — ${s("result")}` : ""}`;
    case "coord.task.updated":
      return `${s("id")} ${(STATUS_LABEL[s("status")] || s("status")).toLowerCase()}${s("claimed_by") ? `, claimed by ${s("claimed_by")}` : ""}, owner ${s("owner")} (by ${s("updated_by")})`;
    case "coord.message":
      return `${s("from")} → ${s("to")}: ${s("message")}`;
    case "coord.agent":
      return `agent ${s("id")} (${s("type")}) is ${s("status")}`;
    case "coord.lock.acquired":
      return `${s("holder")} locked ${s("path")} until ${formatTime(s("expires_at"))}`;
    case "coord.lock.released":
      return `${s("released_by")} released ${s("path")}`;
    case "dispatch.started":
      return `${s("capability_id")} → ${s("worker_species_id")} started`;
    case "dispatch.finished":
      return `${s("capability_id")} → ${s("worker_species_id")} ${s("outcome")}${s("error") ? `: ${s("error")}` : ""}`;
  }
  return JSON.stringify(d).slice(0, 80);
}

/** feedList is the feed's rows, newest first, with the history's load error if any. */
export function feedList(feed: Map<number, HallEvent>, feedError: unknown, feedLoaded: boolean): (HTMLElement | null)[] {
  const evs = [...feed.values()].sort((a, b) => b.id - a.id).slice(0, FEED_MAX);
  return [
    feedError ? errorBox(feedError, "Cannot load the event history") : null,
    evs.length === 0
      ? h("p", { class: "muted" }, feedLoaded ? "No events yet." : "Loading…")
      : h(
          "ol",
          { class: "coord-feed", "aria-label": "Coordination events, newest first" },
          evs.map((ev) =>
            h(
              "li",
              { class: `feed-row${ev.type === "coord.message" ? " feed-ping" : ""}`, "data-event-id": ev.id, "data-type": ev.type },
              h("time", { class: "mono small muted", datetime: ev.time, title: formatDateTime(ev.time) }, formatTime(ev.time)),
              h("span", { class: "feed-tag" }, feedTag(ev)),
              h("span", { class: "feed-summary" }, feedSummary(ev)),
            ),
          ),
        ),
  ];
}
