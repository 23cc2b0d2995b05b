// Rules: the rules in force (file, hash, shadow warnings), a draft edited with a form and templates,
// reordered and deleted; "Try it first" replays recorded requests through the draft; Save writes it
// with If-Match (a concurrent edit or a hand edit of the file is a 412, never a silent overwrite).

import * as api from "../api";
import type { Rule, RulesDoc, RulesPreview } from "../api";
import type { Screen } from "../app";
import { h, replace } from "../dom";
import { ruleEditor } from "../rules/editor";
import { emptyForm, formToRule, matchSummary, move, ruleField, ruleToForm, template, TEMPLATES, uniqueId, workersOf, type RuleForm, type TemplateId } from "../rules/model";
import { previewView } from "../rules/preview";
import { badge, busy, errorBox, showFieldError, toast } from "../ui";

export function createRulesScreen(): Screen {
  let root: HTMLElement;
  let doc: RulesDoc | null = null;
  let draft: Rule[] = [];
  let dirty = false;
  let editing: { index: number; form: RuleForm; base: Rule } | null = null;
  let preview: RulesPreview | null = null;
  let problem: { index: number; error: unknown } | null = null;
  let loadError: unknown = null;
  let stale = false;
  let caps: { capability_id: string; workers: string[] }[] = [];

  async function load(): Promise<void> {
    try {
      doc = await api.getRules();
      draft = JSON.parse(JSON.stringify(doc.rules));
      dirty = stale = false;
      editing = null;
      preview = problem = null;
      loadError = null;
    } catch (e) {
      loadError = e;
    }
    try {
      caps = (await api.capabilities()).capabilities;
    } catch {
      caps = [];
    }
    render();
  }

  function change(next: Rule[]): void {
    draft = next;
    dirty = true;
    preview = problem = null;
    render();
  }

  function header(): HTMLElement {
    const d = doc!;
    return h(
      "section",
      { class: "panel" },
      h("p", null, "The Hall routes a request with the first rule that matches it; with no matching rule it is denied."),
      h(
        "dl",
        { class: "kv" },
        h("dt", null, "Rules file"),
        h("dd", { class: "mono wrap" }, d.path || "—"),
        h("dt", null, "Rules hash"),
        h("dd", { class: "mono wrap", "data-testid": "rules-hash" }, d.rules_hash),
        h("dt", null, "Rules"),
        h("dd", null, String(d.rules.length)),
      ),
      d.error ? h("p", { class: "warn-text", role: "status" }, d.error) : null,
      d.shadow_warnings.length
        ? h(
            "ul",
            { class: "shadow-warnings", "aria-label": "Shadow warnings" },
            d.shadow_warnings.map((w) =>
              h("li", { class: "warn-text" }, `⚠ Rule ${w.shadowed_rule_id} can never match: ${w.shadower_rule_id} above it matches everything it does${w.identical ? " (identical)" : ""}. In prod and edge every request is denied (DENY_SHADOW_RULES_DETECTED) until it is fixed.`),
            ),
          )
        : null,
    );
  }

  function table(): HTMLElement {
    if (draft.length === 0) return h("p", { class: "muted", "data-testid": "no-rules" }, "No rules yet: every request is denied. Add one from a template below.");
    const shadowed = new Set(doc?.shadow_warnings.map((w) => w.shadowed_rule_id));
    return h(
      "table",
      { class: "grid fit", "aria-label": "Rules in match order" },
      h("thead", null, h("tr", null, ["#", "Rule", "Routes to", "Actions"].map((t) => h("th", { scope: "col" }, t)))),
      h(
        "tbody",
        null,
        draft.map((r, i) => {
          const id = String(r.rule_id ?? "");
          const btn = (label: string, action: string, title: string, fn: () => void, disabled = false) => {
            const b = h("button", { type: "button", class: "btn btn-small", "data-action": action, title, "aria-label": `${title} ${id}`, disabled }, label);
            b.addEventListener("click", fn);
            return b;
          };
          return h(
            "tr",
            { "data-rule": id, class: problem?.index === i ? "row-denied" : "" },
            h("td", null, String(i + 1)),
            h(
              "td",
              null,
              h("div", { class: "mono strong wrap" }, id, shadowed.has(id) && !dirty ? [" ", badge("SHADOWED", "warn")] : null),
              h("div", { class: "mono small muted wrap" }, matchSummary(r)),
              problem?.index === i ? errorBox(problem.error, "Not valid") : null,
            ),
            h("td", { class: "mono small wrap" }, workersOf(r).join(" → ") || "—"),
            h(
              "td",
              null,
              h(
                "div",
                { class: "actions actions-wrap" },
                h(
                  "div",
                  { class: "actions" },
                  btn("↑", "up", "Move up", () => change(move(draft, i, -1)), i === 0),
                  btn("↓", "down", "Move down", () => change(move(draft, i, 1)), i === draft.length - 1),
                ),
                btn("Edit", "edit", "Edit rule", () => startEdit(i)),
                btn("Delete", "delete", "Delete rule", () => change(draft.filter((_, j) => j !== i))),
              ),
            ),
          );
        }),
      ),
    );
  }

  function startEdit(index: number, form?: RuleForm): void {
    const base = index < draft.length ? draft[index] : {};
    editing = { index, form: form ?? ruleToForm(base), base };
    render();
    root.querySelector<HTMLElement>(".rule-editor input")?.focus();
  }

  function finishEdit(apply: boolean): void {
    if (!editing) return;
    if (apply) {
      const r = formToRule(editing.form, editing.base);
      const next = draft.slice();
      if (editing.index < next.length) next[editing.index] = r;
      else next.push(r);
      editing = null;
      change(next);
      return;
    }
    editing = null;
    render();
  }

  function addPanel(): HTMLElement {
    const sel = h("select", { id: "rules-template", "aria-label": "Template" }, TEMPLATES.map(([id, label]) => h("option", { value: id }, label)));
    const cap = h("input", { id: "rules-template-cap", type: "text", placeholder: "cap.example.echo", list: "rules-caps", "aria-label": "Capability" });
    const worker = h("input", { id: "rules-template-worker", type: "text", placeholder: "wrk.example.echo", list: "rules-workers", "aria-label": "Worker species" });
    cap.addEventListener("input", () => {
      const c = caps.find((x) => x.capability_id === cap.value.trim());
      if (c && !worker.value) worker.value = c.workers[0] ?? "";
    });
    const add = h("button", { type: "button", class: "btn", "data-action": "add-template" }, "Add from template");
    add.addEventListener("click", () => startEdit(draft.length, template(sel.value as TemplateId, cap.value.trim(), worker.value.trim(), draft)));
    const blank = h("button", { type: "button", class: "btn", "data-action": "add-blank" }, "Add a blank rule");
    blank.addEventListener("click", () => {
      const f = emptyForm();
      f.rule_id = uniqueId("rule", draft);
      startEdit(draft.length, f);
    });
    return h(
      "section",
      { class: "panel" },
      h("h2", null, "Add a rule"),
      h(
        "div",
        { class: "field-row" },
        h("div", { class: "field" }, h("label", { for: "rules-template" }, "Template"), sel),
        h("div", { class: "field" }, h("label", { for: "rules-template-cap" }, "Capability"), cap),
        h("div", { class: "field" }, h("label", { for: "rules-template-worker" }, "Worker species"), worker),
      ),
      h("datalist", { id: "rules-caps" }, caps.map((c) => h("option", { value: c.capability_id }))),
      h("datalist", { id: "rules-workers" }, [...new Set(caps.flatMap((c) => c.workers))].map((w) => h("option", { value: w }))),
      h("p", { class: "hint" }, "“Prod needs a person's approval” turns on the policy gate: prod requests on RESTRICTED data or from high-risk tenants then wait on the Approvals screen."),
      h("div", { class: "actions" }, add, blank),
    );
  }

  function previewPanel(): HTMLElement {
    const limit = h("input", { id: "rules-replay-n", type: "number", min: "1", max: "10000", value: "1000", "aria-label": "Requests to replay" });
    const slot = h("div", null, preview ? previewView(preview) : null);
    const run = h("button", { type: "button", class: "btn", "data-action": "try-rules" }, "Try it first");
    run.addEventListener("click", () =>
      busy(run, "Replaying…", async () => {
        try {
          preview = await api.previewRules(draft, Number(limit.value) || undefined);
          problem = null;
          replace(slot, previewView(preview));
        } catch (e) {
          report(e);
          replace(slot, errorBox(e, "Cannot replay with these rules"));
        }
      }),
    );
    return h(
      "section",
      { class: "panel" },
      h("h2", null, "Try it first"),
      h("p", null, "Replays the last recorded requests through the rules in force and through your draft (dry runs: nothing is recorded, no worker runs) and lists the decisions that would change."),
      h("div", { class: "actions" }, h("label", { for: "rules-replay-n" }, "Last"), limit, h("span", null, "requests"), run),
      slot,
    );
  }

  /** report shows a validation error at its rule (and in the form when that rule is open). */
  function report(e: unknown): void {
    const rf = e instanceof api.ApiError ? ruleField(e.field) : null;
    if (!rf || !(e instanceof api.ApiError)) return;
    problem = { index: rf.index, error: e };
    if (!editing && rf.index < draft.length) startEdit(rf.index);
    else render();
    const form = root.querySelector<HTMLElement>(".rule-editor");
    if (form && editing?.index === rf.index) showFieldError(form, new api.ApiError(e.status, e.code, e.message, rf.path));
  }

  function saveBar(): HTMLElement {
    const save = h("button", { type: "button", class: "btn btn-primary", "data-action": "save-rules", disabled: !dirty || !!editing }, "Save rules");
    const slot = h("div");
    save.addEventListener("click", () =>
      busy(save, "Saving…", async () => {
        try {
          doc = await api.putRules(draft, doc!.etag);
          draft = JSON.parse(JSON.stringify(doc.rules));
          dirty = false;
          preview = problem = null;
          toast(`Rules saved and in force (hash ${doc.rules_hash.slice(0, 12)}…)`, "ok");
          render();
        } catch (e) {
          if (e instanceof api.ApiError && e.status === 412) {
            stale = true;
            render();
            return;
          }
          report(e);
          replace(slot, errorBox(e, "Rules not saved"));
        }
      }).then(() => {
        save.disabled = !dirty || !!editing;
      }),
    );
    const discard = h("button", { type: "button", class: "btn", disabled: !dirty && !stale, "data-action": "discard-rules" }, stale ? "Reload the file (drops your draft)" : "Discard changes");
    discard.addEventListener("click", () => void load());
    return h(
      "section",
      { class: "panel" },
      stale
        ? h("p", { class: "error-box", role: "alert" }, "The rules file changed since you opened it (another editor, or a hand edit). Your draft was not saved: reload to see the file, then apply your change again.")
        : dirty
          ? h("p", { class: "warn-text" }, "Unsaved draft: the rules in force are unchanged until you save.")
          : h("p", { class: "muted" }, "No unsaved changes."),
      h("div", { class: "actions" }, save, discard),
      slot,
    );
  }

  function render(): void {
    if (loadError) {
      replace(root, h("div", { class: "screen-head" }, h("h1", null, "Rules")), errorBox(loadError, "Cannot read the rules"));
      return;
    }
    if (!doc) {
      replace(root, h("div", { class: "screen-head" }, h("h1", null, "Rules")), h("p", { class: "muted" }, "Loading…"));
      return;
    }
    const editor = editing
      ? ruleEditor(editing.form, editing.index < draft.length ? `Edit rule ${editing.index + 1}` : "New rule", finishEdit)
      : null;
    replace(
      root,
      h("div", { class: "screen-head" }, h("h1", null, "Rules")),
      header(),
      h("section", { class: "panel" }, h("h2", null, dirty ? "Draft (not saved)" : "Rules in match order"), table()),
      editor,
      editing ? null : addPanel(),
      previewPanel(),
      saveBar(),
    );
  }

  return {
    id: "rules",
    title: "Rules",
    mount(el) {
      root = el;
      doc = null;
      render();
      void load();
    },
  };
}
