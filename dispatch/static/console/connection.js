// The console WebSocket: hello, resume after every reconnect (with backoff), reset, and a liveness watchdog.

const BACKOFF_MS = [250, 500, 1000, 2000, 4000, 5000];
const SILENCE_MS = 45000; // the hub sends a heartbeat after 15 s of silence
const CLOSE_REVOKED = 4001;

/** Asks the service whether a token is good: "ok", "denied" (with a reason) or "unreachable". */
export async function checkToken(token) {
  try {
    const response = await fetch("/v1/cameras/nearby?lat=10.7725&lon=106.698&limit=1", {
      headers: { Authorization: `Bearer ${token}` },
      cache: "no-store",
    });
    if (response.status === 401 || response.status === 403) {
      const problem = await response.json().catch(() => ({}));
      return { status: "denied", reason: problem.detail || "The token was not accepted." };
    }
    return { status: response.ok ? "ok" : "unreachable", reason: `HTTP ${response.status}` };
  } catch (error) {
    return { status: "unreachable", reason: String(error) };
  }
}

export class ConsoleSocket {
  /**
   * handlers: onHello(frame), onFrame(frame), onReset(frame), onState(state, detail), onDenied(reason).
   * States: connecting, live, reconnecting, resumed.
   */
  constructor(token, handlers) {
    this.token = token;
    this.handlers = handlers;
    this.lastSeq = 0; // the highest seq received
    this.lastEventId = null; // the highest event id received with no seq gap below it
    this.gaps = new Set(); // seqs skipped over: a late resume's gap arrives after live frames
    this.aboveGap = []; // event ids received above a gap
    this.freshConnection = true; // nothing received since this connection's hello
    this.attempt = 0;
    this.connectedOnce = false;
    this.ws = null;
    this.stopped = false;
    this.timer = null;
    this.watchdog = null;
  }

  start() {
    this.stopped = false;
    this.handlers.onState("connecting");
    this.open();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    clearTimeout(this.watchdog);
    if (this.ws) this.ws.close(1000, "signed out");
    this.ws = null;
  }

  open() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const url = `${scheme}://${location.host}/v1/consoles/ws?access_token=${encodeURIComponent(this.token)}`;
    const ws = new WebSocket(url);
    this.ws = ws;
    let greeted = false;
    ws.onmessage = (message) => {
      this.feedWatchdog();
      const frame = JSON.parse(message.data);
      if (frame.type === "hello") {
        greeted = true;
        this.greet(frame);
      } else {
        this.receive(frame);
      }
    };
    ws.onclose = (event) => {
      clearTimeout(this.watchdog);
      if (this.ws === ws) this.ws = null;
      if (this.stopped) return;
      if (event.code === CLOSE_REVOKED) {
        this.stopped = true;
        this.handlers.onDenied(event.reason || "The token has been revoked.");
        return;
      }
      this.retry(greeted);
    };
  }

  greet(hello) {
    const resumed = this.connectedOnce;
    this.connectedOnce = true;
    this.attempt = 0;
    this.freshConnection = true;
    this.helloSeq = hello.seq;
    this.handlers.onHello(hello);
    if (resumed || hello.seq > 0) {
      // From below the lowest gap, so that a connection cut while a gap was coming does not skip the rest.
      const after = this.gaps.size ? Math.min(...this.gaps) - 1 : this.lastSeq;
      const resume = { type: "resume", after_seq: after };
      if (this.lastEventId !== null) resume.after_event_id = this.lastEventId;
      this.ws.send(JSON.stringify(resume));
    }
    this.handlers.onState(resumed ? "resumed" : "live");
  }

  receive(frame) {
    if (frame.type === "heartbeat" || frame.type === "error") return;
    if (frame.type === "reset") {
      // What was missed is gone. Frames since hello follow, unless they came live before this reset.
      this.gaps.clear();
      this.foldAboveGap();
      if (this.freshConnection) this.lastSeq = this.helloSeq;
      this.handlers.onReset(frame);
      return;
    }
    // Heartbeats carry the last seq too, but only frames actually received may move the resume point.
    if (typeof frame.seq === "number") {
      if (frame.seq <= this.lastSeq && !this.gaps.has(frame.seq)) return; // already shown
      this.advance(frame);
      this.freshConnection = false;
    }
    this.handlers.onFrame(frame);
  }

  advance(frame) {
    for (let seq = this.lastSeq + 1; seq < frame.seq; seq += 1) this.gaps.add(seq);
    this.gaps.delete(frame.seq);
    this.lastSeq = Math.max(this.lastSeq, frame.seq);
    if (Number(frame.event_id) > 0) this.aboveGap.push(Number(frame.event_id));
    if (!this.gaps.size) this.foldAboveGap();
  }

  foldAboveGap() {
    if (this.aboveGap.length) this.lastEventId = Math.max(this.lastEventId ?? 0, ...this.aboveGap);
    this.aboveGap = [];
  }

  async retry(greeted) {
    this.handlers.onState(this.connectedOnce ? "reconnecting" : "connecting");
    if (!greeted) {
      const check = await checkToken(this.token);
      if (check.status === "denied") {
        this.stopped = true;
        this.handlers.onDenied(check.reason);
        return;
      }
    }
    const base = BACKOFF_MS[Math.min(this.attempt, BACKOFF_MS.length - 1)];
    this.attempt += 1;
    const delay = base * (0.75 + Math.random() * 0.5);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      if (!this.stopped) this.open();
    }, delay);
  }

  feedWatchdog() {
    clearTimeout(this.watchdog);
    this.watchdog = setTimeout(() => {
      if (this.ws) this.ws.close(4000, "silent too long");
    }, SILENCE_MS);
  }
}
