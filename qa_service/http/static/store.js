// The conversation kept in the browser, so that a reload finds it again; and the share
// links that reopen one question with the questions before it. It is kept in
// localStorage, or, on a server that wants an API key, for the tab only (sessionStorage),
// as the key is: what such a server answers does not outlive the key in the browser.
// Each collection has its conversation (the default's under "qa-conversation", another's
// under "qa-conversation@<name>"), so that choosing another collection starts a new one
// and choosing this one again finds this one; each turn says its collection too.
//
// What is read back, from storage or from an address, is untrusted: anything that is not
// the shape this page wrote (another version, another page's value under the same name,
// a hand-edited entry) is dropped, turn by turn, never a script error.
"use strict";

(() => {
  const ITEM = "qa-conversation";
  const VERSION = 1;
  const MAX_TURNS = 50;        // the last 50 questions and their answers
  const MAX_HISTORY = 10;      // earlier questions sent with one (the API's limit)
  const MAX_CHARS = 1000;      // a question's length (the API's limit)
  const MAX_SOURCES = 50;
  // A share link's path and query, in characters: the server refuses a request line over
  // 4,094 bytes, so the oldest earlier questions are left out of a link that would pass it.
  const SHARE_BUDGET = 3800;
  const DATE = /^\d{4}-\d{2}-\d{2}$/;
  const COLLECTION = /^[a-z0-9][a-z0-9_-]{0,39}$/;  // as the server spells a name

  const isText = (v, max = Infinity) => typeof v === "string" && v.length <= max;
  const isInt = (v, min = 0) => Number.isInteger(v) && v >= min;
  const orNull = (check) => (v) => v === null || v === undefined || check(v);
  const listOf = (v, check, max = Infinity) => Array.isArray(v) && v.length <= max &&
    v.every((x) => check(x));  // (never every(check): its index would be check's 2nd argument)
  const isObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);

  function validFilters(f) {
    return f === null || f === undefined || (isObject(f) &&
      orNull((s) => listOf(s, (x) => isText(x, 200), MAX_SOURCES))(f.sources) &&
      orNull((d) => isText(d) && DATE.test(d))(f.date_from) &&
      orNull((d) => isText(d) && DATE.test(d))(f.date_to));
  }

  function validPassage(p) {
    return isObject(p) && isText(p.text) && isText(p.doc_id) && isText(p.title) &&
      isText(p.source) && isInt(p.paragraph, 1) && isInt(p.rank, 1) &&
      orNull(isText)(p.highlight) && orNull(isText)(p.date) && orNull(isInt)(p.page) &&
      orNull(isText)(p.url) &&
      orNull((a) => listOf(a, (c) => isObject(c) && isText(c.doc_id) &&
        isText(c.source) && isInt(c.paragraph, 1)))(p.also_in);
  }

  function validAnswer(a) {
    return isObject(a) && isText(a.question) && isText(a.query) &&
      typeof a.answerable === "boolean" && Number.isFinite(a.confidence) &&
      listOf(a.passages, validPassage, 20) &&
      orNull((d) => isObject(d) && isText(d.kind) && typeof d.differ === "boolean" &&
        listOf(d.values, isText) && listOf(d.sources, (s) => isObject(s) &&
          isText(s.source) && isText(s.doc_id) && isText(s.value) && isInt(s.rank, 1) &&
          orNull(isText)(s.date)))(a.disagreement);
  }

  function validTurn(t) {
    return isObject(t) && isText(t.question, MAX_CHARS) && t.question.trim() !== "" &&
      listOf(t.history, (h) => isText(h, MAX_CHARS), MAX_HISTORY) &&
      validFilters(t.filters) && validAnswer(t.answer) &&
      orNull((c) => isText(c) && COLLECTION.test(c))(t.collection);
  }

  // Where the conversation of the page's collection is kept.
  function item() {
    const name = QA.collections.current();
    return name ? `${ITEM}@${name}` : ITEM;
  }

  // The stored turns of the page's collection, oldest first; [] when there are none or
  // none can be read.
  function load() {
    let data;
    try {
      data = JSON.parse(sessionStorage.getItem(item()) || localStorage.getItem(item()) ||
                        "null");
    } catch {
      return [];  // not JSON, or storage refused (a sandboxed frame, a browser setting)
    }
    if (!isObject(data) || data.version !== VERSION || !Array.isArray(data.turns)) return [];
    const name = QA.collections.current();
    return data.turns.slice(-MAX_TURNS).filter((t) => validTurn(t) &&
      (t.collection || null) === name);
  }

  // Keep the last turns (the page's collection's); when the browser's quota is reached,
  // fewer of them.
  function save(turns) {
    const where = item();
    let kept = turns.slice(-MAX_TURNS);
    for (;;) {
      try {
        const [here, other] = QA.keyed() ? [sessionStorage, localStorage]
          : [localStorage, sessionStorage];
        other.removeItem(where);  // one copy, where it belongs now
        if (kept.length) here.setItem(where, JSON.stringify({ version: VERSION, turns: kept }));
        else here.removeItem(where);
        return true;
      } catch {
        if (kept.length <= 1) return false;
        kept = kept.slice(Math.ceil(kept.length / 2));
      }
    }
  }

  // "/?q=...&h=...&h=...&source=...&from=...&to=...&collection=...": the question, the
  // questions before it (oldest first), its filters and its collection (none: the
  // default).
  function shareHref(turn) {
    let history = turn.history.slice(-MAX_HISTORY);
    for (;;) {
      const params = new URLSearchParams({ q: turn.question });
      for (const h of history) params.append("h", h);
      const f = turn.filters || {};
      for (const s of f.sources || []) params.append("source", s);
      if (f.date_from) params.set("from", f.date_from);
      if (f.date_to) params.set("to", f.date_to);
      if (turn.collection) params.set("collection", turn.collection);
      const href = `/?${params}`;
      if (href.length <= SHARE_BUDGET) return href;
      if (!history.length) return null;  // the question alone is too long for an address
      history = history.slice(1);
    }
  }

  // A shared question from the address, bounded as the API bounds a request; null if none.
  // (Its collection is the page's: QA.collections reads the same address.)
  function readShare(search) {
    const params = new URLSearchParams(search);
    const question = (params.get("q") || "").trim().slice(0, MAX_CHARS);
    if (!question) return null;
    const history = params.getAll("h").map((h) => h.trim().slice(0, MAX_CHARS))
      .filter(Boolean).slice(-MAX_HISTORY);
    const sources = params.getAll("source").map((s) => s.trim().slice(0, 200))
      .filter(Boolean).slice(0, MAX_SOURCES);
    const date = (name) => (DATE.test(params.get(name) || "") ? params.get(name) : null);
    const filters = { sources, date_from: date("from"), date_to: date("to") };
    const any = sources.length || filters.date_from || filters.date_to;
    return { question, history, filters: any ? filters : null };
  }

  QA.store = { load, save, shareHref, readShare, MAX_HISTORY };
})();
