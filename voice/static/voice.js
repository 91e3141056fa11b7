// Browser side of the voice line: microphone → WebSocket (s16le at the context's rate),
// bot audio (s16le, rate from "ready") played back; "clear" stops playback at once (barge-in).
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  const TEXTS = {
    connecting: "Verbinde …", listening: "Ich höre zu.", speaking: "Der Assistent spricht.",
    thinking: "Einen Moment bitte …", ended: "Gespräch beendet.",
    transfer: "Sie werden mit einer Mitarbeiterin oder einem Mitarbeiter verbunden.",
    noMic: "Kein Zugriff auf das Mikrofon.", failed: "Verbindung fehlgeschlagen.",
  };
  let ws = null, ctx = null, stream = null, node = null, source = null;
  let playing = [], nextTime = 0, outRate = 16000;

  const status = (t) => { $("status").textContent = t; };
  const line = (cls, text) => {
    const div = document.createElement("div");
    div.className = cls; div.textContent = text;
    $("log").appendChild(div); $("log").scrollTop = $("log").scrollHeight;
  };

  const WORKLET = `
    class Capture extends AudioWorkletProcessor {
      process(inputs) {
        const ch = inputs[0] && inputs[0][0];
        if (ch) this.port.postMessage(ch.slice(0));
        return true;
      }
    }
    registerProcessor("capture", Capture);`;

  function toPcm16(floats) {
    const out = new Int16Array(floats.length);
    for (let i = 0; i < floats.length; i++) {
      const s = Math.max(-1, Math.min(1, floats[i]));
      out[i] = s < 0 ? s * 0x8000 : s * 0x7fff;
    }
    return out.buffer;
  }

  function play(buffer) {
    const pcm = new Int16Array(buffer);
    const audio = ctx.createBuffer(1, pcm.length, outRate);
    const data = audio.getChannelData(0);
    for (let i = 0; i < pcm.length; i++) data[i] = pcm[i] / 32768;
    const src = ctx.createBufferSource();
    src.buffer = audio; src.connect(ctx.destination);
    nextTime = Math.max(nextTime, ctx.currentTime + 0.05);
    src.start(nextTime);
    nextTime += audio.duration;
    playing.push(src);
    src.onended = () => { playing = playing.filter((s) => s !== src); };
  }

  function clearPlayback() {
    for (const src of playing) { try { src.stop(); } catch (e) { /* already stopped */ } }
    playing = []; nextTime = 0;
  }

  function onEvent(ev) {
    const d = ev.data || {};
    switch (ev.type) {
      case "stt-partial": $("partial").textContent = d.text || ""; break;
      case "stt-end": $("partial").textContent = ""; if (d.text) line("caller", d.text); break;
      case "stt-start": status(TEXTS.listening); break;
      case "dialogue-start": status(TEXTS.thinking); break;
      case "tts-start": line("bot", d.text); status(TEXTS.speaking); break;
      case "playback-end": if (!d.interrupted) status(TEXTS.listening); break;
      case "transfer": status(TEXTS.transfer); break;
      case "error": line("note", "Fehler: " + d.code); break;
    }
  }

  function onMessage(msg) {
    if (typeof msg.data !== "string") { play(msg.data); return; }
    const m = JSON.parse(msg.data);
    if (m.type === "ready") { outRate = m.audio.rate; status(TEXTS.listening); }
    else if (m.type === "event") onEvent(m.event);
    else if (m.type === "clear") clearPlayback();
    else if (m.type === "end") { status(m.route.action === "transfer" ? TEXTS.transfer : TEXTS.ended); }
    else if (m.type === "error") line("note", m.message);
  }

  async function start() {
    $("start").disabled = true; status(TEXTS.connecting);
    try {
      stream = await navigator.mediaDevices.getUserMedia({
        audio: { echoCancellation: true, noiseSuppression: true, channelCount: 1 } });
    } catch (e) { status(TEXTS.noMic); $("start").disabled = false; return; }
    ctx = new AudioContext();
    const url = URL.createObjectURL(new Blob([WORKLET], { type: "application/javascript" }));
    await ctx.audioWorklet.addModule(url);
    source = ctx.createMediaStreamSource(stream);
    node = new AudioWorkletNode(ctx, "capture");
    source.connect(node);
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    ws = new WebSocket(`${proto}//${location.host}/voice/ws`);
    ws.binaryType = "arraybuffer";
    ws.onopen = () => {
      ws.send(JSON.stringify({ type: "hello", rate: ctx.sampleRate }));
      let chunk = [], n = 0, frame = Math.round(ctx.sampleRate / 50);  // 20 ms
      node.port.onmessage = (e) => {
        chunk.push(e.data); n += e.data.length;
        if (n >= frame && ws.readyState === WebSocket.OPEN) {
          const all = new Float32Array(n); let o = 0;
          for (const c of chunk) { all.set(c, o); o += c.length; }
          ws.send(toPcm16(all)); chunk = []; n = 0;
        }
      };
      $("stop").disabled = false; $("text").disabled = false; $("send").disabled = false;
    };
    ws.onmessage = onMessage;
    ws.onerror = () => status(TEXTS.failed);
    ws.onclose = () => stop(false);
  }

  function stop(sendBye = true) {
    if (ws && sendBye && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: "bye" }));
    if (node) node.port.onmessage = null;
    if (stream) stream.getTracks().forEach((t) => t.stop());
    if (ws && ws.readyState === WebSocket.OPEN) ws.close();
    ws = null; stream = null;
    $("start").disabled = false; $("stop").disabled = true;
    $("text").disabled = true; $("send").disabled = true;
    if (!$("status").textContent.startsWith("Sie werden")) status(TEXTS.ended);
  }

  for (const key of ["1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "0", "#"]) {
    const b = document.createElement("button");
    b.textContent = key; b.type = "button";
    b.setAttribute("aria-label", key === "0" ? "0 – Mitarbeiterin oder Mitarbeiter" : "Taste " + key);
    b.onclick = () => { if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: "dtmf", digit: key })); };
    $("keypad").appendChild(b);
  }
  $("start").onclick = start;
  $("stop").onclick = () => stop(true);
  $("typed").onsubmit = (e) => {
    e.preventDefault();
    const text = $("text").value.trim();
    if (text && ws && ws.readyState === WebSocket.OPEN) {
      ws.send(JSON.stringify({ type: "text", text })); $("text").value = "";
    }
  };
})();
