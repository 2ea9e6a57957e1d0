// The chat page: questions go to /api/ask with the conversation's earlier questions
// as history; each answer is a list of attributed passage cards.
"use strict";

(() => {
  const { el, documentHref, sourceClass, resetSources, getJSON, KeyNeeded } = QA;
  const MAX_HISTORY = 10;

  const form = document.getElementById("ask-form");
  const input = document.getElementById("question");
  const send = document.getElementById("send");
  const status = document.getElementById("status");
  const thread = document.getElementById("thread");
  const intro = document.getElementById("intro");
  const newConversation = document.getElementById("new-conversation");
  const header = document.getElementById("top");
  const examples = document.getElementById("examples");
  const keyHint = document.getElementById("key-hint");

  let history = [];
  let busy = false;

  function setBusy(value) {
    busy = value;
    input.disabled = value;
    send.disabled = value;
    form.setAttribute("aria-busy", String(value));
  }

  // The sticky header and the fixed composer cover the top and bottom of the window:
  // their heights become the page's scroll padding, so what is scrolled into view (a new
  // turn, a focused link) lands between them, and the room left under the last answer.
  function measureChrome() {
    const root = document.documentElement.style;
    root.setProperty("--top-height", `${header.offsetHeight}px`);
    root.setProperty("--composer-height", `${form.offsetHeight}px`);
  }
  new ResizeObserver(measureChrome).observe(form);
  new ResizeObserver(measureChrome).observe(header);

  // A turn's top just below the header ("start"), or its end just above the composer.
  function reveal(turn, block) {
    measureChrome();  // the status line may have grown the composer since the last paint
    turn.scrollIntoView({ block, behavior: "instant" });
  }

  function highlighted(text, highlight) {
    const at = highlight ? text.indexOf(highlight) : -1;
    if (at < 0) return [text];
    return [text.slice(0, at), el("mark", { text: highlight }), text.slice(at + highlight.length)];
  }

  // One link per card, the title: its name adds where it leads, for a screen reader that
  // lists links out of context.
  function card(p) {
    const cls = sourceClass(p.source);
    const href = documentHref(p.doc_id, p.paragraph);
    const meta = [p.date || "undated", ...(p.page == null ? [] : [`p. ${p.page}`]),
                  `paragraph ${p.paragraph}`].join(" · ");
    return el("li", { class: `card ${cls}`, "data-rank": p.rank },
      el("div", { class: "card-head" },
        el("span", { class: `badge ${cls}`, text: p.source }),
        el("span", { class: "card-meta", text: meta })),
      el("h3", { class: "card-title" },
        el("a", { href, target: "_blank", rel: "noopener" }, p.title,
          el("span", { class: "visually-hidden",
                       text: `, ${p.source}, paragraph ${p.paragraph} (opens in a new tab)` }))),
      el("blockquote", { class: "passage", cite: href }, highlighted(p.text, p.highlight)),
      p.also_in && p.also_in.length
        ? el("p", { class: "also-in" }, "Also in: ", p.also_in.map((c, i) => [
          i ? "; " : "",
          el("a", { href: documentHref(c.doc_id, c.paragraph), target: "_blank", rel: "noopener",
                    text: `${c.source}, paragraph ${c.paragraph}` })]))
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
      const href = passage ? documentHref(s.doc_id, passage.paragraph) : null;
      return el("tr", { class: sourceClass(s.source) },
        el("th", { scope: "row" }, el("span", { class: `badge ${sourceClass(s.source)}`,
                                                text: s.source })),
        el("td", { class: "compare-date", text: s.date || "undated" }),
        // The value links to the passage that gives it: one link a row.
        el("td", { class: "compare-value" }, href
          ? el("a", { href, target: "_blank", rel: "noopener", text: s.value,
                      // the visible value first in its name (WCAG 2.5.3)
                      "aria-label": `${s.value}: ${s.source}'s passage (opens in a new tab)` })
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

  function renderAnswer(box, answer) {
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
    box.append(confidence(answer));
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

  async function ask(question) {
    intro.hidden = true;
    const answerBox = el("div", { class: "answer pending" },
      el("span", { class: "spinner", "aria-hidden": "true" }), "Searching the documents…");
    // The question heads its turn (an h2 over the cards' h3), for reading by headings.
    const turn = el("article", { class: "turn" },
      el("div", { class: "question" },
        el("h2", {}, el("span", { class: "visually-hidden", text: "You asked: " }),
          el("span", { class: "asked", text: question }))),
      answerBox);
    thread.append(turn);
    reveal(turn, "end");
    setBusy(true);
    status.textContent = "Searching…";
    try {
      const answer = await getJSON("/api/ask", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ question, history }),
      });
      answerBox.classList.remove("pending");
      status.textContent = renderAnswer(answerBox, answer);
      history = [...history, question].slice(-MAX_HISTORY);
      input.value = "";
      if (!keyHint.hidden) loadExamples(false);  // the reader has given a key meanwhile
    } catch (error) {
      answerBox.classList.remove("pending");
      answerBox.classList.add("error");
      answerBox.replaceChildren(el("p", { role: "alert", text: `Error: ${error.message}` }));
      status.textContent = `Error: ${error.message}`;
    } finally {
      setBusy(false);
      reveal(turn, "start");
      input.focus({ preventScroll: true });
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (busy) return;
    const question = input.value.trim();
    if (!question) {
      status.textContent = "Type a question first.";
      input.focus();
      return;
    }
    ask(question);
  });

  newConversation.addEventListener("click", () => {
    history = [];
    thread.replaceChildren();
    resetSources();
    intro.hidden = false;
    input.value = "";
    status.textContent = "New conversation started.";
    input.focus();
  });

  // Topics to try, drawn from what is indexed: up to three document titles, one a source
  // first. None on a collection with no documents.
  const EXAMPLES = 3;
  const MAX_EXAMPLE = 200;  // characters: a longer title reads as no topic
  function showExamples(documents) {
    const titles = [];
    const sources = new Set();
    for (const firstOfSource of [true, false]) {
      for (const doc of documents) {
        const title = (doc.title || "").trim();
        if (!title || title.length > MAX_EXAMPLE || titles.includes(title)) continue;
        if (titles.length >= EXAMPLES) break;
        if (firstOfSource && sources.has(doc.source)) continue;
        sources.add(doc.source);
        titles.push(title);
      }
    }
    examples.querySelector("ul").replaceChildren(...titles.map((title) => {
      const button = el("button", { type: "button", class: "example", text: title });
      button.addEventListener("click", () => {
        input.value = title;
        form.requestSubmit();
      });
      return el("li", {}, button);
    }));
    examples.hidden = !titles.length;
  }

  // The documents listing gives the examples, and tells before the first question whether
  // the server wants a key (it answers 401); the key is asked for only when the reader acts.
  function loadExamples(askForKey) {
    return getJSON("/api/documents?limit=100", { askForKey }).then((page) => {
      keyHint.hidden = true;
      showExamples(page.documents);
    }).catch((error) => {
      if (error instanceof KeyNeeded) keyHint.hidden = false;
    });
  }
  document.getElementById("enter-key").addEventListener("click", () => {
    loadExamples(true).then(() => input.focus());
  });
  loadExamples(false);

  getJSON("/api/health").then((health) => {
    document.getElementById("corpus-info").textContent =
      `Answers are passages quoted from ${health.documents} documents (${health.passages} passages), with their source.`;
  }).catch(() => {});

  input.focus();
})();
