// One answer as the chat page shows it: how sure it is, what history changed, the reports
// that disagree, and the passage cards, each citing its document in place (panel.js), with
// a button that copies the citation; and a link that shares the question.
"use strict";

(() => {
  const { el, highlighted, documentHref, sourceClass, filters } = QA;
  const status = document.getElementById("status");

  // The collection the turn being drawn was asked of (null: the default): its links open
  // that collection's documents.
  let asked = null;

  // A link that opens the document beside the conversation at the cited paragraph, with
  // the answering sentence marked; its href opens the full page (new tab, no script).
  function citeLink(href, docId, paragraph, highlight, attrs, ...children) {
    return el("a", { href, class: "cite", "data-doc-id": docId, "data-paragraph": paragraph,
                     "data-highlight": highlight || null, "data-collection": asked,
                     "aria-haspopup": "dialog", ...attrs }, ...children);
  }

  // The passage as a quotation, then where it comes from: source, date, title, page,
  // paragraph and the address of the paragraph in the document view (and the original's).
  function citationText(p, collection = asked) {
    const where = [p.source, p.date || "undated", `“${p.title}”`,
                   ...(p.page == null ? [] : [`p. ${p.page}`]), `paragraph ${p.paragraph}`];
    const link = new URL(documentHref(p.doc_id, p.paragraph, collection), location.origin).href;
    const original = QA.safeUrl(p.url || "") ? ` Original: ${p.url}` : "";
    return `“${p.text}”\n— ${where.join(", ")}. ${link}${original}`;
  }

  let statusTimer = 0;
  async function copy(text, button, done, failed) {
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      status.textContent = failed;
      return;
    }
    status.textContent = done;
    if (button) {
      button.classList.add("copied");
      clearTimeout(statusTimer);
      statusTimer = setTimeout(() => button.classList.remove("copied"), 2000);
    }
  }

  function copyButton(p) {
    const text = citationText(p);
    const button = el("button", { type: "button", class: "copy-citation secondary small" },
      "Copy citation",
      el("span", { class: "visually-hidden", text: ` of ${p.source}, paragraph ${p.paragraph}` }));
    button.dataset.citation = text;  // what it copies, for anyone who looks
    button.addEventListener("click", () => copy(text, button,
      `Citation copied: ${p.source}, paragraph ${p.paragraph}.`,
      "The browser did not let the page copy the citation."));
    return button;
  }

  // One link per card, the title: its name adds where it leads, for a screen reader that
  // lists links out of context.
  function card(p) {
    const cls = sourceClass(p.source);
    const href = documentHref(p.doc_id, p.paragraph, asked);
    const meta = [p.date || "undated", ...(p.page == null ? [] : [`p. ${p.page}`]),
                  `paragraph ${p.paragraph}`].join(" · ");
    return el("li", { class: `card ${cls}`, "data-rank": p.rank },
      el("div", { class: "card-head" },
        el("span", { class: `badge ${cls}`, text: p.source }),
        el("span", { class: "card-meta", text: meta }),
        copyButton(p)),
      el("h3", { class: "card-title" },
        citeLink(href, p.doc_id, p.paragraph, p.highlight, {}, p.title,
          el("span", { class: "visually-hidden",
                       text: `, ${p.source}, paragraph ${p.paragraph}` }))),
      el("blockquote", { class: "passage", cite: href }, highlighted(p.text, p.highlight)),
      p.also_in && p.also_in.length
        ? el("p", { class: "also-in" }, "Also in: ", p.also_in.map((c, i) => [
          i ? "; " : "",
          // A near-copy: the same sentence is marked there when it is there.
          citeLink(documentHref(c.doc_id, c.paragraph, asked), c.doc_id, c.paragraph, p.highlight,
                   { text: `${c.source}, paragraph ${c.paragraph}` })]))
        : null);
  }

  // The reports that answer, when they give a figure or a date: one compact row each
  // (source, date, value, a link to its passage), headed by what differs or by their
  // agreement. The server chose the rows (answer.disagreement): only passages the ranker
  // thinks answer, one per report; no passage text is repeated here.
  function comparison(answer) {
    const d = answer.disagreement;
    if (!d || !d.sources || d.sources.length < 2) return null;
    const what = d.kind === "date" ? "dates" : "figures";
    const heading = d.differ
      ? `Sources give different ${what}: ${d.values.join(", ")}`
      : `${d.sources.length} sources agree: ${d.values[0]}`;
    const byRank = new Map(answer.passages.map((p) => [p.rank, p]));
    const rows = d.sources.map((s) => {
      const passage = byRank.get(s.rank);
      return el("tr", { class: sourceClass(s.source) },
        el("th", { scope: "row" }, el("span", { class: `badge ${sourceClass(s.source)}`,
                                                text: s.source })),
        el("td", { class: "compare-date", text: s.date || "undated" }),
        // The value links to the passage that gives it: one link a row.
        el("td", { class: "compare-value" }, passage
          ? citeLink(documentHref(s.doc_id, passage.paragraph, asked), s.doc_id, passage.paragraph,
                     passage.highlight, {
                       text: s.value,
                       // the visible value first in its name (WCAG 2.5.3)
                       "aria-label": `${s.value}: ${s.source}'s passage` })
          : s.value));
    });
    return el("section", { class: `sources ${d.differ ? "differ" : "agree"}`,
                           "aria-label": heading },
      el("p", { class: "sources-label", text: heading }),
      el("table", { class: "compare" },
        el("thead", { class: "visually-hidden" },
          el("tr", {}, ...["Source", "Date", d.kind === "date" ? "Date given" : "Figure"]
            .map((h) => el("th", { scope: "col", text: h })))),
        el("tbody", {}, rows)));
  }

  // The confidence in words: a probability that the first passage answers the question.
  function matchWords(answer) {
    if (!answer.answerable) return "weak match";
    if (answer.confidence >= 0.9) return "strong match";
    if (answer.confidence >= 0.7) return "good match";
    return "possible match";
  }

  // The words, and on hover or focus the figure: from 1% to 99%, since an estimate is
  // never certain and 0.996 must not read "100%".
  let tips = 0;
  function confidence(answer) {
    const words = matchWords(answer);
    const percent = Math.min(Math.max(Math.round(answer.confidence * 100), 1), 99);
    const id = `confidence-${++tips}`;
    const tip = el("span", { class: "tip", id, role: "tooltip",
      text: `confidence ${percent}%: how likely the first passage answers this` });
    const word = el("span", { class: `match ${words.split(" ")[0]}`, tabindex: "0",
                              "aria-describedby": id, text: words });
    const holder = el("span", { class: "has-tip" }, word, tip);
    // Escape hides the figure until the pointer or the focus leaves (WCAG 1.4.13).
    word.addEventListener("keydown", (event) => {
      if (event.key === "Escape") holder.classList.add("dismissed");
    });
    for (const type of ["blur", "mouseleave"]) {
      holder.addEventListener(type, () => holder.classList.remove("dismissed"), true);
    }
    return el("p", { class: "confidence" }, holder);
  }

  // A link that asks this question again, after the same earlier questions and with the
  // same filters; a plain click copies it, for sending on.
  function shareLink(turn) {
    const href = QA.store.shareHref(turn);
    if (!href) return null;
    const earlier = turn.history.length;
    const link = el("a", { href, class: "share" }, "Share",
      el("span", { class: "visually-hidden", text: " this question (copies a link)" }));
    link.addEventListener("click", (event) => {
      if (event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey ||
          event.altKey) return;
      event.preventDefault();
      copy(link.href, null, earlier
        ? `Link copied: it asks this question again, after the ${earlier} before it.`
        : "Link copied: it asks this question again.",
        "The browser did not let the page copy the link; copy it from the link's menu.");
    });
    return link;
  }

  // What history changed, in words: the server runs "question (context: earlier | ...)";
  // the reader sees which earlier questions it followed on from. Nothing when it ran the
  // question alone (a difference of spacing only is no change).
  function understoodAs(answer) {
    const match = /^(.*?) \(context: (.*)\)$/s.exec(answer.query);
    if (answer.query === answer.question || !match) return null;
    const earlier = match[2].split(" | ").map((q) => `“${q}”`).join(" and ");
    return el("p", { class: "query-note",
                     text: `Understood as: “${match[1]}” following on from ${earlier}` });
  }

  // Render `turn.answer` into `box`; return the status line that announces it.
  function renderAnswer(box, turn) {
    const answer = turn.answer;
    asked = turn.collection || null;
    box.replaceChildren();
    if (!answer.passages.length) {
      box.append(el("p", { class: "notice", text: "No passages match this question." }));
      return "No passages found.";
    }
    if (!answer.answerable) {
      box.append(el("p", { class: "notice not-answered" },
        el("strong", { text: "The documents do not answer this question." }),
        " The closest passages are shown below, for reference only."));
    }
    box.append(el("div", { class: "answer-head" }, confidence(answer), shareLink(turn)));
    if (turn.filters) {
      box.append(el("p", { class: "query-note filter-note",
                           text: `Searched only: ${filters.describe(turn.filters)}` }));
    }
    const understood = understoodAs(answer);
    if (understood) box.append(understood);
    const compared = comparison(answer);
    if (compared) box.append(compared);
    box.append(el("ol", { class: "cards", "aria-label": "Passages" }, answer.passages.map(card)));
    const sources = new Set(answer.passages.map((p) => p.source)).size;
    const count = answer.passages.length;
    const found = `${count} passage${count === 1 ? "" : "s"} from ${sources} source${sources === 1 ? "" : "s"}`;
    return answer.answerable
      ? `Answer: ${found}, ${matchWords(answer)}. Best: ${answer.passages[0].source}, paragraph ${answer.passages[0].paragraph}.`
      : `The documents do not answer this question. Showing the ${found} closest.`;
  }

  QA.renderAnswer = renderAnswer;
  QA.citationText = citationText;
})();
