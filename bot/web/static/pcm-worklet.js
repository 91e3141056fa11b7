/* buergerbot voice input: turns the microphone's float samples into signed 16-bit little-endian
 * mono PCM at the AudioContext's rate (16 kHz as requested by embed.js) and posts 20 ms chunks
 * as transferable ArrayBuffers. */
class BuergerbotPcm extends AudioWorkletProcessor {
  constructor() {
    super();
    this.chunk = new Int16Array(Math.round(sampleRate / 50));
    this.used = 0;
  }

  process(inputs) {
    const channel = inputs[0] && inputs[0][0];
    if (!channel) return true;
    for (let i = 0; i < channel.length; i += 1) {
      const s = Math.max(-1, Math.min(1, channel[i]));
      this.chunk[this.used] = s < 0 ? s * 0x8000 : s * 0x7fff;
      this.used += 1;
      if (this.used === this.chunk.length) {
        const out = this.chunk.slice().buffer;
        this.port.postMessage(out, [out]);
        this.used = 0;
      }
    }
    return true;
  }
}

registerProcessor("buergerbot-pcm", BuergerbotPcm);
