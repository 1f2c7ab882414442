// The MAX simulator page: acts as a MAX user talking to the bot, shows what the bot
// sends, and opens the mini-app with signed launch data when «Открыть» is pressed.

const $ = (id) => document.getElementById(id);
const log = $("log");
let lastId = 0;
let polling = null;
// Ids already on the page: a poll after sending and the timer's poll may both bring a message.
const seen = new Set();

function user() {
  return {
    user_id: Number($("user-id").value),
    first_name: $("first-name").value.trim(),
  };
}

function remember() {
  localStorage.setItem("gosdom.sim.user", JSON.stringify(user()));
}

function restore() {
  let saved = null;
  try {
    saved = JSON.parse(localStorage.getItem("gosdom.sim.user") || "null");
  } catch {
    saved = null;
  }
  $("user-id").value = saved?.user_id || 200000000 + Math.floor(Math.random() * 1000000);
  $("first-name").value = saved?.first_name || "Житель";
}

async function post(path, body) {
  const res = await fetch(`/dev/max/api/${path}`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) {
    throw new Error(data?.error?.message || `Ошибка ${res.status}`);
  }
  return data;
}

// Bot texts use MAX's HTML format: keep the formatting tags, drop everything else.
const ALLOWED = new Set(["B", "STRONG", "I", "EM", "U", "S", "CODE", "PRE", "A", "BR"]);
function renderHtml(text, into) {
  const doc = new DOMParser().parseFromString(`<body>${text}</body>`, "text/html");
  const copy = (from, to) => {
    for (const node of from.childNodes) {
      if (node.nodeType === Node.TEXT_NODE) {
        to.append(node.textContent);
      } else if (node.nodeType === Node.ELEMENT_NODE) {
        if (!ALLOWED.has(node.tagName)) {
          copy(node, to);
          continue;
        }
        const el = document.createElement(node.tagName);
        const href = node.getAttribute("href");
        if (node.tagName === "A" && href && /^https?:\/\//.test(href)) {
          el.href = href;
          el.target = "_blank";
          el.rel = "noopener";
        }
        copy(node, el);
        to.append(el);
      }
    }
  };
  copy(doc.body, into);
}

function toast(text) {
  const el = $("toast");
  el.textContent = text;
  el.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { el.hidden = true; }, 3000);
}

function button(spec) {
  const el = document.createElement("button");
  el.type = "button";
  el.textContent = spec.text;
  el.addEventListener("click", () => press(spec).catch((e) => toast(e.message)));
  return el;
}

async function press(spec) {
  if (spec.type === "open_app") {
    await openApp(spec.payload);
  } else if (spec.type === "link") {
    // The bot's own startapp link opens the mini-app here, as MAX would.
    if (/^https:\/\/max\.ru\/[^/?]+\?startapp/.test(spec.url)) {
      const payload = new URL(spec.url).searchParams.get("startapp") || undefined;
      await openApp(payload);
    } else {
      window.open(spec.url, "_blank", "noopener");
    }
  } else if (spec.type === "callback") {
    await post("callback", { ...user(), payload: spec.payload });
  }
}

async function openApp(payload) {
  const { url } = await post("launch", { ...user(), payload });
  $("app").src = url;
  $("app-tab").href = url;
  $("app-tab").hidden = false;
  $("app-hint").hidden = true;
}

function show(entry, into = log) {
  if (seen.has(entry.id)) return;
  seen.add(entry.id);
  const li = document.createElement("li");
  if (entry.kind === "incoming") {
    li.className = entry.body?.event ? "msg event" : "msg me";
    if (entry.body?.from && !entry.body?.event) {
      const from = document.createElement("span");
      from.className = "from";
      from.textContent = entry.body.from;
      li.append(from);
    }
    li.append(entry.body?.text ?? "");
  } else if (entry.kind === "message") {
    li.className = "msg bot";
    const text = document.createElement("div");
    if (entry.body?.format === "html") {
      renderHtml(entry.body.text ?? "", text);
    } else {
      text.textContent = entry.body?.text ?? "";
    }
    li.append(text);
    for (const attachment of entry.body?.attachments ?? []) {
      if (attachment.type !== "inline_keyboard") continue;
      const keyboard = document.createElement("div");
      keyboard.className = "keyboard";
      for (const row of attachment.payload?.buttons ?? []) {
        const rowEl = document.createElement("div");
        rowEl.className = "row";
        row.forEach((spec) => rowEl.append(button(spec)));
        keyboard.append(rowEl);
      }
      li.append(keyboard);
    }
  } else if (entry.kind === "answer") {
    const note = entry.body?.answer?.notification;
    if (note) toast(note);
    return;
  } else {
    return;
  }
  into.append(li);
  li.scrollIntoView({ block: "end" });
}

async function poll() {
  const { user_id } = user();
  if (!user_id) return;
  try {
    const res = await fetch(`/dev/max/api/messages?user_id=${user_id}&after=${lastId}`);
    if (!res.ok) return;
    const { messages } = await res.json();
    for (const entry of messages) {
      lastId = Math.max(lastId, entry.id);
      show(entry);
    }
  } catch {
    // The server restarts now and then in development; the next poll catches up.
  }
}

// The simulated house chat: one group chat at a time, kept across reloads.
let groupId = Number(localStorage.getItem("gosdom.sim.group")) || 0;
let groupLast = 0;

function showGroup() {
  $("group-id").textContent = groupId ? `чат ${groupId}` : "";
  $("group-text").disabled = !groupId;
  $("group-send").disabled = !groupId;
}

async function pollGroup() {
  if (!groupId) return;
  try {
    const res = await fetch(`/dev/max/api/group/messages?chat_id=${groupId}&after=${groupLast}`);
    if (!res.ok) return;
    const { messages } = await res.json();
    for (const entry of messages) {
      groupLast = Math.max(groupLast, entry.id);
      show(entry, $("group-log"));
    }
  } catch {
    // As for the dialog: the next poll catches up.
  }
}

async function addToGroup() {
  const { chat_id } = await post("group/add", user());
  groupId = chat_id;
  groupLast = 0;
  localStorage.setItem("gosdom.sim.group", String(groupId));
  $("group-log").replaceChildren();
  showGroup();
  await pollGroup();
}

function restart() {
  remember();
  lastId = 0;
  seen.clear();
  groupLast = 0;
  $("group-log").replaceChildren();
  log.replaceChildren();
  clearInterval(polling);
  poll();
  pollGroup();
  polling = setInterval(() => { poll(); pollGroup(); }, 1000);
}

restore();
showGroup();
restart();
$("user-id").addEventListener("change", restart);
$("first-name").addEventListener("change", remember);
$("start").addEventListener("click", () => post("start", user()).then(poll).catch((e) => toast(e.message)));
$("stop").addEventListener("click", () => post("stop", user()).then(poll).catch((e) => toast(e.message)));
$("compose").addEventListener("submit", (event) => {
  event.preventDefault();
  const text = $("text").value.trim();
  if (!text) return;
  $("text").value = "";
  post("send", { ...user(), text }).then(poll).catch((e) => toast(e.message));
});
$("group-add").addEventListener("click", () => addToGroup().catch((e) => toast(e.message)));
$("group-compose").addEventListener("submit", (event) => {
  event.preventDefault();
  const text = $("group-text").value.trim();
  if (!text || !groupId) return;
  $("group-text").value = "";
  post("group/send", { ...user(), chat_id: groupId, text }).then(pollGroup).catch((e) => toast(e.message));
});
