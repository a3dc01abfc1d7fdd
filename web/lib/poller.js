// Live refresh: call check() at an interval while the page is visible and at once on
// window focus / when the page becomes visible again; calls never overlap (a kick
// during a call runs one more call right after it).

export function createPoller({ check, intervalMs = 5000 }) {
  let timer = null;
  let running = false;
  let again = false;
  let started = false;

  const visible = () => typeof document === "undefined" || document.visibilityState !== "hidden";

  function schedule() {
    clearTimeout(timer);
    timer = started ? setTimeout(tick, intervalMs) : null;
  }

  async function tick() {
    if (!started) return;
    if (running) {
      again = true;
      return;
    }
    if (!visible()) {
      schedule();
      return;
    }
    running = true;
    try {
      await check();
    } catch {
      // check() reports its own errors (notify); the poller keeps going.
    } finally {
      running = false;
    }
    if (again) {
      again = false;
      tick();
      return;
    }
    schedule();
  }

  const onFocus = () => tick();
  const onVisibility = () => {
    if (visible()) tick();
  };

  return {
    start() {
      if (started) return;
      started = true;
      window.addEventListener("focus", onFocus);
      document.addEventListener("visibilitychange", onVisibility);
      schedule();
    },
    stop() {
      started = false;
      again = false;
      clearTimeout(timer);
      timer = null;
      window.removeEventListener("focus", onFocus);
      document.removeEventListener("visibilitychange", onVisibility);
    },
    kick() {
      if (started) tick();
    },
  };
}
