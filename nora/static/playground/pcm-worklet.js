// Microphone audio to what both speech providers read: 16 kHz mono linear16 (Int16) PCM.
//
// Runs in the AudioWorklet thread. Input comes at the AudioContext's rate (often 44.1 or
// 48 kHz); channels are mixed to mono, and each output sample is the average of the input
// samples it covers (a box filter, enough against aliasing for speech), or a linear
// interpolation when the input is slower than 16 kHz. Every ~100 ms of output is posted to
// the page as an Int16Array's ArrayBuffer (transferred). The page posts {type: "flush"} to
// get the samples still held back, answered by {type: "flushed", samples}.

const TARGET_RATE = 16000;
const CHUNK_SAMPLES = TARGET_RATE / 10; // 100 ms

class PcmDownsampler extends AudioWorkletProcessor {
  constructor() {
    super();
    // `sampleRate` is the AudioContext's rate, a global of the worklet scope.
    this.step = sampleRate / TARGET_RATE; // input samples per output sample
    this.buffer = new Int16Array(CHUNK_SAMPLES);
    this.filled = 0;
    // Downsampling: the running sum and count of the input covered so far.
    this.sum = 0;
    this.count = 0;
    this.covered = 0;
    // Upsampling: the previous input sample and the position between it and the next.
    this.previous = 0;
    this.position = 0;
    this.port.onmessage = (event) => {
      if (event.data && event.data.type === "flush") this.flush();
    };
  }

  push(value) {
    const clamped = Math.max(-1, Math.min(1, value));
    this.buffer[this.filled++] = clamped < 0 ? clamped * 0x8000 : clamped * 0x7fff;
    if (this.filled === CHUNK_SAMPLES) {
      const chunk = this.buffer;
      this.port.postMessage({ type: "chunk", samples: chunk.buffer }, [chunk.buffer]);
      this.buffer = new Int16Array(CHUNK_SAMPLES);
      this.filled = 0;
    }
  }

  flush() {
    const rest = this.buffer.slice(0, this.filled);
    this.filled = 0;
    this.port.postMessage({ type: "flushed", samples: rest.buffer }, [rest.buffer]);
  }

  process(inputs) {
    const channels = inputs[0];
    if (!channels || channels.length === 0) return true;
    const frames = channels[0].length;
    const mix = 1 / channels.length;
    for (let i = 0; i < frames; i++) {
      let sample = 0;
      for (let c = 0; c < channels.length; c++) sample += channels[c][i];
      sample *= mix;
      if (this.step >= 1) {
        this.sum += sample;
        this.count += 1;
        this.covered += 1;
        if (this.covered >= this.step) {
          this.push(this.sum / this.count);
          this.covered -= this.step;
          this.sum = 0;
          this.count = 0;
        }
      } else {
        while (this.position < 1) {
          this.push(this.previous + (sample - this.previous) * this.position);
          this.position += this.step;
        }
        this.position -= 1;
        this.previous = sample;
      }
    }
    return true;
  }
}

registerProcessor("pcm-downsampler", PcmDownsampler);
