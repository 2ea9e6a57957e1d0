// The documents list (/documents): every indexed document, a page at a time, with its
// title (a link to the document view), source, date and number of passages, filtered by
// source, dates and any metadata field. The filters and the page live in the address,
// so that a filtered list can be linked to, reloaded and gone back to; what the address
// holds is bounded and checked here, and the API checks it again. So does the collection
// listed (?collection=, chosen with a selector when the server has several).
"use strict";

(() => {
  const { el, documentHref, sourceClass, getJSON, withCollection, collections } = QA;
  const PER_PAGE = 20;
  const MAX_PER_PAGE = 100;
  const DATE = /^\d{4}-\d{2}-\d{2}$/;

  const box = document.getElementById("filter-box");
  const summary = document.getElementById("filter-summary");
  const form = document.getElementById("archive-filters");
  const sourceBox = document.getElementById("archive-sources");
  const from = document.getElementById("date-from");
  const to = document.getElementById("date-to");
  const fieldBox = document.getElementById("archive-field");
  const fieldName = document.getElementById("field-name");
  const fieldValue = document.getElementById("field-value");
  const fieldValues = document.getElementById("field-values");
  const status = document.getElementById("archive-status");
  const list = document.getElementById("archive-list");
  const pager = document.getElementById("pager");

  function fromAddress() {
    const params = new URLSearchParams(location.search);
    const count = (name, low, high, fallback) => {
      const raw = params.get(name) || "";
      const n = /^\d{1,9}$/.test(raw) ? Number(raw) : NaN;
      return n >= low && n <= high ? n : fallback;
    };
    const date = (name) => (DATE.test(params.get(name) || "") ? params.get(name) : "");
    return {
      sources: params.getAll("source").map((s) => s.trim().slice(0, 200)).filter(Boolean)
        .slice(0, 50),
      date_from: date("date_from"),
      date_to: date("date_to"),
      field: (params.get("field") || "").trim().slice(0, 64),
      value: (params.get("value") || "").trim().slice(0, 200),
      limit: count("limit", 1, MAX_PER_PAGE, PER_PAGE),
      offset: count("offset", 0, 1e9, 0),
    };
  }
  const state = fromAddress();
  const filtered = (s) => s.sources.length > 0 || !!s.date_from || !!s.date_to ||
    !!(s.field && s.value);

  function filterParams(s, params) {
    for (const source of s.sources) params.append("source", source);
    if (s.date_from) params.set("date_from", s.date_from);
    if (s.date_to) params.set("date_to", s.date_to);
    return params;
  }

  // This page's address for the filters `s`, at `offset`.
  function address(s, offset) {
    const params = filterParams(s, new URLSearchParams());
    if (s.field && s.value) {
      params.set("field", s.field);
      params.set("value", s.value);
    }
    if (s.limit !== PER_PAGE) params.set("limit", s.limit);
    if (offset) params.set("offset", offset);
    const query = params.toString();
    return withCollection(query ? `/documents?${query}` : "/documents");
  }

  function describe(s) {
    const parts = [];
    if (s.sources.length) parts.push(s.sources.join(", "));
    if (s.date_from && s.date_to) parts.push(`${s.date_from} to ${s.date_to}`);
    else if (s.date_from) parts.push(`from ${s.date_from}`);
    else if (s.date_to) parts.push(`until ${s.date_to}`);
    if (s.field && s.value) parts.push(`${s.field}: ${s.value}`);
    return parts.join("; ");
  }

  // The choices, from the facets of the whole archive; what the address chose is kept
  // even when the facets do not name it, so that it shows and can be unticked.
  function showFacets(facets) {
    const known = facets ? facets.sources.map((s) => s.source) : [];
    const lower = new Map(known.map((s) => [s.toLowerCase(), s]));
    const chosen = new Set(state.sources.map((s) => s.toLowerCase()));
    const extra = state.sources.filter((s) => !lower.has(s.toLowerCase()));
    const counts = new Map(facets ? facets.sources.map((s) => [s.source, s.documents]) : []);
    sourceBox.querySelector("ul").replaceChildren(...[...known, ...extra].map((source, i) =>
      el("li", {},
        el("input", { type: "checkbox", name: "source", value: source, id: `source-${i}`,
                      checked: chosen.has(source.toLowerCase()) }),
        el("label", { for: `source-${i}` }, source, counts.has(source)
          ? el("span", { class: "count", text: ` (${counts.get(source)})` }) : null))));
    sourceBox.hidden = known.length + extra.length === 0;

    const fields = facets ? facets.fields : [];
    const names = fields.map((f) => f.field);
    if (state.field && !names.includes(state.field)) names.push(state.field);
    fieldName.replaceChildren(el("option", { value: "", text: "(choose a field)" }),
      ...names.map((name) => el("option", { value: name, text: name,
                                            selected: name === state.field })));
    fieldBox.hidden = names.length === 0;
    const values = () => {
      const field = fields.find((f) => f.field === fieldName.value);
      fieldValues.replaceChildren(...(field ? field.values : []).map((v) =>
        el("option", { value: v })));
    };
    fieldName.onchange = values;  // (once: the list is drawn again after each write)
    values();
    if (facets && facets.dates) {
      for (const input of [from, to]) {
        input.min = facets.dates.earliest || "";
        input.max = facets.dates.latest || "";
      }
    }
  }

  // A document's row; with an admin key (admin.js), its Delete action too.
  function row(doc) {
    const cls = sourceClass(doc.source);
    const passages = doc.paragraph_count;
    return el("li", { class: `doc-row ${cls}` },
      el("div", { class: "doc-row-main" },
        el("h2", { class: "doc-row-title" },
          el("a", { href: documentHref(doc.doc_id), text: doc.title })),
        el("p", { class: "doc-row-meta" },
          el("span", { class: `badge ${cls}`, text: doc.source }),
          el("span", { class: "doc-row-date", text: doc.date || "undated" }),
          el("span", { class: "doc-row-count",
                       text: `${passages} passage${passages === 1 ? "" : "s"}` }))),
      QA_ADMIN.actions(doc));
  }

  let shownDocuments = [];
  function drawRows() {
    list.replaceChildren(...shownDocuments.map(row));
  }

  function showPager(total) {
    const { limit, offset } = state;
    if (total <= limit && offset === 0) {
      pager.hidden = true;
      return;
    }
    const prev = document.getElementById("prev");
    const next = document.getElementById("next");
    // A link with nowhere to go is no link (no href), and says so to a screen reader.
    const set = (link, target) => {
      if (target === null) {
        link.removeAttribute("href");
        link.setAttribute("aria-disabled", "true");
      } else {
        link.href = address(state, target);
        link.removeAttribute("aria-disabled");
      }
    };
    set(prev, offset > 0 ? Math.max(0, offset - limit) : null);
    set(next, offset + limit < total ? offset + limit : null);
    const pages = Math.max(1, Math.ceil(total / limit));
    document.getElementById("page-of").textContent =
      `Page ${Math.min(pages, Math.floor(offset / limit) + 1)} of ${pages}`;
    pager.hidden = false;
  }

  async function load() {
    const params = filterParams(state, new URLSearchParams({
      limit: state.limit, offset: state.offset, facets: "true" }));
    if (state.field && state.value) params.append("where", `${state.field}=${state.value}`);
    let page;
    try {
      page = await getJSON(withCollection(`/api/documents?${params}`));
    } catch (error) {
      status.replaceChildren(el("span", { class: "notice error", role: "alert",
                                          text: error.message }));
      box.open = true;  // the filters that went wrong, in view
      if (filtered(state)) {  // still offer the choices, from the unfiltered archive
        getJSON(withCollection("/api/documents?limit=1&facets=true")).then((all) => showFacets(all.facets))
          .catch(() => {});
      }
      return;
    }
    showFacets(page.facets);
    list.start = state.offset + 1;
    shownDocuments = page.documents;
    drawRows();
    const shown = page.documents.length;
    const of = filtered(state) ? " matching the filters" : "";
    status.textContent = !page.total
      ? (filtered(state) ? "No document matches these filters." : "The index holds no document.")
      : !shown
        ? `No documents on this page: there are ${page.total}${of}.`
        : `Documents ${state.offset + 1}–${state.offset + shown} of ${page.total}${of}.`;
    showPager(page.total);
  }

  // The form's choices, as a new address (offset 0): the page loads it.
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const chosen = {
      sources: [...form.querySelectorAll("input[name=source]:checked")].map((b) => b.value),
      date_from: from.value, date_to: to.value,
      field: fieldName.value, value: fieldValue.value.trim(), limit: state.limit,
    };
    location.assign(address(chosen, 0));
  });
  document.getElementById("clear-filters").addEventListener("click", () => {
    location.assign(address({ sources: [], limit: state.limit }, 0));
  });

  from.value = state.date_from;
  to.value = state.date_to;
  fieldValue.value = state.value;
  summary.textContent = filtered(state) ? `: ${describe(state)}` : "";
  // Open on a wide screen, or when filters are set; folded on a phone, above the list.
  box.open = filtered(state) || window.matchMedia("(min-width: 48rem)").matches;
  // The address's collection checked first: one the server lacks is said, and the
  // default's documents listed. Another collection chosen lists its documents, unfiltered
  // (its sources and fields are others).
  collections.verify().then(async (message) => {
    const note = document.getElementById("collection-note");
    if (message) {
      note.textContent = message;
      note.hidden = false;
    }
    collections.relink();
    const offer = () => collections.offer(document.getElementById("collection-choice"),
      document.getElementById("collection"),
      (name) => location.assign(withCollection("/documents", name)));
    const offered = offer();
    QA_ADMIN.start({ reload: load, redraw: drawRows });
    await load();
    if (!await offered) offer();  // the list of collections waited for the API key
  });
})();
