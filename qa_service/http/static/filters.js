// The chat page's filters: which sources and which dates may answer. They go into each
// question's `filters` (docs/api.md). A small button beside the status line opens them in
// a popover over the conversation, so that they take no room from the answers.
"use strict";

(() => {
  const { el } = QA;
  const toggle = document.getElementById("filters-toggle");
  const sourceBox = document.getElementById("filter-sources");
  const sourceList = sourceBox.querySelector(".source-list");
  const from = document.getElementById("filter-from");
  const to = document.getElementById("filter-to");
  const clear = document.getElementById("filters-clear");

  let known = [];               // the served documents' sources: [{source, documents}]
  const selected = new Set();   // as the facets spell them, or as a share link did
  let span = { earliest: "", latest: "" };

  // The filters of the next question: null when none is set.
  function current() {
    const f = {};
    if (selected.size) f.sources = [...selected];
    if (from.value) f.date_from = from.value;
    if (to.value) f.date_to = to.value;
    return Object.keys(f).length ? f : null;
  }

  // In words: "RT, RFE/RL; 2016-06-01 to 2016-06-30".
  function describe(f) {
    if (!f) return "";
    const parts = [];
    if (f.sources && f.sources.length) parts.push(f.sources.join(", "));
    if (f.date_from && f.date_to) parts.push(`${f.date_from} to ${f.date_to}`);
    else if (f.date_from) parts.push(`from ${f.date_from}`);
    else if (f.date_to) parts.push(`until ${f.date_to}`);
    return parts.join("; ");
  }

  function update() {
    const f = current();
    toggle.textContent = f ? `Filters: ${describe(f)}` : "Filters";
    toggle.classList.toggle("active", f !== null);
    // Each end of the range keeps the other in bounds (and within the documents' dates).
    from.min = span.earliest || "";
    from.max = to.value || span.latest || "";
    to.min = from.value || span.earliest || "";
    to.max = span.latest || "";
  }

  // One checkbox a source; a source chosen by a share link that the listing does not
  // name is kept too, so it can be seen and unticked.
  function renderSources() {
    const byName = new Map(known.map((s) => [s.source.toLowerCase(), s.source]));
    for (const s of [...selected]) {
      const spelt = byName.get(s.toLowerCase());
      if (spelt && spelt !== s) {
        selected.delete(s);
        selected.add(spelt);
      }
    }
    const extra = [...selected].filter((s) => !byName.has(s.toLowerCase()))
      .map((source) => ({ source, documents: null }));
    sourceList.replaceChildren(...[...known, ...extra].map((s, i) => {
      const box = el("input", { type: "checkbox", id: `filter-source-${i}`,
                                checked: selected.has(s.source) });
      box.addEventListener("change", () => {
        if (box.checked) selected.add(s.source);
        else selected.delete(s.source);
        update();
      });
      return el("li", {}, box, el("label", { for: `filter-source-${i}` }, s.source,
        s.documents === null ? null
          : el("span", { class: "count", text: ` (${s.documents})` })));
    }));
    sourceBox.hidden = !known.length && !extra.length;
  }

  // What the served documents can be filtered by (the listing's facets).
  function setFacets(facets) {
    if (!facets || !Array.isArray(facets.sources)) return;
    known = facets.sources.filter((s) => s && typeof s.source === "string");
    span = { earliest: (facets.dates && facets.dates.earliest) || "",
             latest: (facets.dates && facets.dates.latest) || "" };
    renderSources();
    update();
  }

  // Set them all at once (a share link's, or none).
  function set(f) {
    selected.clear();
    for (const s of (f && f.sources) || []) selected.add(s);
    from.value = (f && f.date_from) || "";
    to.value = (f && f.date_to) || "";
    renderSources();
    update();
  }

  from.addEventListener("change", update);
  to.addEventListener("change", update);
  clear.addEventListener("click", () => set(null));
  renderSources();
  update();

  QA.filters = { current, describe, set, setFacets };
})();
