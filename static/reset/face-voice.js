// What the face check says aloud and by tone (issue 18): for a resident who cannot see the
// prompts, or not quickly. Used by face.js; no network, nothing stored but the on/off choice.
//
// - announce(): the text goes to an aria-live region (screen readers) and, when the switch is on,
//   to the browser's speech synthesis in the page's language (a Japanese voice where the system
//   has one; English when the page is English).
// - tone("hold") / tone("done"): a short WebAudio beep (and a vibration where there is one) for
//   "hold still" and "done", so the resident need not wait for a sentence.
const VOICE_KEY = "myna.faceVoice";
const SPEECH_LANG = { ja: "ja-JP", en: "en-US" };

function stored(key) {
  try {
    return localStorage.getItem(key);
  } catch {
    return null; // storage off: the page's default holds
  }
}

function store(key, value) {
  try {
    localStorage.setItem(key, value);
  } catch {
    /* storage off: the choice lasts for this page only */
  }
}

export function createVoice({ region, toggle, defaultOn }) {
  const lang = (document.documentElement.lang || "ja").slice(0, 2).toLowerCase();
  const synth = window.speechSynthesis || null;
  let on = (stored(VOICE_KEY) || (defaultOn ? "on" : "off")) === "on";
  let audio = null;
  let lastSaid = { text: "", at: 0 };

  if (toggle) {
    toggle.checked = on;
    toggle.addEventListener("change", () => {
      on = toggle.checked;
      store(VOICE_KEY, on ? "on" : "off");
      if (on) unlock();
      else if (synth) synth.cancel();
    });
  }

  function voiceFor() {
    if (!synth) return null;
    const voices = synth.getVoices();
    return voices.find((v) => (v.lang || "").toLowerCase().replace("_", "-").startsWith(lang)) || null;
  }

  function speak(text, { interrupt }) {
    if (!on || !synth || !text || typeof SpeechSynthesisUtterance === "undefined") return;
    const now = performance.now();
    // Hints repeat while the resident moves; one sentence at a time, the same one not at once.
    if (!interrupt && (synth.speaking || (text === lastSaid.text && now - lastSaid.at < 5000))) return;
    if (interrupt) synth.cancel();
    const utterance = new SpeechSynthesisUtterance(text);
    utterance.lang = SPEECH_LANG[lang] || lang;
    const voice = voiceFor();
    if (voice) utterance.voice = voice;
    lastSaid = { text, at: now };
    synth.speak(utterance);
  }

  // A prompt, the time warning, the result: said at once, over whatever was being said.
  function announce(text) {
    if (region) {
      region.textContent = "";
      region.textContent = text || "";
    }
    speak(text, { interrupt: true });
  }

  // Advice and where the face is: shown in their own (polite) live regions by face.js; spoken
  // only when nothing else is being said.
  function hint(text) {
    speak(text, { interrupt: false });
  }

  // Browsers start audio only after a user gesture: called from the 開始 click and the switch.
  function unlock() {
    const Context = window.AudioContext || window.webkitAudioContext;
    if (!audio && Context) audio = new Context();
    if (audio && audio.state === "suspended") audio.resume().catch(() => {});
  }

  function beep(frequency, start, seconds) {
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    const t = audio.currentTime + start;
    osc.frequency.value = frequency;
    gain.gain.setValueAtTime(0.0001, t);
    gain.gain.exponentialRampToValueAtTime(0.25, t + 0.01);
    gain.gain.exponentialRampToValueAtTime(0.0001, t + seconds);
    osc.connect(gain).connect(audio.destination);
    osc.start(t);
    osc.stop(t + seconds + 0.02);
  }

  function tone(kind) {
    if (!on) return;
    if (audio) {
      if (kind === "hold") beep(660, 0, 0.12);
      else {
        beep(660, 0, 0.1);
        beep(990, 0.13, 0.18);
      }
    }
    if (navigator.vibrate) navigator.vibrate(kind === "hold" ? 60 : [60, 50, 120]);
  }

  return { announce, hint, tone, unlock, get on() { return on; } };
}
