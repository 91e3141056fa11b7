/*! buergerbot web chat – EUPL-1.2. One tag adds the chat to any page:
 *  <script src="https://GATEWAY/embed.js" defer data-title="Bürgerservice-Chat"
 *          data-color="#005a8c" data-lang="de"></script>
 *  Optional: data-gateway (default: where this script came from), data-launcher (button text),
 *  data-privacy-url (link to the full privacy statement), data-position="left".
 *  Safe rendering: messages are only ever inserted as text nodes; links are built from http(s)
 *  URLs only. No innerHTML anywhere in this file. */
(() => {
  "use strict";
  const TAG = "buergerbot-chat";
  if (!window.customElements || customElements.get(TAG)) return;
  const script = document.currentScript;
  const DATA = (script && script.dataset) || {};
  const GATEWAY = (DATA.gateway || new URL(".", (script && script.src) || location.href).href)
    .replace(/\/+$/, "");
  const WS_GATEWAY = GATEWAY.replace(/^http/, "ws");
  const KEY = "buergerbot:" + GATEWAY;

  const TEXTS = {
    de: {
      launcher: "Fragen an die Stadt", title: "Bürgerservice-Chat", close: "Chat schließen",
      input: "Ihre Nachricht", placeholder: "Ihre Frage …", send: "Senden",
      mic: "Spracheingabe", micOn: "Ich höre zu … (zum Beenden erneut drücken)",
      micError: "Das Mikrofon ist nicht verfügbar.",
      you: "Sie:", bot: "Assistent:", staff: "Mitarbeiterin/Mitarbeiter:", system: "Hinweis:",
      source: "Quelle:", sources: "Quellen:", newWindow: "(öffnet in neuem Fenster)",
      rating: "Bewertung der Antwort", up: "Antwort war hilfreich",
      down: "Antwort war nicht hilfreich", thanks: "Danke für Ihre Bewertung.",
      replies: "Antwortvorschläge", human: "Mit einem Menschen sprechen",
      del: "Gespräch löschen", confirm: "Das Gespräch mit allen Nachrichten endgültig löschen?",
      yes: "Ja, löschen", cancel: "Abbrechen", deleted: "Das Gespräch wurde gelöscht.",
      privacyTitle: "Hinweis zum Datenschutz",
      privacy: (d) => "Ihre Nachrichten und die Antworten werden gespeichert, damit das " +
        "Gespräch beim Neuladen erhalten bleibt und Mitarbeitende es bei Bedarf übernehmen " +
        "können. Gespeichert werden nur die Texte und Ihre Bewertungen; der Chat speichert " +
        `keine IP-Adressen. Nach ${d} Tagen ohne neue Nachricht wird das Gespräch ` +
        "automatisch gelöscht, und Sie können es jederzeit selbst löschen. Bitte geben Sie " +
        "keine vertraulichen Daten wie Ausweis- oder Steuernummern ein.",
      privacyMore: "Datenschutzerklärung", privacyAgain: "Datenschutz",
      accept: "Verstanden, Chat starten", typing: "Antwort wird geschrieben …",
      history: "Gesprächsverlauf", failed: "Nicht gesendet.",
      offline: "Keine Verbindung zum Server. Bitte versuchen Sie es gleich noch einmal.",
      reconnecting: "Verbindung unterbrochen – neuer Versuch …",
      queued: "Sie warten auf eine Mitarbeiterin oder einen Mitarbeiter. Sie können hier " +
        "weiterschreiben.",
      assigned: "Eine Mitarbeiterin oder ein Mitarbeiter betreut jetzt Ihr Gespräch.",
      callback: "Ihr Rückrufwunsch ist aufgenommen.",
      unread: (n) => (n === 1 ? "1 neue Nachricht" : `${n} neue Nachrichten`),
      tooLong: (n) => `Die Nachricht ist zu lang (höchstens ${n} Zeichen).`,
      count: (n, m) => `${n} von ${m} Zeichen`,
    },
    en: {
      launcher: "Ask the city", title: "Citizen service chat", close: "Close chat",
      input: "Your message", placeholder: "Your question …", send: "Send",
      mic: "Voice input", micOn: "Listening … (press again to stop)",
      micError: "The microphone is not available.",
      you: "You:", bot: "Assistant:", staff: "Staff member:", system: "Note:",
      source: "Source:", sources: "Sources:", newWindow: "(opens in a new window)",
      rating: "Rate this answer", up: "Answer was helpful", down: "Answer was not helpful",
      thanks: "Thank you for your rating.", replies: "Suggested replies",
      human: "Talk to a person", del: "Delete conversation",
      confirm: "Delete the conversation and all its messages for good?", yes: "Yes, delete",
      cancel: "Cancel", deleted: "The conversation has been deleted.",
      privacyTitle: "Privacy notice",
      privacy: (d) => "Your messages and the answers are stored so that the conversation " +
        "survives a reload and staff can take over if needed. Only the texts and your " +
        `ratings are stored; the chat stores no IP addresses. After ${d} days without a new ` +
        "message the conversation is deleted automatically, and you can delete it yourself " +
        "at any time. Please do not enter confidential data such as ID or tax numbers.",
      privacyMore: "Privacy policy", privacyAgain: "Privacy",
      accept: "Understood, start chat", typing: "Writing an answer …",
      history: "Conversation", failed: "Not sent.",
      offline: "No connection to the server. Please try again in a moment.",
      reconnecting: "Connection lost – trying again …",
      queued: "You are waiting for a staff member. You can keep writing here.",
      assigned: "A staff member is now looking after your conversation.",
      callback: "Your callback request has been recorded.",
      unread: (n) => (n === 1 ? "1 new message" : `${n} new messages`),
      tooLong: (n) => `The message is too long (at most ${n} characters).`,
      count: (n, m) => `${n} of ${m} characters`,
    },
  };
  const LANG = TEXTS[DATA.lang] ? DATA.lang : "de";
  const T = TEXTS[LANG];

  // -- colours: the city's accent, with a text colour that always reaches 4.5:1 ---------------
  const luminance = (hex) => {
    const n = hex.length === 4 ? hex.replace(/\w/g, "$&$&").slice(1) : hex.slice(1);
    const [r, g, b] = [0, 2, 4].map((i) => {
      const c = parseInt(n.slice(i, i + 2), 16) / 255;
      return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const contrast = (a, b) => {
    const [x, y] = [luminance(a), luminance(b)].sort((p, q) => q - p);
    return (x + 0.05) / (y + 0.05);
  };
  const ACCENT = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.test(DATA.color || "") ? DATA.color : "#005a8c";
  const ON_ACCENT = contrast(ACCENT, "#ffffff") >= contrast(ACCENT, "#000000") ? "#ffffff" : "#000000";
  const LINK = contrast(ACCENT, "#eef1f4") >= 4.5 ? ACCENT : "#0b4f7c";

  // -- safe DOM helpers ---------------------------------------------------------------------------
  const el = (tag, attrs, ...kids) => {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === true) node.setAttribute(k, "");
      else if (v !== false && v != null) node.setAttribute(k, String(v));
    }
    for (const kid of kids) if (kid != null) node.append(kid); // strings become text nodes
    return node;
  };
  const ICONS = {
    chat: "M4 4h16v11H8l-4 4z",
    close: "M6 6l12 12M18 6L6 18",
    send: "M3 20l18-8L3 4l2 7 9 1-9 1z",
    mic: "M12 3a3 3 0 013 3v6a3 3 0 01-6 0V6a3 3 0 013-3zM6 11a6 6 0 0012 0M12 17v4",
    up: "M7 10v10H3V10zM7 10l4-7c2 0 3 1 2.5 3L13 9h6a2 2 0 012 2l-2 7a2 2 0 01-2 2H7",
    down: "M7 14V4H3v10zM7 14l4 7c2 0 3-1 2.5-3L13 15h6a2 2 0 002-2l-2-7a2 2 0 00-2-2H7",
    trash: "M4 7h16M9 7V4h6v3M6 7l1 13h10l1-13",
    info: "M12 22a10 10 0 110-20 10 10 0 010 20zM12 11v6M12 7v.5",
  };
  const icon = (name) => {
    const ns = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    const path = document.createElementNS(ns, "path");
    path.setAttribute("d", ICONS[name]);
    svg.append(path);
    return svg;
  };
  const safeUrl = (raw) => {
    try {
      const url = new URL(raw);
      return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
    } catch (_) {
      return null;
    }
  };
  const link = (href, label) => el("a", { href, target: "_blank", rel: "noopener noreferrer" },
    label, el("span", { class: "sr-only" }, " " + T.newWindow));
  // [label](https://…) and bare http(s) URLs become links; everything else stays text.
  const LINKS = /\[([^\]\n]{1,200})\]\((https?:\/\/[^\s)]{1,2000})\)|https?:\/\/[^\s<>"]{1,2000}/g;
  const richText = (parent, text) => {
    let last = 0;
    for (const m of text.matchAll(LINKS)) {
      parent.append(text.slice(last, m.index));
      let url = m[2] || m[0];
      let tail = "";
      if (!m[2]) {
        const t = /[.,;:!?)]+$/.exec(url);
        if (t) [url, tail] = [url.slice(0, -t[0].length), t[0]];
      }
      const href = safeUrl(url);
      parent.append(href ? link(href, m[1] || url) : m[1] ? m[0] : url, tail);
      last = m.index + m[0].length;
    }
    parent.append(text.slice(last));
    return parent;
  };

  const store = {
    get() {
      try { return JSON.parse(localStorage.getItem(KEY) || "{}") || {}; } catch (_) { return {}; }
    },
    set(patch) {
      try { localStorage.setItem(KEY, JSON.stringify({ ...store.get(), ...patch })); } catch (_) { /* private mode */ }
    },
    session(value) {
      try {
        if (value === undefined) return sessionStorage.getItem(KEY) === "open";
        sessionStorage.setItem(KEY, value ? "open" : "closed");
      } catch (_) { /* private mode */ }
      return false;
    },
  };
  const newId = () => Array.from(crypto.getRandomValues(new Uint8Array(16)),
    (b) => b.toString(16).padStart(2, "0")).join("");

  const CSS = `
:host{all:initial;position:fixed;z-index:2147483000;bottom:1rem;right:1rem;
 font:1rem/1.5 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;color:#1b1b1b}
:host([data-position=left]){right:auto;left:1rem}
*,*::before,*::after{box-sizing:border-box}
[hidden]{display:none!important}
.sr-only{position:absolute;width:1px;height:1px;margin:-1px;padding:0;overflow:hidden;
 clip:rect(0 0 0 0);white-space:nowrap;border:0}
button,textarea{font:inherit;color:inherit}
button{cursor:pointer}
svg{width:1.25rem;height:1.25rem;fill:none;stroke:currentColor;stroke-width:2;
 stroke-linecap:round;stroke-linejoin:round;flex:none}
.launcher{display:flex;align-items:center;gap:.5rem;min-height:3rem;padding:.625rem 1.25rem;
 border:2px solid ${ON_ACCENT};border-radius:1.5rem;background:${ACCENT};color:${ON_ACCENT};
 font-weight:600;box-shadow:0 2px 10px rgba(0,0,0,.35)}
.badge{min-width:1.5rem;padding:0 .375rem;border-radius:.75rem;background:#fff;color:#1b1b1b;
 font-size:.875rem;text-align:center}
.panel{position:fixed;bottom:1rem;right:1rem;display:flex;flex-direction:column;
 width:min(26rem,calc(100vw - 2rem));height:min(42rem,calc(100vh - 2rem));background:#fff;
 border:1px solid #6b6b6b;border-radius:.75rem;overflow:hidden;box-shadow:0 6px 24px rgba(0,0,0,.3)}
:host([data-position=left]) .panel{right:auto;left:1rem}
.head{display:flex;align-items:center;gap:.25rem;padding:.5rem .5rem .5rem 1rem;
 background:${ACCENT};color:${ON_ACCENT}}
h2{flex:1;margin:0;font-size:1.125rem;line-height:1.3}
h3{margin:0 0 .25rem;font-size:1rem}
.icon{display:inline-flex;align-items:center;justify-content:center;min-width:2.75rem;
 min-height:2.75rem;padding:0;border:2px solid transparent;border-radius:.5rem;
 background:transparent;color:inherit}
.icon:hover{background:rgba(127,127,127,.2)}
.bar{margin:0;padding:.5rem 1rem;border-bottom:1px solid #c4c4c4;background:#fff8e1;font-size:.9375rem}
.bar p{margin:0 0 .5rem}
.scroll{flex:1;overflow-y:auto;padding:1rem;background:#fff;overscroll-behavior:contain}
.privacy{padding:.75rem 1rem;border:1px solid #6b6b6b;border-radius:.5rem;background:#f6f7f8;
 font-size:.9375rem}
.privacy p{margin:0 0 .5rem}
ol{list-style:none;margin:0;padding:0}
li{display:flex;flex-direction:column;align-items:flex-start;margin:.75rem 0}
.bubble{max-width:88%;padding:.5rem .75rem;border-radius:.75rem;background:#eef1f4;
 white-space:pre-wrap;overflow-wrap:anywhere}
.who{font-size:.8125rem;color:#4a4a4a;margin-bottom:.125rem}
.citizen{align-items:flex-end}
.citizen .bubble{background:${ACCENT};color:${ON_ACCENT}}
.system .bubble,.notice .bubble{max-width:100%;background:#fff8e1;border:1px solid #8a6d00}
.pending .bubble{opacity:.85}
.failed .bubble{border:2px solid #b00020}
.error{margin:.25rem 0 0;color:#b00020;font-size:.875rem}
a{color:${LINK};text-decoration:underline}
.citizen a{color:inherit}
.sources{margin:.375rem 0 0;font-size:.9375rem}
.rate{display:flex;gap:.25rem;margin-top:.25rem}
.rate button{display:inline-flex;align-items:center;justify-content:center;width:2.25rem;
 height:2.25rem;border:1px solid #767676;border-radius:.5rem;background:#fff;color:#4a4a4a}
.rate button[aria-pressed=true]{background:#1b1b1b;border-color:#1b1b1b;color:#fff}
.replies{display:flex;flex-wrap:wrap;gap:.5rem;margin-top:.5rem}
.btn{min-height:2.75rem;padding:.375rem .875rem;border:2px solid ${LINK};border-radius:1.375rem;
 background:#fff;color:${LINK};font-weight:600;text-align:left}
.btn:hover{background:#eef1f4}
.primary{border-color:${ACCENT};background:${ACCENT};color:${ON_ACCENT}}
.primary:hover{background:${ACCENT};text-decoration:underline}
.typing{display:flex;align-items:center;gap:.5rem;color:#4a4a4a;font-size:.9375rem}
.dots{display:inline-flex;gap:.25rem}
.dots i{width:.5rem;height:.5rem;border-radius:50%;background:#6b6b6b;animation:bb 1.2s infinite}
.dots i:nth-child(2){animation-delay:.2s}.dots i:nth-child(3){animation-delay:.4s}
@keyframes bb{0%,80%,100%{opacity:.3}40%{opacity:1}}
form{display:flex;align-items:flex-end;gap:.375rem;padding:.5rem;border-top:1px solid #c4c4c4}
textarea{flex:1;min-height:2.75rem;max-height:8rem;padding:.5rem .625rem;resize:none;
 border:2px solid #767676;border-radius:.5rem;background:#fff;line-height:1.4}
textarea::placeholder{color:#595959;opacity:1}
.send{border-color:${ACCENT};background:${ACCENT};color:${ON_ACCENT}}
.send:hover{background:${ACCENT}}
.mic{border-color:#767676}
.mic[aria-pressed=true]{background:#b00020;border-color:#b00020;color:#fff}
.count{margin:0;padding:0 .75rem;font-size:.8125rem;color:#4a4a4a;text-align:right}
.foot{padding:0 .5rem .375rem}
.link{min-height:2.5rem;padding:.25rem .5rem;border:2px solid transparent;border-radius:.5rem;
 background:none;color:${LINK};text-decoration:underline;font-weight:600;font-size:.9375rem}
.status{margin:0;padding:.25rem 1rem;background:#fdecea;color:#7a0016;font-size:.875rem}
/* Last, so no component style hides it: a white ring inside a dark one shows on any colour. */
:focus-visible{outline:3px solid #fff;box-shadow:0 0 0 6px #1b1b1b;outline-offset:0}
a:focus-visible{border-radius:2px}
@media (max-width:30em),(max-height:32em){
 .panel{inset:0;width:100%;height:100%;border:0;border-radius:0}
 :host([data-position=left]) .panel{left:0}
 .launcher{padding:.625rem 1rem}}
@media (prefers-reduced-motion:reduce){*{animation:none!important;transition:none!important;
 scroll-behavior:auto!important}}
@media (forced-colors:active){.launcher,.send,.primary,.btn,.rate button{border:2px solid ButtonText}}
`;

  class BuergerbotChat extends HTMLElement {
    constructor() {
      super();
      this.root = this.attachShadow({ mode: "open" });
      const sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS);
      this.root.adoptedStyleSheets = [sheet];
      const saved = store.get();
      this.cid = typeof saved.cid === "string" && /^[A-Za-z0-9_-]{1,64}$/.test(saved.cid)
        ? saved.cid : newId();
      this.accepted = saved.accepted === true;
      store.set({ cid: this.cid });
      this.lastSeq = 0;
      this.pending = new Map(); // ref → {li, text}
      this.titles = new Map(); // button payload → title, to show quick replies as clicked
      this.ratings = {};
      this.retention = 30;
      this.maxText = 2000;
      this.voice = null;
      this.ws = null;
      this.live = false;
      this.failures = 0;
      this.unread = 0;
      this.refs = 0;
      this.build();
    }

    // -- building -------------------------------------------------------------------------------
    build() {
      const title = DATA.title || T.title;
      this.badge = el("span", { class: "badge", hidden: true });
      this.launcher = el("button", { class: "launcher", type: "button", "aria-expanded": "false",
        "aria-controls": "bb-panel" }, icon("chat"), el("span", {}, DATA.launcher || T.launcher),
      this.badge);
      const close = el("button", { class: "icon", type: "button", "aria-label": T.close,
        title: T.close }, icon("close"));
      this.delBtn = el("button", { class: "icon", type: "button", "aria-label": T.del,
        title: T.del }, icon("trash"));
      this.yes = el("button", { class: "btn", type: "button" }, T.yes);
      this.no = el("button", { class: "btn", type: "button" }, T.cancel);
      this.confirmBar = el("div", { class: "bar", role: "group", "aria-labelledby": "bb-confirm",
        hidden: true }, el("p", { id: "bb-confirm" }, T.confirm),
      el("div", { class: "replies" }, this.yes, this.no));
      this.banner = el("p", { class: "bar", hidden: true });
      this.status = el("p", { class: "status", role: "status", hidden: true });
      this.privacyText = el("p", {}, T.privacy(this.retention));
      this.accept = el("button", { class: "btn primary", type: "button" }, T.accept);
      const more = safeUrl(DATA.privacyUrl || "");
      this.privacy = el("section", { class: "privacy", "aria-labelledby": "bb-privacy" },
        el("h3", { id: "bb-privacy" }, T.privacyTitle), this.privacyText,
        more ? el("p", {}, link(more, T.privacyMore)) : null, this.accept);
      this.log = el("ol", {});
      this.typingRow = el("div", { class: "typing", hidden: true },
        el("span", { class: "dots", "aria-hidden": "true" }, el("i"), el("i"), el("i")),
        el("span", {}, T.typing));
      this.scroller = el("div", { class: "scroll", role: "region", "aria-label": T.history,
        tabindex: "0" }, this.privacy, this.log, this.typingRow);
      this.input = el("textarea", { id: "bb-input", rows: "1", placeholder: T.placeholder,
        maxlength: String(this.maxText), "aria-describedby": "bb-count", autocomplete: "off" });
      this.mic = el("button", { class: "icon mic", type: "button", "aria-label": T.mic,
        title: T.mic, "aria-pressed": "false", hidden: true }, icon("mic"));
      this.sendBtn = el("button", { class: "icon send", type: "submit", "aria-label": T.send,
        title: T.send }, icon("send"));
      this.form = el("form", {}, el("label", { for: "bb-input", class: "sr-only" }, T.input),
        this.input, this.mic, this.sendBtn);
      this.count = el("p", { class: "count", id: "bb-count", hidden: true });
      this.human = el("button", { class: "link", type: "button" }, T.human);
      this.privacyAgain = el("button", { class: "icon", type: "button", "aria-expanded": "false",
        "aria-controls": "bb-privacy-box", "aria-label": T.privacyAgain, title: T.privacyAgain },
      icon("info"));
      this.privacy.id = "bb-privacy-box";
      this.footer = el("div", { class: "foot" }, this.human);
      this.announcer = el("div", { class: "sr-only", "aria-live": "polite" });
      this.panel = el("section", { id: "bb-panel", class: "panel", role: "dialog",
        "aria-modal": "false", "aria-labelledby": "bb-title", hidden: true },
      el("div", { class: "head" }, el("h2", { id: "bb-title" }, title), this.privacyAgain, this.delBtn,
        close),
      this.confirmBar, this.banner, this.status, this.scroller, this.form, this.count,
      this.footer, this.announcer);
      this.root.append(this.launcher, this.panel);

      this.launcher.addEventListener("click", () => this.open(true));
      close.addEventListener("click", () => this.close());
      this.panel.addEventListener("keydown", (e) => {
        if (e.key !== "Escape") return;
        e.preventDefault();
        if (this.askDelete(false)) this.delBtn.focus();
        else this.close();
      });
      this.accept.addEventListener("click", () => this.acceptPrivacy());
      this.privacyAgain.addEventListener("click", () => this.togglePrivacy());
      this.form.addEventListener("submit", (e) => { e.preventDefault(); this.submit(); });
      this.input.addEventListener("keydown", (e) => {
        if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); this.submit(); }
      });
      this.input.addEventListener("input", () => this.resize());
      this.human.addEventListener("click", () => this.action({ type: "handoff" }));
      this.delBtn.addEventListener("click", () => this.askDelete(true));
      this.no.addEventListener("click", () => { this.askDelete(false); this.delBtn.focus(); });
      this.yes.addEventListener("click", () => { this.askDelete(false); this.action({ type: "delete" }); });
      this.mic.addEventListener("click", () => this.toggleMic());
      document.addEventListener("visibilitychange", () => {
        if (!document.hidden && this.started && !this.ws) this.connect();
      });
      this.renderPrivacy();
    }

    connectedCallback() {
      this.setAttribute("lang", LANG); // attributes only now: a constructor may not set them
      if (DATA.position === "left") this.setAttribute("data-position", "left");
      if (store.session()) this.open(false); // keep it open across navigation, without focus
    }

    // -- opening and closing ------------------------------------------------------------------
    open(focus) {
      this.panel.hidden = false;
      this.launcher.hidden = true;
      this.launcher.setAttribute("aria-expanded", "true");
      store.session(true);
      this.unread = 0;
      this.renderBadge();
      if (!this.started) {
        this.started = true;
        this.connect();
        this.poller = setInterval(() => { if (!this.live && !this.panel.hidden) this.sync(); }, 8000);
      }
      this.scrollDown();
      if (focus) (this.accepted ? this.input : this.accept).focus();
    }

    close() {
      this.askDelete(false);
      this.stopMic();
      this.panel.hidden = true;
      this.launcher.hidden = false;
      this.launcher.setAttribute("aria-expanded", "false");
      store.session(false);
      this.launcher.focus();
    }

    renderBadge() {
      this.badge.hidden = this.unread === 0;
      this.badge.textContent = String(this.unread);
      const label = (DATA.launcher || T.launcher) + (this.unread ? ", " + T.unread(this.unread) : "");
      this.launcher.setAttribute("aria-label", label);
    }

    acceptPrivacy() {
      this.accepted = true;
      store.set({ accepted: true });
      this.renderPrivacy();
      this.input.focus();
    }

    togglePrivacy() {
      this.privacy.hidden = !this.privacy.hidden;
      this.privacyAgain.setAttribute("aria-expanded", String(!this.privacy.hidden));
      if (!this.privacy.hidden) this.scroller.scrollTop = 0;
    }

    renderPrivacy() {
      this.privacyText.textContent = T.privacy(this.retention);
      this.privacy.hidden = this.accepted;
      this.accept.hidden = this.accepted;
      this.form.hidden = !this.accepted;
      this.footer.hidden = !this.accepted;
      this.privacyAgain.hidden = !this.accepted;
    }

    askDelete(show) {
      if (this.confirmBar.hidden === !show) return false;
      this.confirmBar.hidden = !show;
      if (show) this.no.focus();
      return true;
    }

    // -- the line to the gateway: WebSocket first, HTTP as fallback ---------------------------
    connect() {
      if (this.ws) return;
      let ws;
      try {
        ws = new WebSocket(WS_GATEWAY + "/api/v1/ws");
      } catch (_) {
        this.fallback();
        return;
      }
      this.ws = ws;
      let welcomed = false;
      ws.onopen = () => ws.send(JSON.stringify({ type: "hello", conversation_id: this.cid,
        after: this.lastSeq }));
      ws.onmessage = (event) => {
        let frame;
        try { frame = JSON.parse(event.data); } catch (_) { return; }
        if (frame.type === "welcome") {
          welcomed = true;
          this.live = true;
          this.failures = 0;
          this.setStatus("");
        }
        this.onFrame(frame);
      };
      ws.onclose = () => {
        this.ws = null;
        this.live = false;
        clearInterval(this.pinger);
        this.failures = welcomed ? 1 : this.failures + 1;
        this.typing(false);
        for (const [ref] of this.pending) this.markFailed(ref, "", true);
        if (this.failures >= 2) this.fallback();
        else this.setStatus(T.reconnecting);
        const delay = Math.min(30000, 500 * 2 ** Math.min(this.failures, 6)) * (0.5 + Math.random() / 2);
        clearTimeout(this.retry);
        this.retry = setTimeout(() => { if (!document.hidden) this.connect(); }, delay);
      };
      clearInterval(this.pinger);
      this.pinger = setInterval(() => {
        if (this.live) ws.send(JSON.stringify({ type: "ping" }));
      }, 25000);
    }

    fallback() {
      if (this.fellBack) return;
      this.fellBack = true;
      this.api("GET", "/api/v1/widget").then(({ status, data }) => {
        if (status === 200) this.configure(data.voice, data.retention_days, data.max_text);
      }).catch(() => {});
      this.sync();
    }

    send(frame) {
      if (!this.live || this.ws.readyState !== WebSocket.OPEN) return false;
      this.ws.send(JSON.stringify(frame));
      return true;
    }

    async api(method, path, body) {
      const res = await fetch(GATEWAY + path, { method, credentials: "omit", cache: "no-store",
        headers: body ? { "Content-Type": "application/json" } : {},
        body: body ? JSON.stringify(body) : undefined });
      let data = null;
      try { data = res.status === 204 ? null : await res.json(); } catch (_) { data = null; }
      return { status: res.status, data };
    }

    async sync(ref) {
      try {
        const { status, data } = await this.api("GET",
          `/api/v1/conversations/${this.cid}/messages?after=${this.lastSeq}`);
        if (status === 200) this.applyMessages(data.messages, data.handoff, ref, this.lastSeq > 0);
        this.setStatus("");
      } catch (_) {
        this.setStatus(T.offline);
      }
    }

    configure(voice, retention, maxText) {
      this.voice = typeof voice === "string" && voice.startsWith("/") ? voice : null;
      if (Number.isInteger(retention) && retention > 0) this.retention = retention;
      if (Number.isInteger(maxText) && maxText > 0) this.maxText = maxText;
      this.input.setAttribute("maxlength", String(this.maxText));
      this.mic.hidden = !(this.voice && window.isSecureContext && window.AudioWorkletNode &&
        navigator.mediaDevices && navigator.mediaDevices.getUserMedia);
      this.renderPrivacy();
    }

    onFrame(frame) {
      switch (frame.type) {
        case "welcome":
          this.configure(frame.voice, frame.retention_days, frame.max_text);
          this.ratings = frame.ratings || {};
          this.afterWelcome = true;
          break;
        case "messages": {
          const quiet = this.afterWelcome && this.lastSeq === 0; // a restored history
          this.afterWelcome = false;
          this.applyMessages(frame.messages, frame.handoff, frame.ref, !quiet);
          break;
        }
        case "typing":
          this.typing(frame.active === true);
          break;
        case "rated":
          this.setRating(frame.seq, frame.rating);
          this.announce(T.thanks);
          break;
        case "deleted":
          this.reset();
          break;
        case "error":
          this.onError(frame.code, frame.message, frame.ref);
          break;
        default:
          break;
      }
    }

    onError(code, message, ref) {
      const text = typeof message === "string" && message ? message : T.failed;
      if (ref && this.pending.has(ref)) this.markFailed(ref, text);
      else this.notice(text);
      if (code === "dialogue-unavailable" || !ref) this.typing(false);
    }

    // -- citizen actions ------------------------------------------------------------------------
    submit() {
      const text = this.input.value.trim();
      if (!text) return;
      if (text.length > this.maxText) {
        this.announce(T.tooLong(this.maxText));
        return;
      }
      this.input.value = "";
      this.resize();
      this.say(text, text);
    }

    say(text, shown) {
      const ref = "r" + (++this.refs) + "-" + Date.now().toString(36);
      const li = this.renderMessage({ role: "citizen", text: shown });
      li.classList.add("pending");
      this.pending.set(ref, { li, text });
      this.renderReplies();
      this.scrollDown();
      if (this.send({ type: "message", text, ref })) return;
      this.typing(true);
      this.api("POST", "/api/v1/chat", { conversation_id: this.cid, text })
        .then(async ({ status, data }) => {
          const err = (data && data.error) || {};
          if (status === 200 || status === 503) await this.sync(ref);
          if (status !== 200) this.onError(err.code, err.message, status === 503 ? null : ref);
        })
        .catch(() => this.markFailed(ref, T.offline))
        .finally(() => this.typing(false));
    }

    action(frame) {
      if (this.send(frame)) return;
      const path = `/api/v1/conversations/${this.cid}`;
      const call = frame.type === "delete" ? this.api("DELETE", path)
        : frame.type === "handoff" ? this.api("POST", path + "/handoff", {})
          : this.api("POST", path + "/feedback", { seq: frame.seq, rating: frame.rating });
      call.then(({ status, data }) => {
        if (frame.type === "delete" && (status === 204 || status === 404)) this.reset();
        else if (frame.type === "handoff" && status === 200) this.sync();
        else if (frame.type === "feedback" && status === 200) this.onFrame({ type: "rated", ...data });
        else this.notice((data && data.error && data.error.message) || T.failed);
      }).catch(() => this.notice(T.offline));
    }

    reset() {
      this.log.replaceChildren();
      this.pending.clear();
      this.titles.clear();
      this.ratings = {};
      this.lastSeq = 0;
      this.setHandoff(null);
      this.cid = newId();
      store.set({ cid: this.cid });
      if (this.live) this.send({ type: "hello", conversation_id: this.cid, after: 0 });
      this.announce(T.deleted);
      this.notice(T.deleted, true);
      if (!this.panel.hidden) this.input.focus();
    }

    // -- rendering ------------------------------------------------------------------------------
    applyMessages(messages, handoff, ref, announce) {
      let firstAnswer = null;
      for (const m of Array.isArray(messages) ? messages : []) {
        if (!Number.isInteger(m.seq) || m.seq <= this.lastSeq) continue;
        this.lastSeq = m.seq;
        if (m.role === "citizen") {
          const mine = ref && this.pending.get(ref);
          if (mine && mine.text === m.text) {
            mine.li.remove();
            this.pending.delete(ref);
          } else {
            for (const [r, p] of this.pending) {
              if (p.text === m.text) { p.li.remove(); this.pending.delete(r); break; }
            }
          }
        }
        const li = this.renderMessage(m);
        if (announce && m.role !== "citizen") {
          this.announceMessage(m);
          firstAnswer = firstAnswer || li;
        }
      }
      if (ref && this.pending.has(ref) && this.pending.get(ref).li.classList.contains("failed") === false) {
        // The frame answers this ref but did not contain it: it was stored earlier.
        this.pending.get(ref).li.remove();
        this.pending.delete(ref);
      }
      if (handoff !== undefined) this.setHandoff(handoff);
      this.renderReplies();
      this.scrollDown(firstAnswer);
    }

    renderMessage(m) {
      const role = ["citizen", "bot", "staff", "system"].includes(m.role) ? m.role : "system";
      const text = typeof m.text === "string" ? m.text : "";
      const bubble = el("div", { class: "bubble" });
      if (role === "citizen") bubble.append(this.titles.get(text) || text);
      else richText(bubble, text);
      const sources = (Array.isArray(m.sources) ? m.sources : []).filter((s) => s && s.title);
      if (sources.length) {
        const p = el("p", { class: "sources" }, (sources.length > 1 ? T.sources : T.source) + " ");
        sources.forEach((s, i) => {
          const href = typeof s.url === "string" ? safeUrl(s.url) : null;
          p.append(i ? ", " : "", href ? link(href, String(s.title)) : String(s.title));
        });
        bubble.append(p);
      }
      const li = el("li", { class: "msg " + role },
        role === "staff" || role === "system"
          ? el("span", { class: "who", "aria-hidden": "true" }, T[role].replace(":", "")) : null,
        el("span", { class: "sr-only" }, T[role] + " "), bubble);
      if (Number.isInteger(m.seq)) li.dataset.seq = String(m.seq);
      const buttons = (Array.isArray(m.buttons) ? m.buttons : [])
        .filter((b) => b && typeof b.title === "string" && typeof b.payload === "string");
      for (const b of buttons) this.titles.set(b.payload, b.title);
      li.buttons = buttons;
      if (role === "bot" && Number.isInteger(m.seq)) li.append(this.rateGroup(m.seq));
      this.log.append(li);
      if (role !== "citizen" && this.panel.hidden) { this.unread += 1; this.renderBadge(); }
      return li;
    }

    rateGroup(seq) {
      const group = el("div", { class: "rate", role: "group", "aria-label": T.rating });
      for (const rating of ["up", "down"]) {
        const b = el("button", { type: "button", "aria-label": T[rating], title: T[rating],
          "aria-pressed": String(this.ratings[seq] === rating), "data-rating": rating }, icon(rating));
        b.addEventListener("click", () => this.action({ type: "feedback", seq, rating }));
        group.append(b);
      }
      return group;
    }

    setRating(seq, rating) {
      this.ratings[seq] = rating;
      const li = this.log.querySelector(`li[data-seq="${Number(seq)}"]`);
      if (!li) return;
      for (const b of li.querySelectorAll(".rate button")) {
        b.setAttribute("aria-pressed", String(b.dataset.rating === rating));
      }
    }

    renderReplies() {
      const hadFocus = this.root.activeElement && this.root.activeElement.closest(".replies.quick");
      for (const old of this.log.querySelectorAll(".replies.quick")) old.remove();
      const last = this.log.lastElementChild;
      if (last && !last.classList.contains("citizen") && last.buttons && last.buttons.length) {
        const group = el("div", { class: "replies quick", role: "group", "aria-label": T.replies });
        for (const b of last.buttons) {
          const btn = el("button", { class: "btn", type: "button" }, b.title);
          btn.addEventListener("click", () => { this.say(b.payload, b.title); this.input.focus(); });
          group.append(btn);
        }
        last.append(group);
      }
      if (hadFocus && !this.panel.hidden) this.input.focus();
    }

    notice(text, quiet) {
      const li = el("li", { class: "msg notice" }, el("span", { class: "sr-only" }, T.system + " "),
        el("div", { class: "bubble" }, text));
      this.log.append(li);
      if (!quiet) this.announce(text);
      this.scrollDown();
    }

    markFailed(ref, text, keepPending) {
      const p = this.pending.get(ref);
      if (!p) return;
      p.li.classList.remove("pending");
      p.li.classList.add("failed");
      const note = (T.failed + " " + text).trim();
      p.li.append(el("p", { class: "error" }, note));
      if (!keepPending) this.pending.delete(ref);
      this.announce(note);
    }

    setHandoff(handoff) {
      const status = handoff && handoff.status;
      this.showBanner({ queued: T.queued, assigned: T.assigned, callback_requested: T.callback }[status]);
      this.human.hidden = status === "queued" || status === "assigned";
      if (status === "queued" && LANG === "de") {
        // The staff part tells the place in the queue and a rough wait (German only).
        this.api("GET", `/api/v1/conversations/${this.cid}/handoff`).then(({ status: code, data }) => {
          if (code === 200 && data.status === "queued" && typeof data.text === "string") this.showBanner(data.text);
        }).catch(() => {});
      }
    }

    showBanner(text) {
      this.banner.hidden = !text;
      this.banner.textContent = text || "";
      if (text && text !== this.lastBanner) this.announce(text);
      this.lastBanner = text;
    }

    setStatus(text) {
      this.status.hidden = !text;
      this.status.textContent = text;
    }

    typing(on) {
      this.typingRow.hidden = !on;
      if (on) this.scrollDown();
    }

    announce(text) {
      const p = el("p", {}, text);
      this.announcer.append(p);
      while (this.announcer.childElementCount > 3) this.announcer.firstElementChild.remove();
    }

    announceMessage(m) {
      const titles = (m.sources || []).map((s) => s && s.title).filter(Boolean);
      this.announce(T[m.role in T ? m.role : "system"] + " " + m.text +
        (titles.length ? " " + T.source + " " + titles.join(", ") : ""));
    }

    // To the end, or, for a new answer, only so far that the answer's first line stays in view.
    scrollDown(answer) {
      requestAnimationFrame(() => {
        const box = this.scroller;
        let top = box.scrollHeight;
        if (answer) {
          const start = box.scrollTop + answer.getBoundingClientRect().top -
            box.getBoundingClientRect().top - 8;
          top = Math.min(top, start);
        }
        box.scrollTop = top;
      });
    }

    resize() {
      this.input.style.height = "auto";
      this.input.style.height = Math.min(this.input.scrollHeight + 4, 128) + "px";
      const n = this.input.value.length;
      this.count.hidden = n < this.maxText * 0.8;
      this.count.textContent = T.count(n, this.maxText);
    }

    // -- voice input: the voice line's ASR socket (vosk-server protocol: a config message, then
    //    binary s16le mono audio at the stated rate, then {"eof": 1}; answers are JSON
    //    {"partial"} while speaking and {"text"} per finished utterance).
    async toggleMic() {
      if (this.rec) { this.stopMic(); return; }
      const rec = { before: this.input.value.trim(), said: [] };
      this.rec = rec;
      const show = (partial) => {
        this.input.value = [rec.before, ...rec.said, partial].filter(Boolean).join(" ");
        this.resize();
      };
      try {
        rec.stream = await navigator.mediaDevices.getUserMedia({ audio: { channelCount: 1,
          echoCancellation: true, noiseSuppression: true } });
        rec.ctx = new AudioContext();
        await rec.ctx.audioWorklet.addModule(GATEWAY + "/static/pcm-worklet.js");
        const node = new AudioWorkletNode(rec.ctx, "buergerbot-pcm");
        rec.ws = new WebSocket(WS_GATEWAY + this.voice);
        rec.ws.binaryType = "arraybuffer";
        rec.ws.onopen = () => {
          rec.ws.send(JSON.stringify({ config: { sample_rate: rec.ctx.sampleRate, words: false } }));
          node.port.onmessage = (e) => { if (rec.ws.readyState === 1 && this.rec === rec) rec.ws.send(e.data); };
        };
        rec.ws.onmessage = (e) => {
          let f;
          try { f = JSON.parse(e.data); } catch (_) { return; }
          if (f && typeof f.text === "string") { if (f.text) rec.said.push(f.text); show(""); }
          else if (f && typeof f.partial === "string" && this.rec === rec) show(f.partial);
          else if (f && f.error) this.announce(T.micError);
        };
        rec.ws.onclose = () => { if (this.rec === rec) { this.stopMic(); this.announce(T.micError); } };
        rec.ctx.createMediaStreamSource(rec.stream).connect(node);
        this.mic.setAttribute("aria-pressed", "true");
        this.announce(T.micOn);
      } catch (_) {
        this.stopMic();
        this.announce(T.micError);
      }
    }

    stopMic() {
      const rec = this.rec;
      if (!rec) return;
      this.rec = null;
      this.mic.setAttribute("aria-pressed", "false");
      if (rec.stream) rec.stream.getTracks().forEach((t) => t.stop());
      if (rec.ctx) rec.ctx.close();
      if (rec.ws && rec.ws.readyState === 1) rec.ws.send(JSON.stringify({ eof: 1 })); // the server answers with the final text, then closes
      else if (rec.ws) rec.ws.close();
      this.input.focus();
    }
  }

  customElements.define(TAG, BuergerbotChat);
  const mount = () => { if (!document.querySelector(TAG)) document.body.append(document.createElement(TAG)); };
  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);
})();
