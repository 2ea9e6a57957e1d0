// Writes on the documents list (/documents), for holders of an admin key only: an upload
// area (a file picker and a drop zone, each request's progress, then each file's outcome)
// and a Delete action on every row, with an inline confirmation.
//
// The page learns from GET /api/health (open) whether the server takes writes at all:
// if not, nothing of this shows; if it does, a small form asks for the admin key, which
// GET /api/writes checks (and which answers the limits of an upload). The key is kept for
// this tab only (sessionStorage, never localStorage), once it has been accepted. Without an accepted key there is no upload area
// and no Delete button in the page at all. Every name, reason and title from a file or
// the server goes into the page as text (textContent), never as HTML.
"use strict";

const QA_ADMIN = (() => {
  const { el, documentHref, fetchJSON, withCollection } = QA;
  const KEY_ITEM = "qa-admin-key";
  const POLL_WAIT = 10;  // seconds each GET /api/jobs/<id>?wait= may block

  const box = document.getElementById("admin-box");
  const keyForm = document.getElementById("admin-key-form");
  const keyInput = document.getElementById("admin-key");
  const keyError = document.getElementById("admin-key-error");
  const tools = document.getElementById("admin-tools");
  const forget = document.getElementById("admin-forget");
  const uploadForm = document.getElementById("upload-form");
  const zone = document.getElementById("drop-zone");
  const picker = document.getElementById("upload-files");
  const hint = document.getElementById("upload-hint");
  const chosen = document.getElementById("upload-chosen");
  const uploadError = document.getElementById("upload-error");
  const sourceInput = document.getElementById("upload-source");
  const dateInput = document.getElementById("upload-date");
  const uploads = document.getElementById("uploads");
  const status = document.getElementById("admin-status");

  let key = "";         // the accepted admin key, or "" (no writes offered)
  let limits = null;    // GET /api/writes's answer
  let hooks = { reload: async () => {}, redraw: () => {} };
  let rowCount = 0;     // for ids unique in the page

  function storedKey() {
    try {
      return sessionStorage.getItem(KEY_ITEM) || "";
    } catch {
      return "";  // storage refused: the key lasts as long as the page
    }
  }
  function storeKey(value) {
    try {
      if (value) sessionStorage.setItem(KEY_ITEM, value);
      else sessionStorage.removeItem(KEY_ITEM);
    } catch {
      // as above
    }
  }

  // An admin request: {status, body} (body: the JSON, or null); never throws but for a
  // network failure, which says so in words.
  async function request(method, url, given = key) {
    const headers = given ? { Authorization: `Bearer ${given}` } : {};
    const { response, body } = await fetchJSON(url, { method, headers });
    return { status: response.status, body };
  }
  const messageOf = (body, status) =>
    (body && body.error && body.error.message) || `The service answered ${status}.`;
  // A server message as a sentence: "the admin key is not valid" -> "The admin key is not valid."
  function sentence(text) {
    const s = String(text).trim();
    if (!s) return s;
    return s[0].toUpperCase() + s.slice(1) + (/[.!?]$/.test(s) ? "" : ".");
  }

  function bytes(n) {
    if (n < 1024) return `${n} bytes`;
    if (n < 1024 * 1024) return `${(n / 1024).toFixed(n < 10 * 1024 ? 1 : 0)} KB`;
    return `${(n / 1024 / 1024).toFixed(n < 10 * 1024 * 1024 ? 1 : 0)} MB`;
  }
  const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;

  // --- The key ---

  function showKeyForm(message) {
    key = "";
    limits = null;
    tools.hidden = true;
    keyForm.hidden = false;
    box.hidden = false;
    setKeyError(message || "");
  }
  function setKeyError(message) {
    keyError.textContent = message;
    keyError.hidden = !message;
  }
  function hideAll() {
    key = "";
    limits = null;
    box.hidden = true;
  }

  function showTools(given, found, open) {
    key = given;
    limits = found;
    keyForm.hidden = true;
    tools.hidden = false;
    box.hidden = false;
    // Open once the key is given, or on a wide screen; folded on a phone, above the list.
    box.open = open || window.matchMedia("(min-width: 48rem)").matches;
    setKeyError("");
    document.getElementById("admin-delete-note").hidden = !found.writable;
    if (!found.writable) {
      uploadForm.hidden = true;
      hint.textContent = "";
      status.textContent = sentence(found.reason || "This corpus takes no writes.");
      return;
    }
    uploadForm.hidden = false;
    picker.accept = found.types.join(",");
    hint.textContent = `${found.types.join(" ")} files: at most ` +
      `${plural(found.max_upload_files, "file")} at once, ${bytes(found.max_file_bytes)} ` +
      `each and ${bytes(found.max_upload_bytes)} in all.`;
  }

  // Ask GET /api/writes with the key `given`: settle what the page offers.
  async function check(given, { fromForm = false } = {}) {
    let found;
    try {
      found = await request("GET", withCollection("/api/writes"), given);
    } catch (error) {
      if (fromForm) setKeyError(error.message);
      else hideAll();
      return false;
    }
    if (found.status === 200) {
      storeKey(given);
      showTools(given, found.body, fromForm);
      return true;
    }
    storeKey("");
    if (found.status === 401) {
      showKeyForm(fromForm ? "That admin key was not accepted."
        : "The admin key kept for this tab is no longer accepted. Enter it again.");
    } else if (found.status === 403 && !fromForm) {
      hideAll();  // writes are off on this server: nothing of them shows
    } else {
      showKeyForm(sentence(messageOf(found.body, found.status)));  // a read key, 429
    }
    return false;
  }

  keyForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const given = keyInput.value.trim();
    if (!given) {
      setKeyError("Enter the admin key.");
      keyInput.focus();
      return;
    }
    const button = keyForm.querySelector("button[type=submit]");
    button.disabled = true;
    const ok = await check(given, { fromForm: true });
    button.disabled = false;
    keyInput.value = "";
    if (ok) {
      status.textContent = "Admin key accepted: you can add and delete documents.";
      hooks.redraw();
      picker.focus();
    } else {
      keyInput.focus();
    }
  });

  forget.addEventListener("click", async () => {
    storeKey("");
    showKeyForm("");
    status.textContent = "The admin key is forgotten in this tab.";
    hooks.redraw();
    box.open = true;
    keyInput.focus();
  });

  // A write refused for its key: back to the form (the key has been revoked, or writes
  // turned off since the page loaded).
  function keyRefused(result) {
    if (result.status !== 401 && result.status !== 403) return false;
    storeKey("");
    showKeyForm(sentence(messageOf(result.body, result.status)));
    hooks.redraw();
    return true;
  }

  // --- Uploads ---

  function showChosen() {
    const files = [...picker.files];
    chosen.textContent = files.length
      ? `Chosen: ${files.map((f) => f.name).join(", ")} (${bytes(files.reduce(
        (sum, f) => sum + f.size, 0))})`
      : "";
  }
  picker.addEventListener("change", () => {
    uploadError.hidden = true;
    showChosen();
  });

  const hasFiles = (event) => event.dataTransfer &&
    [...event.dataTransfer.types].includes("Files");
  zone.addEventListener("dragover", (event) => {
    if (!hasFiles(event)) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "copy";
    zone.classList.add("dragging");
  });
  zone.addEventListener("dragleave", (event) => {
    if (!zone.contains(event.relatedTarget)) zone.classList.remove("dragging");
  });
  zone.addEventListener("drop", (event) => {
    zone.classList.remove("dragging");
    if (!event.dataTransfer || !event.dataTransfer.files.length) return;
    event.preventDefault();
    picker.files = event.dataTransfer.files;
    uploadError.hidden = true;
    showChosen();
    picker.focus();
  });
  // A file dropped beside the zone would open in the tab, leaving the page: not here.
  for (const type of ["dragover", "drop"]) {
    window.addEventListener(type, (event) => {
      if (key && hasFiles(event) && !zone.contains(event.target)) {
        event.preventDefault();
        event.dataTransfer.dropEffect = "none";
      }
    });
  }

  // What is wrong with `files` before sending them, by this server's limits; or "".
  function tooMuch(files) {
    if (!files.length) return "Choose one or more files first.";
    if (files.length > limits.max_upload_files) {
      return `${plural(files.length, "file")} chosen; this server takes at most ` +
        `${limits.max_upload_files} at once.`;
    }
    const big = files.find((f) => f.size > limits.max_file_bytes);
    if (big) {
      let [size, limit] = [bytes(big.size), bytes(limits.max_file_bytes)];
      if (size === limit) {  // "10 MB, over the 10 MB": say the bytes
        [size, limit] = [big.size, limits.max_file_bytes].map(
          (n) => `${n.toLocaleString("en")} bytes`);
      }
      return `${big.name} is ${size}, over the ${limit} a file may be.`;
    }
    const total = files.reduce((sum, f) => sum + f.size, 0);
    if (total > limits.max_upload_bytes * 0.99) {  // the form's own fields take room too
      return `These files are ${bytes(total)} in all, over the ` +
        `${bytes(limits.max_upload_bytes)} one upload may be: send them in parts.`;
    }
    return "";
  }

  function metadata() {
    const meta = {};
    if (sourceInput.value.trim()) meta.source = sourceInput.value.trim();
    if (dateInput.value) meta.date = dateInput.value;
    return Object.keys(meta).length ? meta : null;
  }

  uploadForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const files = [...picker.files];
    const problem = tooMuch(files);
    if (problem) {
      uploadError.textContent = problem;
      uploadError.hidden = false;
      picker.focus();
      return;
    }
    uploadError.hidden = true;
    const form = new FormData();
    for (const file of files) form.append("file", file, file.name);
    const meta = metadata();
    if (meta) form.append("metadata", JSON.stringify(meta));
    upload(files, form);
    picker.value = "";  // the source and the date stay, for the next files
    showChosen();
  });

  // One request: its item in the list of uploads, its progress, then its job's outcome.
  function upload(files, form) {
    const names = files.map((f) => f.name).join(", ");
    const progress = el("progress", { max: 1, value: 0, "aria-label": `Sending ${names}` });
    const state = el("p", { class: "upload-state", text: "Sending…" });
    const result = el("div", { class: "upload-result", "aria-live": "polite" });
    const item = el("li", { class: "upload" },
      el("p", { class: "upload-names", text: names }), progress, state, result);
    uploads.prepend(item);

    const done = (message, outcomes = null, failed = false) => {
      progress.hidden = true;
      state.hidden = true;
      result.replaceChildren(
        el("p", { class: failed ? "upload-summary admin-error" : "upload-summary",
                  role: failed ? "alert" : null, text: message }),
        ...(outcomes ? [outcomes] : []));
    };

    const xhr = new XMLHttpRequest();
    xhr.open("POST", withCollection("/api/documents"));
    xhr.setRequestHeader("Authorization", `Bearer ${key}`);
    xhr.responseType = "json";
    xhr.upload.addEventListener("progress", (event) => {
      if (!event.lengthComputable) return;
      progress.max = event.total;
      progress.value = event.loaded;
      state.textContent = `Sending: ${bytes(event.loaded)} of ${bytes(event.total)} ` +
        `(${Math.floor((event.loaded / event.total) * 100)} %)`;
    });
    xhr.upload.addEventListener("load", () => {
      progress.value = progress.max;
      state.textContent = "Sent; the server is storing the files…";
    });
    xhr.addEventListener("error", () => {
      done("The upload could not be sent: the connection failed or was closed (are the " +
           "files too large for the server?).", null, true);
    });
    xhr.addEventListener("load", async () => {
      const body = xhr.response;
      if (xhr.status !== 202) {
        if (keyRefused({ status: xhr.status, body })) {
          done(`Not uploaded: ${messageOf(body, xhr.status)}`, null, true);
          return;
        }
        done(`Not uploaded: ${sentence(messageOf(body, xhr.status))}`, null, true);
        return;
      }
      state.textContent = "Sent. Indexing…";
      progress.removeAttribute("value");  // indeterminate while the build runs
      progress.setAttribute("aria-label", `Indexing ${names}`);
      let job;
      try {
        job = await finished(body);
      } catch (error) {
        done(error.message, null, true);
        return;
      }
      if (!job) return;  // the key was refused meanwhile; the form says so
      showOutcomes(job, done);
      await hooks.reload();
    });
    xhr.send(form);
  }

  // Wait for a job to be done or failed; null if the key is refused meanwhile.
  async function finished(job) {
    while (job.state === "queued" || job.state === "running") {
      const found = await request("GET",
        withCollection(`/api/jobs/${encodeURIComponent(job.id)}?wait=${POLL_WAIT}`));
      if (found.status === 200) {
        job = found.body;
      } else if (keyRefused(found)) {
        return null;
      } else {
        throw new Error(`The job ${job.id} could not be followed: ` +
                        sentence(messageOf(found.body, found.status)));
      }
    }
    return job;
  }

  function showOutcomes(job, done) {
    const count = (outcome) => job.files.filter((f) => f.outcome === outcome).length;
    const list = el("ul", { class: "outcomes" }, job.files.map((file) => {
      const name = file.name || file.doc_id;
      if (file.outcome === "indexed") {
        return el("li", { class: "outcome indexed" },
          el("a", { href: documentHref(file.doc_id), text: name }),
          `: indexed, ${plural(file.passages || 0, "passage")}`,
          file.reason ? ` (${file.reason})` : "");
      }
      if (file.outcome === "skipped") {
        return el("li", { class: "outcome skipped" }, el("span", { class: "outcome-name",
          text: name }), `: skipped: ${file.reason || "no reason given"}`);
      }
      return el("li", { class: `outcome ${file.outcome}` },
        el("span", { class: "outcome-name", text: name }), `: ${file.outcome}`);
    }));
    if (job.state === "failed") {
      done(`The build failed: ${sentence(job.error || "see the server's log")}`, list, true);
      return;
    }
    const parts = [];
    for (const outcome of ["indexed", "skipped", "failed"]) {
      if (count(outcome)) parts.push(`${count(outcome)} ${outcome}`);
    }
    done(`Done: ${parts.join(", ")}.`, list);
  }

  // --- Deletes ---

  // The Delete button of a row, with its inline confirmation; null without a key.
  function actions(doc) {
    if (!key || !limits || !limits.writable) return null;
    const n = ++rowCount;
    const del = el("button", { type: "button", class: "secondary small delete",
                               "data-doc-id": doc.doc_id },
      "Delete", el("span", { class: "visually-hidden", text: ` ${doc.title}` }));
    const wrap = el("div", { class: "doc-row-actions" }, del);
    del.addEventListener("click", () => confirmDelete(doc, wrap, del, n));
    return wrap;
  }

  function confirmDelete(doc, wrap, del, n) {
    const question = el("p", { id: `delete-q-${n}`, class: "delete-question" },
      "Delete ", el("strong", { text: doc.title }), ` (${doc.doc_id})? Its file leaves ` +
      "the corpus and its passages the answers.");
    const yes = el("button", { type: "button", class: "small danger", text: "Yes, delete" });
    const no = el("button", { type: "button", class: "small secondary", text: "Cancel" });
    const message = el("p", { class: "delete-message", hidden: true });
    const group = el("div", { class: "delete-confirm", role: "group",
                              "aria-labelledby": `delete-q-${n}` },
      question, el("div", { class: "delete-buttons" }, yes, no), message);
    const cancel = () => {
      group.remove();
      del.hidden = false;
      del.focus();
    };
    no.addEventListener("click", cancel);
    group.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && !yes.disabled) {
        event.preventDefault();
        cancel();
      }
    });
    yes.addEventListener("click", () => remove(doc, group, yes, no, message));
    del.hidden = true;
    wrap.append(group);
    no.focus();  // the safe choice first
  }

  async function remove(doc, group, yes, no, message) {
    yes.disabled = no.disabled = true;
    message.className = "delete-message";
    message.textContent = "Deleting…";
    message.hidden = false;
    const path = doc.doc_id.split("/").map(encodeURIComponent).join("/");
    const fail = (text) => {
      yes.disabled = no.disabled = false;
      message.className = "delete-message admin-error";
      message.setAttribute("role", "alert");
      message.textContent = text;
      no.focus();
    };
    let job;
    try {
      const found = await request("DELETE", withCollection(`/api/documents/${path}`));
      if (found.status !== 202) {
        if (keyRefused(found)) return;
        fail(`Not deleted: ${sentence(messageOf(found.body, found.status))}`);
        return;
      }
      job = await finished(found.body);
    } catch (error) {
      fail(error.message);
      return;
    }
    if (!job) return;
    const file = job.files[0] || {};
    if (job.state === "failed") {
      status.textContent = `“${doc.title}” left the corpus, but the build failed: ` +
        sentence(job.error || "see the server's log");
    } else if (file.outcome === "removed") {
      status.textContent = `“${doc.title}” was deleted.`;
    } else {
      status.textContent = `“${doc.title}”: ${file.outcome}` +
        (file.reason ? ` (${file.reason}).` : ".");
    }
    // Focus goes to the row now where this one was (or the last row), else the status.
    const rows = [...document.querySelectorAll("#archive-list .doc-row")];
    const at = rows.findIndex((r) => r.contains(group));
    await hooks.reload();
    const after = [...document.querySelectorAll("#archive-list .doc-row")];
    const next = after[Math.min(at, after.length - 1)];
    const target = next ? next.querySelector(".delete") || next.querySelector("a") : null;
    if (target) target.focus();
    else status.focus();
  }

  // The page's list calls this once, as it loads: `reload` fetches the list again (after
  // a write), `redraw` draws the rows it has again (with or without their actions).
  async function start(given) {
    hooks = given;
    let health;
    try {
      const response = await fetch(withCollection("/api/health"));
      health = await response.json();
    } catch {
      health = null;
    }
    if (!health || health.writes !== true) {
      hideAll();  // a server without admin keys: nothing of writes shows
      storeKey("");
      return;
    }
    const stored = storedKey();
    if (!stored) showKeyForm("");
    else if (await check(stored)) hooks.redraw();
  }

  return { start, actions };
})();
