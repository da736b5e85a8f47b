/**
 * A new red alert must be impossible to miss: the screen's edge flashes red and, unless
 * muted, a two-tone alarm sounds (Web Audio, so there is no sound file to serve). Browsers
 * only let a page make sound after the user has interacted with it; the first click
 * anywhere unlocks it.
 */

let audio: AudioContext | null = null;

export function unlockSound(): void {
  if (audio === null) {
    try {
      audio = new AudioContext();
    } catch {
      return;
    }
  }
  void audio.resume().catch(() => undefined);
}

function beep(ctx: AudioContext, at: number, freq: number, seconds: number): void {
  const osc = ctx.createOscillator();
  const gain = ctx.createGain();
  osc.type = 'square';
  osc.frequency.value = freq;
  gain.gain.setValueAtTime(0.0001, at);
  gain.gain.exponentialRampToValueAtTime(0.2, at + 0.02);
  gain.gain.exponentialRampToValueAtTime(0.0001, at + seconds);
  osc.connect(gain).connect(ctx.destination);
  osc.start(at);
  osc.stop(at + seconds + 0.05);
}

export function soundAlarm(): void {
  if (audio === null || audio.state !== 'running') return;
  const t0 = audio.currentTime;
  for (let i = 0; i < 3; i++) {
    beep(audio, t0 + i * 0.5, 880, 0.22);
    beep(audio, t0 + i * 0.5 + 0.25, 660, 0.22);
  }
}

let flashTimer: number | undefined;

/** Flashes the screen edge and shows the alert's title in the banner for a few seconds. */
export function flash(banner: HTMLElement, text: string): void {
  const root = document.documentElement;
  root.classList.remove('flash');
  // Restart the animation: a reflow between removing and adding the class.
  void root.offsetWidth;
  root.classList.add('flash');
  banner.textContent = text;
  banner.hidden = false;
  if (flashTimer !== undefined) window.clearTimeout(flashTimer);
  flashTimer = window.setTimeout(() => {
    root.classList.remove('flash');
    banner.hidden = true;
  }, 6000);
}
