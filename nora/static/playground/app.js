// Nora playground: a small client for the REST API, the SSE reply stream and the voice socket.
// Plain JavaScript, no build step and nothing loaded from elsewhere.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);

  const SESSION_KEY = "nora.session";
  const CONVERSATIONS_PER_PAGE = 20;
  const MESSAGES_PER_PAGE = 50;
  const PING_SECONDS = 25;
  const FLUSH_WAIT_MS = 500;
  const STATUS_LABELS = {
    streaming: "Still being written",
    incomplete: "Incomplete",
    stopped: "Stopped",
    error: "Didn't finish",
  };

  const state = {
    access: null,
    refresh: null,
    user: null,
    personalities: [],
    conversations: new Map(), // id -> conversation, in list order
    nextPage: 1,
    currentId: null,
    earlierPage: null, // the page of history to load next with "Show earlier messages"
    reply: null, // the text reply streaming in: {controller, conversationId, messageId}
    voice: null, // the open voice socket: a VoiceSession
  };

  // Session ------------------------------------------------------------------------

  function sessionSave() {
    sessionStorage.setItem(SESSION_KEY, JSON.stringify({ access: state.access, refresh: state.refresh, user: state.user }));
  }

  function sessionLoad() {
    try {
      const saved = JSON.parse(sessionStorage.getItem(SESSION_KEY) || "null");
      if (saved && saved.access && saved.refresh) Object.assign(state, saved);
    } catch {
      sessionStorage.removeItem(SESSION_KEY);
    }
  }

  function sessionClear() {
    state.access = state.refresh = state.user = null;
    sessionStorage.removeItem(SESSION_KEY);
  }

  function tokenSecondsLeft(token) {
    try {
      const payload = JSON.parse(atob(token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));
      return payload.exp - Date.now() / 1000;
    } catch {
      return 0;
    }
  }

  // API ----------------------------------------------------------------------------

  class ApiError extends Error {
    constructor(status, message, errors) {
      super(message);
      this.status = status;
      this.errors = errors || {};
    }
  }

  class SessionEnded extends Error {}

  let refreshing = null;

  // Refresh tokens rotate and the old one is revoked, so concurrent 401s share one refresh.
  function tokensRefresh() {
    if (!refreshing) {
      refreshing = (async () => {
        const response = await fetch("/auth/refresh", {
          method: "POST",
          headers: { "Content-Type": "application/json", Accept: "application/json" },
          body: JSON.stringify({ refresh: state.refresh }),
        });
        if (!response.ok) throw new SessionEnded("Your session has ended. Please log in again.");
        const { data } = await response.json();
        state.access = data.access;
        state.refresh = data.refresh || state.refresh;
        sessionSave();
      })().finally(() => {
        refreshing = null;
      });
    }
    return refreshing;
  }

  // fetch() with the access token, refreshed once and retried when the server answers 401.
  async function authorizedFetch(path, init = {}) {
    const send = () =>
      fetch(path, { ...init, headers: { ...(init.headers || {}), Authorization: `Bearer ${state.access}` } });
    let response = await send();
    if (response.status === 401 && state.refresh) {
      try {
        await tokensRefresh();
      } catch (error) {
        signOut(error.message);
        throw error;
      }
      response = await send();
    }
    return response;
  }

  async function errorOf(response) {
    let body = null;
    try {
      body = await response.json();
    } catch {
      // not JSON: a proxy's page or an empty body
    }
    const message = (body && body.message) || `Something went wrong (${response.status}). Please try again.`;
    return new ApiError(response.status, message, body && body.errors);
  }

  async function api(path, { method = "GET", body, auth = true } = {}) {
    const init = { method, headers: { Accept: "application/json" } };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const response = auth ? await authorizedFetch(path, init) : await fetch(path, init);
    if (!response.ok) throw await errorOf(response);
    return response.json();
  }

  // Small helpers ---------------------------------------------------------------------

  function announce(text) {
    const announcer = $("announcer");
    announcer.textContent = "";
    setTimeout(() => {
      announcer.textContent = text;
    }, 50);
  }

  function showError(text) {
    const box = $("chat-error");
    box.textContent = text;
    box.hidden = !text;
  }

  function reportError(error) {
    if (error instanceof SessionEnded) return;
    if (error.name === "AbortError") return;
    showError(error.message || "Something went wrong. Please try again.");
  }

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function parseTime(value) {
    // The API's times are UTC without an offset.
    return new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(value) ? value : `${value}Z`);
  }

  function shortDate(value) {
    const date = parseTime(value);
    const today = new Date();
    if (date.toDateString() === today.toDateString()) {
      return date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    }
    return date.toLocaleDateString([], { month: "short", day: "numeric" });
  }

  function titleOf(conversation) {
    return (conversation && conversation.title) || "New conversation";
  }

  // Signing in and out ----------------------------------------------------------------

  function showSignedIn() {
    document.body.classList.add("signed-in");
    $("auth-view").hidden = true;
    $("app-view").hidden = false;
    $("account").hidden = false;
    $("account-name").textContent = state.user ? state.user.name || state.user.email : "";
  }

  function showSignedOut(message) {
    document.body.classList.remove("signed-in");
    $("app-view").hidden = true;
    $("account").hidden = true;
    $("auth-view").hidden = false;
    $("login-error").textContent = message || "";
    tabSelect("login");
  }

  async function signIn(data) {
    state.access = data.access;
    state.refresh = data.refresh;
    state.user = data.user;
    sessionSave();
    showSignedIn();
    await appStart();
  }

  function signOut(message) {
    voiceClose();
    replyDetach();
    sessionClear();
    state.conversations.clear();
    state.currentId = null;
    $("conversations").replaceChildren();
    $("message-list").replaceChildren();
    showSignedOut(message);
  }

  async function logout() {
    const refresh = state.refresh;
    signOut();
    announce("Logged out");
    if (refresh) {
      // Revokes the refresh token; the page has already forgotten both.
      fetch("/auth/logout", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ refresh }),
      }).catch(() => {});
    }
  }

  function tabSelect(which) {
    for (const name of ["login", "register"]) {
      const selected = name === which;
      const tab = $(`tab-${name}`);
      tab.setAttribute("aria-selected", String(selected));
      tab.tabIndex = selected ? 0 : -1;
      $(`${name}-panel`).hidden = !selected;
    }
  }

  function fieldErrorsShow(form, errors) {
    for (const input of form.querySelectorAll("input")) {
      const box = $(`${input.id}-error`);
      const messages = errors[input.name];
      input.setAttribute("aria-invalid", messages ? "true" : "false");
      if (box) box.textContent = messages ? messages.join(" ") : "";
    }
  }

  async function authSubmit(event, path) {
    event.preventDefault();
    const form = event.currentTarget;
    const button = form.querySelector("button[type=submit]");
    const errorBox = form.querySelector(".form-error");
    const body = Object.fromEntries(new FormData(form));
    errorBox.textContent = "";
    fieldErrorsShow(form, {});
    button.disabled = true;
    try {
      const { data } = await api(path, { method: "POST", body, auth: false });
      form.reset();
      await signIn(data);
    } catch (error) {
      errorBox.textContent = error.message;
      if (error instanceof ApiError) fieldErrorsShow(form, error.errors);
    } finally {
      button.disabled = false;
    }
  }

  // Personalities ---------------------------------------------------------------------

  async function personalitiesLoad() {
    if (state.personalities.length) return;
    const { data } = await api("/personalities", { auth: false });
    state.personalities = data;
    const select = $("personality");
    select.replaceChildren(
      ...data.map((personality) => {
        const option = element("option", "", personality.name);
        option.value = personality.key;
        option.title = personality.description;
        return option;
      }),
    );
  }

  // The chosen personality, or none (the conversation's own) before the list has loaded.
  function personalityChosen() {
    return $("personality").value || undefined;
  }

  function personalitySet(key) {
    const select = $("personality");
    if (key && [...select.options].some((option) => option.value === key)) select.value = key;
    select.title = select.selectedOptions[0] ? select.selectedOptions[0].title : "";
  }

  // Conversations ---------------------------------------------------------------------

  async function appStart() {
    state.conversations.clear();
    $("conversations").replaceChildren();
    state.nextPage = 1;
    chatNew();
    try {
      await personalitiesLoad();
      if (!state.currentId) personalitySet(state.user && state.user.default_personality);
      await conversationsLoadMore();
    } catch (error) {
      reportError(error);
    }
  }

  async function conversationsLoadMore() {
    const button = $("load-more");
    button.disabled = true;
    try {
      const { data } = await api(`/chats?page=${state.nextPage}&per_page=${CONVERSATIONS_PER_PAGE}`);
      for (const conversation of data.conversations) {
        // Chats created here since the first page shift the pages: skip any seen already.
        if (!state.conversations.has(conversation.id)) conversationAdd(conversation, { atTop: false });
      }
      state.nextPage = data.pagination.next;
      button.hidden = !data.pagination.next;
      conversationsEmptyShow();
    } finally {
      button.disabled = false;
    }
  }

  function conversationsEmptyShow() {
    $("conversations-empty").hidden = state.conversations.size > 0;
  }

  function conversationRow(conversation) {
    const row = element("li", "conversation");
    row.dataset.id = conversation.id;
    conversationRowFill(row, conversation);
    return row;
  }

  function conversationRowFill(row, conversation) {
    const open = element("button", "conversation-open");
    open.type = "button";
    open.append(element("span", "conversation-title", titleOf(conversation)));
    open.append(element("span", "conversation-date", shortDate(conversation.created_at)));
    open.addEventListener("click", () => conversationOpen(conversation.id));

    const rename = iconButton("rename", `Rename “${titleOf(conversation)}”`);
    rename.addEventListener("click", () => renameStart(conversation.id));
    const remove = iconButton("delete", `Delete “${titleOf(conversation)}”`);
    remove.classList.add("icon-button-danger");
    remove.addEventListener("click", () => deleteAsk(conversation.id));
    row.replaceChildren(open, rename, remove);
    if (conversation.id === state.currentId) row.setAttribute("aria-current", "page");
  }

  const ICONS = {
    rename: "M4 20h4L19 9l-4-4L4 16v4zM14 6l4 4",
    delete: "M5 7h14M10 7V4h4v3M7 7l1 13h8l1-13",
  };

  function iconButton(icon, label) {
    const button = element("button", "icon-button");
    button.type = "button";
    button.title = label;
    button.setAttribute("aria-label", label);
    const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("width", "17");
    svg.setAttribute("height", "17");
    svg.setAttribute("aria-hidden", "true");
    const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
    path.setAttribute("d", ICONS[icon]);
    path.setAttribute("fill", "none");
    path.setAttribute("stroke", "currentColor");
    path.setAttribute("stroke-width", "2");
    path.setAttribute("stroke-linejoin", "round");
    svg.append(path);
    button.append(svg);
    return button;
  }

  function conversationAdd(conversation, { atTop }) {
    state.conversations.set(conversation.id, conversation);
    const row = conversationRow(conversation);
    const list = $("conversations");
    if (atTop) list.prepend(row);
    else list.append(row);
    conversationsEmptyShow();
  }

  function rowOf(id) {
    return $("conversations").querySelector(`li[data-id="${CSS.escape(id)}"]`);
  }

  function conversationUpdate(id, changes) {
    const conversation = state.conversations.get(id);
    if (!conversation) return;
    Object.assign(conversation, changes);
    const row = rowOf(id);
    if (row && !row.querySelector("form")) conversationRowFill(row, conversation);
    if (id === state.currentId) $("chat-title").textContent = titleOf(conversation);
  }

  // The list is ordered by latest activity, as the server orders it.
  function conversationToTop(id) {
    const row = rowOf(id);
    if (row && row !== $("conversations").firstElementChild) $("conversations").prepend(row);
  }

  function currentMark() {
    for (const row of $("conversations").children) {
      if (row.dataset.id === state.currentId) row.setAttribute("aria-current", "page");
      else row.removeAttribute("aria-current");
    }
  }

  function sidebarClose() {
    $("sidebar").classList.remove("open");
    $("sidebar-toggle").setAttribute("aria-expanded", "false");
  }

  // A fresh chat: nothing is created until the first message or the microphone.
  function chatNew() {
    voiceClose();
    replyDetach();
    state.currentId = null;
    state.earlierPage = null;
    currentMark();
    $("chat-title").textContent = "New conversation";
    $("message-list").replaceChildren();
    $("welcome").hidden = false;
    $("load-earlier").hidden = true;
    personalitySet(state.user && state.user.default_personality);
    showError("");
    sidebarClose();
    $("composer-input").focus();
  }

  async function conversationCreate() {
    const { data } = await api("/chats", { method: "POST", body: { personality: personalityChosen() } });
    conversationAdd(data, { atTop: true });
    state.currentId = data.id;
    currentMark();
    $("chat-title").textContent = titleOf(data);
    return data.id;
  }

  async function conversationOpen(id) {
    if (id === state.currentId) {
      sidebarClose();
      return;
    }
    voiceClose();
    replyDetach();
    showError("");
    state.currentId = id;
    currentMark();
    sidebarClose();
    const conversation = state.conversations.get(id);
    $("chat-title").textContent = titleOf(conversation);
    $("welcome").hidden = true;
    $("message-list").replaceChildren();
    $("load-earlier").hidden = true;
    try {
      let { data } = await api(`/chats/${id}?page=1&per_page=${MESSAGES_PER_PAGE}`);
      const last = data.pagination.total_pages;
      if (last > 1) ({ data } = await api(`/chats/${id}?page=${last}&per_page=${MESSAGES_PER_PAGE}`));
      if (state.currentId !== id) return;
      conversationUpdate(id, data.conversation);
      personalitySet(data.conversation.personality);
      $("message-list").replaceChildren(...data.messages.map(messageRender));
      state.earlierPage = data.pagination.prev;
      $("load-earlier").hidden = !data.pagination.prev;
      $("welcome").hidden = data.messages.length > 0;
      scrollToEnd(true);
    } catch (error) {
      reportError(error);
    }
  }

  async function earlierLoad() {
    const id = state.currentId;
    const button = $("load-earlier");
    button.disabled = true;
    try {
      const { data } = await api(`/chats/${id}?page=${state.earlierPage}&per_page=${MESSAGES_PER_PAGE}`);
      if (state.currentId !== id) return;
      const messages = $("messages");
      const fromBottom = messages.scrollHeight - messages.scrollTop;
      $("message-list").prepend(...data.messages.map(messageRender));
      messages.scrollTop = messages.scrollHeight - fromBottom;
      state.earlierPage = data.pagination.prev;
      button.hidden = !data.pagination.prev;
    } catch (error) {
      reportError(error);
    } finally {
      button.disabled = false;
    }
  }

  // Rename, in place in the list.
  function renameStart(id) {
    const row = rowOf(id);
    const conversation = state.conversations.get(id);
    if (!row || row.querySelector("form")) return;
    const form = element("form", "rename-form");
    const label = element("label", "visually-hidden", "New title");
    const input = element("input");
    input.id = `rename-${id}`;
    label.htmlFor = input.id;
    input.name = "title";
    input.maxLength = 255;
    input.required = true;
    input.value = conversation.title || "";
    const save = element("button", "button button-primary", "Save");
    save.type = "submit";
    const cancel = element("button", "button button-quiet", "Cancel");
    cancel.type = "button";
    form.append(label, input, save, cancel);
    row.replaceChildren(form);

    const finish = () => {
      conversationRowFill(row, state.conversations.get(id));
      row.querySelector(".conversation-open").focus();
    };
    cancel.addEventListener("click", finish);
    input.addEventListener("keydown", (event) => {
      if (event.key === "Escape") finish();
    });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const title = input.value.trim();
      if (!title) {
        input.focus();
        return;
      }
      save.disabled = true;
      try {
        const { data } = await api(`/chats/${id}/title`, { method: "PATCH", body: { title } });
        state.conversations.get(id).title = data.title;
        finish();
        conversationUpdate(id, data);
        announce(`Renamed to ${data.title}`);
      } catch (error) {
        save.disabled = false;
        reportError(error);
      }
    });
    input.focus();
    input.select();
  }

  // Delete, after asking.
  let deleting = null;

  function deleteAsk(id) {
    deleting = id;
    $("delete-dialog-text").textContent =
      `“${titleOf(state.conversations.get(id))}” and all its messages will be gone for good.`;
    $("delete-dialog").showModal();
  }

  async function deleteConfirmed(id) {
    try {
      await api(`/chats/${id}`, { method: "DELETE" });
      state.conversations.delete(id);
      const row = rowOf(id);
      if (row) row.remove();
      conversationsEmptyShow();
      if (id === state.currentId) chatNew();
      announce("Conversation deleted");
    } catch (error) {
      reportError(error);
    }
  }

  // Messages ---------------------------------------------------------------------------

  function scrollToEnd(force) {
    const messages = $("messages");
    const nearEnd = messages.scrollHeight - messages.scrollTop - messages.clientHeight < 120;
    if (force || nearEnd) messages.scrollTop = messages.scrollHeight;
  }

  function messageRender(message) {
    const item = element("li", `message message-${message.sender === "user" ? "user" : "ai"}`);
    if (message.id) item.dataset.messageId = message.id;
    const bubble = element("div", "bubble", message.message || "");
    const meta = element("div", "message-meta");
    item.append(bubble, meta);
    if (message.created_at) {
      const time = element("time", "", shortDate(message.created_at));
      time.dateTime = parseTime(message.created_at).toISOString();
      meta.append(time);
    }
    if (message.source === "voice") meta.append(element("span", "badge badge-voice", "Voice"));
    if (message.sender !== "user") {
      statusShow(item, message.status || "complete");
      disclaimerShow(item, message.disclaimer, { live: false });
    }
    return item;
  }

  function replyPlaceholder() {
    const item = messageRender({ sender: "ai", message: "" });
    item.setAttribute("aria-busy", "true");
    statusShow(item, "streaming");
    $("message-list").append(item);
    $("welcome").hidden = true;
    scrollToEnd(true);
    return item;
  }

  function userMessageShow(text, source) {
    const item = messageRender({ sender: "user", message: text, source, created_at: new Date().toISOString() });
    $("message-list").append(item);
    $("welcome").hidden = true;
    scrollToEnd(true);
    return item;
  }

  function statusShow(item, status) {
    item.dataset.status = status;
    const meta = item.querySelector(".message-meta");
    const old = meta.querySelector(".badge-status");
    if (old) old.remove();
    // A reply still streaming in this page shows its cursor; the badge is for saved states.
    if (status === "complete" || (status === "streaming" && item.getAttribute("aria-busy") === "true")) return;
    meta.append(element("span", `badge badge-status badge-${status}`, STATUS_LABELS[status] || status));
  }

  // General categories get a quiet line under the reply. An emergency gets a banner above it
  // holding the safety notice, which the server sends as the reply's first paragraph before
  // anything the model says, and the disclaimer.
  function disclaimerShow(item, disclaimer, { live }) {
    for (const old of item.querySelectorAll(".disclaimer, .emergency-notice")) old.remove();
    if (!disclaimer || !disclaimer.message) return;
    if (disclaimer.primary_category !== "emergency") {
      const line = element("p", "disclaimer", disclaimer.message);
      line.dataset.category = disclaimer.primary_category;
      item.append(line);
      return;
    }
    const bubble = item.querySelector(".bubble");
    if (item.dataset.notice === undefined) {
      const text = bubble.textContent;
      const cut = text.indexOf("\n\n");
      item.dataset.notice = cut > 0 ? text.slice(0, cut) : "";
      if (cut > 0) bubble.textContent = text.slice(cut + 2);
    }
    const banner = element("div", "emergency-notice");
    if (live) banner.setAttribute("role", "alert");
    banner.append(element("strong", "", "Get help now"));
    if (item.dataset.notice) banner.append(element("p", "emergency-text", item.dataset.notice));
    banner.append(element("p", "emergency-disclaimer", disclaimer.message));
    item.insertBefore(banner, bubble);
    item.classList.add("message-emergency");
  }

  function replyErrorShow(item, text) {
    item.querySelector(".message-error")?.remove();
    item.append(element("p", "message-error", text));
  }

  function replyFinish(item, { status, disclaimer, error }) {
    item.removeAttribute("aria-busy");
    statusShow(item, error ? "error" : status || "complete");
    if (error) replyErrorShow(item, error);
    disclaimerShow(item, disclaimer, { live: true });
    const banner = item.querySelector(".emergency-notice");
    if (banner) banner.scrollIntoView({ block: "start" });
    else scrollToEnd(false);
  }

  // Sending a text message and reading the streamed reply --------------------------

  // The SSE frames of a fetch() response: `data: <json>` lines, blank-line separated;
  // comment lines (the keep-alives) are skipped.
  async function* sseEvents(response) {
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer = (buffer + value).replace(/\r\n/g, "\n");
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = frame
            .split("\n")
            .filter((line) => line.startsWith("data:"))
            .map((line) => line.slice(5).replace(/^ /, ""))
            .join("\n");
          if (data) yield JSON.parse(data);
        }
      }
    } finally {
      reader.releaseLock();
    }
  }

  function replyBusy(busy) {
    $("stop").hidden = !busy;
    $("send").disabled = busy;
    $("messages").setAttribute("aria-busy", String(busy));
  }

  // Stop reading the stream here (another conversation opened); the reply itself goes on.
  function replyDetach() {
    if (state.reply) state.reply.controller.abort();
    state.reply = null;
    replyBusy(false);
  }

  async function messageSend(text) {
    showError("");
    let conversationId = state.currentId;
    if (!conversationId) {
      try {
        conversationId = await conversationCreate();
      } catch (error) {
        if (!$("composer-input").value) $("composer-input").value = text;
        throw error;
      }
    }
    const controller = new AbortController();
    const reply = { controller, conversationId, messageId: null };
    state.reply = reply;
    replyBusy(true);
    const said = userMessageShow(text, "text");
    const item = replyPlaceholder();
    let finished = false;
    try {
      const response = await authorizedFetch(`/chats/${conversationId}/message`, {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "text/event-stream" },
        body: JSON.stringify({ message: text, personality: personalityChosen() }),
        signal: controller.signal,
      });
      if (!response.ok) {
        // Refused (a reply already running, a limit reached…): nothing was saved, so the
        // words go back into the box to send again.
        const error = await errorOf(response);
        item.remove();
        said.remove();
        $("welcome").hidden = $("message-list").children.length > 0;
        const input = $("composer-input");
        if (!input.value) {
          input.value = text;
          composerResize();
        }
        showError(error.message);
        finished = true;
        return;
      }
      conversationToTop(conversationId);
      announce("Nora is replying");
      const bubble = item.querySelector(".bubble");
      for await (const event of sseEvents(response)) {
        if (event.type === "start") {
          reply.messageId = event.message_id;
          item.dataset.messageId = event.message_id;
          if (event.title) conversationUpdate(conversationId, { title: event.title });
        } else if (event.type === "chunk") {
          bubble.append(event.content);
          scrollToEnd(false);
        } else if (event.type === "done") {
          if (event.title) conversationUpdate(conversationId, { title: event.title });
          replyFinish(item, { status: event.status, disclaimer: event.disclaimer });
          finished = true;
          announce(event.status === "stopped" ? "Reply stopped" : "Nora replied");
        } else if (event.type === "error") {
          replyFinish(item, { error: event.message });
          finished = true;
          announce("The reply failed");
        }
      }
      if (!finished) {
        replyFinish(item, { status: "incomplete", error: "The connection was lost before the reply finished." });
        finished = true;
      }
    } catch (error) {
      if (!finished) {
        if (error.name === "AbortError") {
          item.removeAttribute("aria-busy");
        } else {
          replyFinish(item, { error: "The connection was lost before the reply finished." });
        }
      }
    } finally {
      if (state.reply === reply) {
        state.reply = null;
        replyBusy(false);
      }
    }
  }

  async function replyStop() {
    const reply = state.reply;
    if (!reply) return;
    $("stop").disabled = true;
    try {
      await api(`/chats/${reply.conversationId}/stop`, { method: "POST" });
    } catch (error) {
      reportError(error);
    } finally {
      $("stop").disabled = false;
    }
  }

  // Voice ------------------------------------------------------------------------------

  function base64Of(buffer) {
    const bytes = new Uint8Array(buffer);
    let binary = "";
    for (let i = 0; i < bytes.length; i += 0x8000) {
      binary += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
    }
    return btoa(binary);
  }

  let ticketsSupported = true;

  // A one-time ticket when the server offers them, so no token sits in a URL; else the token.
  async function socketCredential() {
    if (ticketsSupported) {
      try {
        const { data } = await api("/auth/ws-ticket", { method: "POST" });
        return `ticket=${encodeURIComponent(data.ticket)}`;
      } catch (error) {
        if (!(error instanceof ApiError) || (error.status !== 404 && error.status !== 405)) throw error;
        ticketsSupported = false;
      }
    }
    if (tokenSecondsLeft(state.access) < 30) await tokensRefresh();
    return `token=${encodeURIComponent(state.access)}`;
  }

  class VoiceSession {
    constructor(conversationId) {
      this.conversationId = conversationId;
      this.socket = null;
      this.mic = null; // {stream, context, node}
      this.talking = false;
      this.reply = null; // the AI message element being spoken into
      this.closed = false;
    }

    async connect({ retried = false } = {}) {
      const credential = await socketCredential();
      const scheme = location.protocol === "https:" ? "wss" : "ws";
      const query = [
        credential,
        "encoding=linear16",
        "sample_rate=16000",
        "channels=1",
        personalityChosen() && `personality=${encodeURIComponent(personalityChosen())}`,
      ]
        .filter(Boolean)
        .join("&");
      const socket = new WebSocket(`${scheme}://${location.host}/chats/ws/voice/${this.conversationId}?${query}`);
      this.socket = socket;
      const outcome = await new Promise((resolve) => {
        socket.onmessage = (event) => {
          const message = JSON.parse(event.data);
          if (message.type === "status" && message.session_id) resolve({ ok: true });
          else if (message.type === "error") resolve({ ok: false, message: message.message });
        };
        socket.onclose = (event) => resolve({ ok: false, code: event.code });
        socket.onerror = () => {};
      });
      if (!outcome.ok) {
        if (socket.readyState === WebSocket.OPEN) {
          // The socket said why (an error message) and is about to close.
          await new Promise((resolve) => {
            socket.onclose = (event) => resolve((outcome.code = event.code));
          });
        }
        if (outcome.code === 4001 && !retried) {
          await tokensRefresh();
          return this.connect({ retried: true });
        }
        throw new Error(outcome.message || "Could not connect the microphone to Nora. Please try again.");
      }
      socket.onmessage = (event) => this.received(JSON.parse(event.data));
      socket.onclose = () => this.closedByServer();
      this.pinger = setInterval(() => this.send({ type: "ping", timestamp: new Date().toISOString() }), PING_SECONDS * 1000);
    }

    send(message) {
      if (this.socket && this.socket.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(message));
    }

    async micOpen() {
      const stream = await navigator.mediaDevices.getUserMedia({
        audio: { channelCount: 1, echoCancellation: true, noiseSuppression: true, autoGainControl: true },
      });
      const context = new AudioContext();
      try {
        await context.audioWorklet.addModule(document.body.dataset.workletUrl);
        const source = context.createMediaStreamSource(stream);
        const node = new AudioWorkletNode(context, "pcm-downsampler", { numberOfInputs: 1, numberOfOutputs: 1, outputChannelCount: [1] });
        // A silent path to the destination keeps the graph pulled in every browser.
        const mute = context.createGain();
        mute.gain.value = 0;
        source.connect(node).connect(mute).connect(context.destination);
        node.port.onmessage = (event) => this.audioFromWorklet(event.data);
        if (context.state === "suspended") await context.resume();
        this.mic = { stream, context, node };
      } catch (error) {
        stream.getTracks().forEach((track) => track.stop());
        context.close();
        throw error;
      }
    }

    audioFromWorklet(message) {
      if (message.type === "chunk" && this.talking) {
        this.send({ type: "audio_chunk", data: base64Of(message.samples) });
      } else if (message.type === "flushed" && this.flushed) {
        this.flushed(message.samples);
      }
    }

    async micClose() {
      const mic = this.mic;
      this.mic = null;
      if (!mic) return;
      // The samples the worklet still holds (under 100 ms) belong to this utterance.
      const rest = await new Promise((resolve) => {
        this.flushed = resolve;
        mic.node.port.postMessage({ type: "flush" });
        setTimeout(() => resolve(null), FLUSH_WAIT_MS);
      });
      this.flushed = null;
      if (rest && rest.byteLength) this.send({ type: "audio_chunk", data: base64Of(rest) });
      mic.stream.getTracks().forEach((track) => track.stop());
      mic.node.port.onmessage = null;
      mic.context.close();
    }

    async startTalking() {
      await this.micOpen();
      if (this.reply) {
        // Speaking over Nora's reply interrupts it; the server keeps what was said.
        this.replyEnd({ status: "incomplete" });
      }
      this.talking = true;
      this.send({ type: "start_talking" });
    }

    async stopTalking() {
      if (!this.talking) return;
      await this.micClose();
      this.talking = false;
      this.send({ type: "stop_talking" });
      voiceStatusShow("Thinking…");
    }

    received(message) {
      switch (message.type) {
        case "status":
          voiceStatusShow(message.message);
          break;
        case "partial_transcript":
          $("voice-partial").textContent = message.text ? `“${message.text}”` : "";
          break;
        case "final_transcript":
          $("voice-partial").textContent = "";
          conversationToTop(this.conversationId);
          if (this.conversationId === state.currentId) {
            userMessageShow(message.text, "voice");
            this.reply = replyPlaceholder();
          }
          voiceStatusShow(this.talking ? "Listening… Speak now" : "Nora is answering…");
          break;
        case "ai_response":
          this.replyText(message);
          break;
        case "title":
          conversationUpdate(this.conversationId, { title: message.text });
          break;
        case "error":
          if (this.reply && !this.reply.querySelector(".bubble").textContent) {
            this.replyEnd({ error: message.message });
          } else {
            showError(message.message);
          }
          voiceStatusShow(this.talking ? "Listening… Speak now" : IDLE);
          break;
        default:
          break; // pong, and anything newer than this page
      }
    }

    replyText(message) {
      if (this.conversationId !== state.currentId) return;
      if (!this.reply) this.reply = replyPlaceholder();
      const bubble = this.reply.querySelector(".bubble");
      if (message.is_complete) {
        bubble.textContent = message.text;
        this.replyEnd({ status: message.status || "complete", disclaimer: message.disclaimer });
        announce("Nora replied");
        if (!this.talking) voiceStatusShow(IDLE);
      } else {
        bubble.append(message.text);
        scrollToEnd(false);
      }
    }

    replyEnd(outcome) {
      if (!this.reply) return;
      replyFinish(this.reply, outcome);
      this.reply = null;
    }

    closedByServer() {
      if (this.closed) return;
      voiceClose();
      showError("The voice connection closed. Tap the microphone to talk again.");
    }

    close() {
      this.closed = true;
      clearInterval(this.pinger);
      this.talking = false;
      this.micClose();
      if (this.reply) this.replyEnd({ status: "incomplete" });
      if (this.socket && this.socket.readyState <= WebSocket.OPEN) this.socket.close(1000);
    }
  }

  const IDLE = "Tap the microphone to talk";

  function voiceStatusShow(text) {
    const bar = $("voice-bar");
    bar.hidden = !text;
    bar.dataset.idle = String(text === IDLE);
    $("voice-status").textContent = text || "";
  }

  function micShow(talking) {
    const mic = $("mic");
    mic.setAttribute("aria-pressed", String(talking));
    mic.title = talking ? "Stop talking" : "Talk to Nora";
    $("mic-label").textContent = talking ? "Stop talking" : "Start talking";
  }

  function voiceClose() {
    if (state.voice) state.voice.close();
    state.voice = null;
    micShow(false);
    voiceStatusShow("");
    $("voice-partial").textContent = "";
  }

  let micBusy = false;

  async function micToggle() {
    if (micBusy) return;
    micBusy = true;
    const mic = $("mic");
    mic.disabled = true;
    showError("");
    try {
      if (state.voice && state.voice.talking) {
        micShow(false);
        await state.voice.stopTalking();
        return;
      }
      if (!navigator.mediaDevices || !window.AudioWorkletNode) {
        throw new Error("This browser cannot record audio here (it needs a secure page: https or localhost).");
      }
      const conversationId = state.currentId || (await conversationCreate());
      if (!state.voice || state.voice.conversationId !== conversationId) {
        voiceClose();
        voiceStatusShow("Connecting…");
        const voice = new VoiceSession(conversationId);
        state.voice = voice;
        try {
          await voice.connect();
        } catch (error) {
          if (state.voice === voice) voiceClose();
          throw error;
        }
      }
      await state.voice.startTalking();
      micShow(true);
    } catch (error) {
      if (state.voice && !state.voice.talking) voiceStatusShow(IDLE);
      if (error.name === "NotAllowedError") {
        showError("Nora needs permission to use the microphone.");
      } else if (error.name === "NotFoundError") {
        showError("No microphone was found.");
      } else {
        reportError(error);
      }
    } finally {
      mic.disabled = false;
      micBusy = false;
    }
  }

  // Wiring -----------------------------------------------------------------------------

  function composerResize() {
    const input = $("composer-input");
    input.style.height = "auto";
    input.style.height = `${Math.min(input.scrollHeight, window.innerHeight * 0.4)}px`;
  }

  function wire() {
    $("tab-login").addEventListener("click", () => tabSelect("login"));
    $("tab-register").addEventListener("click", () => tabSelect("register"));
    for (const tab of document.querySelectorAll("[role=tab]")) {
      tab.addEventListener("keydown", (event) => {
        if (event.key !== "ArrowLeft" && event.key !== "ArrowRight") return;
        const other = tab.id === "tab-login" ? "register" : "login";
        tabSelect(other);
        $(`tab-${other}`).focus();
      });
    }
    $("login-form").addEventListener("submit", (event) => authSubmit(event, "/auth/login"));
    $("register-form").addEventListener("submit", (event) => authSubmit(event, "/auth/register"));
    $("logout").addEventListener("click", logout);

    $("new-chat").addEventListener("click", chatNew);
    $("load-more").addEventListener("click", () => conversationsLoadMore().catch(reportError));
    $("load-earlier").addEventListener("click", earlierLoad);
    $("sidebar-toggle").addEventListener("click", () => {
      const open = $("sidebar").classList.toggle("open");
      $("sidebar-toggle").setAttribute("aria-expanded", String(open));
    });

    // On small screens the list lies over the chat: a tap beside it or Escape puts it away.
    document.addEventListener("click", (event) => {
      // The path, not event.target.closest(): a click can replace its own target (rename does).
      const inside = event.composedPath().some((node) => node === $("sidebar") || node === $("sidebar-toggle"));
      if ($("sidebar").classList.contains("open") && !inside) sidebarClose();
    });
    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && $("sidebar").classList.contains("open")) {
        sidebarClose();
        $("sidebar-toggle").focus();
      }
    });

    $("delete-dialog").addEventListener("close", () => {
      const id = deleting;
      deleting = null;
      if ($("delete-dialog").returnValue === "delete" && id) deleteConfirmed(id);
    });

    $("personality").addEventListener("change", () => {
      personalitySet($("personality").value);
      // The socket speaks with the personality it was opened with: reopen it on the next press.
      if (state.voice && !state.voice.talking) voiceClose();
    });

    const input = $("composer-input");
    input.addEventListener("input", composerResize);
    input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        $("composer").requestSubmit();
      }
    });
    $("composer").addEventListener("submit", (event) => {
      event.preventDefault();
      const text = input.value.trim();
      if (!text || state.reply) return;
      input.value = "";
      composerResize();
      messageSend(text).catch(reportError);
    });
    $("stop").addEventListener("click", replyStop);
    $("mic").addEventListener("click", micToggle);
  }

  async function boot() {
    wire();
    sessionLoad();
    if (!state.access) {
      showSignedOut();
      return;
    }
    try {
      const { data } = await api("/auth/me");
      state.user = data;
      sessionSave();
      showSignedIn();
      await appStart();
    } catch (error) {
      if (!(error instanceof SessionEnded)) {
        sessionClear();
        showSignedOut();
      }
    }
  }

  boot();
})();
