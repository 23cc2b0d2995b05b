// The live feed's model: newest-first rows capped at feed_max_rows, a pause buffer that really
// buffers (and is flushed on resume), de-duplication by decision id, and older-history paging.

import type { DecisionFilter, DecisionSummary } from "./api";
import { matches } from "./filters";

export class FeedModel {
  rows: DecisionSummary[] = [];
  buffer: DecisionSummary[] = [];
  paused = false;
  maxRows: number;
  filter: DecisionFilter = {};
  /** cursor for the next page of older stored history; null when there is none. */
  nextCursor: string | null = null;
  /** true once rows were dropped at the cap (older paging would then leave a gap). */
  capped = false;
  private seen = new Set<string>();

  constructor(maxRows = 500) {
    this.maxRows = Math.max(1, maxRows);
  }

  /** reset starts over (new filter): clears rows, buffer and paging state. */
  reset(filter: DecisionFilter = this.filter): void {
    this.filter = filter;
    this.rows = [];
    this.buffer = [];
    this.seen.clear();
    this.nextCursor = null;
    this.capped = false;
  }

  setMaxRows(n: number): void {
    this.maxRows = Math.max(1, Math.floor(n) || 1);
    this.trim();
  }

  /** addLive takes a decision from the event stream; returns "shown", "buffered" or "ignored". */
  addLive(d: DecisionSummary): "shown" | "buffered" | "ignored" {
    if (!matches(d, this.filter)) return "ignored";
    if (this.seen.has(d.decision_id)) return "ignored";
    this.seen.add(d.decision_id);
    if (this.paused) {
      this.buffer.push(d);
      return "buffered";
    }
    this.rows.unshift(d);
    this.trim();
    return "shown";
  }

  /** appendHistory adds an older page (newest first) below the current rows. */
  appendHistory(page: DecisionSummary[], nextCursor: string | null): number {
    let added = 0;
    for (const d of page) {
      if (this.rows.length >= this.maxRows) {
        this.capped = true;
        break;
      }
      if (this.seen.has(d.decision_id)) continue;
      this.seen.add(d.decision_id);
      this.rows.push(d);
      added++;
    }
    this.nextCursor = nextCursor;
    return added;
  }

  canLoadMore(): boolean {
    return !!this.nextCursor && !this.capped && this.rows.length < this.maxRows;
  }

  pause(): void {
    this.paused = true;
  }

  /** resume flushes the buffer (oldest first, so newest ends on top); returns how many were flushed. */
  resume(): number {
    this.paused = false;
    const n = this.buffer.length;
    for (const d of this.buffer) this.rows.unshift(d);
    this.buffer = [];
    this.trim();
    return n;
  }

  private trim(): void {
    if (this.rows.length > this.maxRows) {
      for (const d of this.rows.splice(this.maxRows)) this.seen.delete(d.decision_id);
      this.capped = true;
    }
  }
}
