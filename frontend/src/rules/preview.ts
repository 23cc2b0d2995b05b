// "Try it first": the counts and the table of recorded requests the edited rules would decide
// differently (POST /api/rules/preview).

import type { FlipOutcome, RulesPreview } from "../api";
import { h } from "../dom";
import { badge } from "../ui";

const KIND_CLASS: Record<string, string> = {
  "allowed→denied": "bad",
  "pending→denied": "bad",
  "denied→allowed": "ok",
  "pending→allowed": "ok",
};

/** flipSummary is the one-line answer: how many of how many would change, by kind. */
export function flipSummary(p: RulesPreview["preview"]): string {
  if (p.replayed === 0) return "No recorded requests to replay yet: route some requests first, or save and watch the feed.";
  if (p.flipped === 0) return `None of the last ${p.replayed} recorded requests would be decided differently.`;
  const parts = Object.entries(p.counts)
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${n} ${k}`);
  return `${p.flipped} of the last ${p.replayed} recorded requests would flip: ${parts.join(", ")}.`;
}

function outcome(o: FlipOutcome): HTMLElement {
  const kind = o.outcome === "allowed" ? "ok" : o.outcome === "denied" ? "bad" : "warn";
  return h(
    "div",
    null,
    badge(o.outcome.toUpperCase(), kind),
    h("div", { class: "mono small wrap" }, o.worker || o.deny_code || "—"),
    o.rule_id && o.rule_id !== "NO_MATCH" ? h("div", { class: "muted small wrap" }, "rule ", o.rule_id) : h("div", { class: "muted small" }, "no rule matches"),
  );
}

export function previewView(r: RulesPreview): HTMLElement {
  const p = r.preview;
  return h(
    "div",
    { class: "rules-preview", "data-testid": "rules-preview", "aria-live": "polite" },
    h("p", { class: p.flipped ? "warn-text" : "ok-text", "data-testid": "flip-summary" }, flipSummary(p)),
    h(
      "ul",
      { class: "flip-counts" },
      Object.entries(p.counts).map(([k, n]) => h("li", { "data-kind": k }, badge(`${n} ${k}`, KIND_CLASS[k] ?? "info"))),
      p.skipped ? h("li", null, badge(`${p.skipped} skipped (input no longer valid)`, "muted")) : null,
    ),
    p.flips.length
      ? h(
          "table",
          { class: "grid fit", "aria-label": "Decisions that would flip" },
          h("thead", null, h("tr", null, ["Request", "Now", "With your edit"].map((t) => h("th", { scope: "col" }, t)))),
          h(
            "tbody",
            null,
            p.flips.map((f) =>
              h(
                "tr",
                { "data-kind": f.kind },
                h("td", null, h("div", { class: "mono small wrap" }, f.capability_id), h("div", { class: "muted small" }, `${f.env} · ${f.tenant_id}`), h("div", { class: "small" }, f.kind)),
                h("td", null, outcome(f.before)),
                h("td", null, outcome(f.after)),
              ),
            ),
          ),
        )
      : null,
    p.truncated ? h("p", { class: "muted small" }, `Showing the first ${p.flips.length}; the counts include all.`) : null,
  );
}
