// The MAX simulator page: acts as a MAX user talking to the bot, shows what the bot
// sends, and opens the mini-app with signed launch data when «Открыть» is pressed.

const $ = (id) => document.getElementById(id);
const log = $("log");
let lastId = 0;
let polling = null;

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

function show(entry) {
  const li = document.createElement("li");
  if (entry.kind === "incoming") {
    li.className = "msg me";
    li.textContent = entry.body?.text ?? "";
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
  log.append(li);
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

function restart() {
  remember();
  lastId = 0;
  log.replaceChildren();
  clearInterval(polling);
  poll();
  polling = setInterval(poll, 1000);
}

restore();
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
