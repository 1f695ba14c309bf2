// Live tiles: HLS through hls.js when the gateway serves it, otherwise a snapshot refreshed every second
// (an enlarged tile switches to the smoother MJPEG stream). Tiles are kept across re-ranks.

const REFRESH_MS = 1000;
const RETRY_MS = 3000;
let hlsModule = null;

function withParam(url, key, value) {
  const parsed = new URL(url, location.href);
  parsed.searchParams.set(key, value);
  return parsed.toString();
}

async function loadHls() {
  hlsModule = hlsModule || import("/static/vendor/hls.min.mjs").then((m) => m.default);
  return hlsModule;
}

class Tile {
  constructor(camera) {
    this.id = camera.camera_id;
    this.camera = camera;
    this.element = document.createElement("figure");
    this.element.className = "tile loading";
    this.element.dataset.cameraId = this.id;
    this.label = document.createElement("figcaption");
    this.element.append(this.label);
    this.media = null;
    this.loader = null;
    this.nextLoad = 0;
    this.hls = null;
    this.mode = null;
  }

  update(camera, rank) {
    this.camera = camera;
    this.element.dataset.rank = String(rank);
    this.element.classList.toggle("covering", Boolean(camera.covers));
    const coverage = camera.covers ? ` · sees ${Math.round((camera.coverage || 0) * 100)}%` : " · nearby";
    this.label.replaceChildren(
      Object.assign(document.createElement("b"), { textContent: String(rank) }),
      ` ${camera.name || camera.camera_id} · ${Math.round(camera.distance_m)} m${coverage}`,
    );
    const want = camera.feed.hls
      ? "hls"
      : this.element.classList.contains("enlarged") && camera.feed.mjpeg
        ? "mjpeg"
        : "snapshot";
    if (want !== this.mode) this.start(want);
  }

  start(mode) {
    this.stopMedia();
    this.mode = mode;
    if (mode === "hls") this.startHls();
    else if (mode === "mjpeg") this.show(this.image(this.camera.feed.mjpeg));
    else this.nextLoad = 0;
  }

  image(src) {
    const img = new Image();
    img.alt = `live view of ${this.camera.name || this.id}`;
    img.decoding = "async";
    img.onload = () => this.loaded();
    img.onerror = () => this.failed();
    img.src = src;
    return img;
  }

  show(media) {
    if (this.media) this.media.replaceWith(media);
    else this.element.prepend(media);
    this.media = media;
  }

  loaded() {
    this.element.classList.remove("loading", "failed");
    this.element.classList.add("live");
  }

  failed() {
    this.element.classList.remove("loading", "live");
    this.element.classList.add("failed");
    this.nextLoad = performance.now() + RETRY_MS;
  }

  /** One step of the snapshot refresh: fetch the next frame off-screen, then swap it in. */
  tick(now) {
    if (this.mode !== "snapshot" || this.loader || now < this.nextLoad) return;
    this.nextLoad = now + REFRESH_MS;
    const img = this.image(withParam(this.camera.feed.snapshot, "t", String(Date.now())));
    this.loader = img;
    img.onload = () => {
      this.loader = null;
      if (this.mode === "snapshot") this.show(img);
      this.loaded();
    };
    img.onerror = () => {
      this.loader = null;
      this.failed();
    };
  }

  async startHls() {
    const video = document.createElement("video");
    Object.assign(video, { muted: true, autoplay: true, playsInline: true });
    video.onplaying = () => this.loaded();
    video.onerror = () => this.failed();
    this.show(video);
    if (video.canPlayType("application/vnd.apple.mpegurl")) {
      video.src = this.camera.feed.hls;
      return;
    }
    const Hls = await loadHls();
    if (this.mode !== "hls" || !Hls.isSupported()) return;
    this.hls = new Hls({ enableWorker: false, lowLatencyMode: true });
    this.hls.on(Hls.Events.ERROR, (_event, data) => {
      if (data.fatal) {
        this.failed();
        setTimeout(() => this.mode === "hls" && this.start("hls"), RETRY_MS);
      }
    });
    this.hls.loadSource(this.camera.feed.hls);
    this.hls.attachMedia(video);
  }

  stopMedia() {
    if (this.hls) this.hls.destroy();
    this.hls = null;
    if (this.media && this.media.tagName === "IMG") this.media.src = "";
    if (this.loader) this.loader.src = "";
    this.loader = null;
  }

  destroy() {
    this.mode = null;
    this.stopMedia();
    this.element.remove();
  }
}

export class Tiles {
  constructor(container) {
    this.container = container;
    this.tiles = new Map();
    this.order = [];
    this.enlarged = null;
    this.timer = setInterval(() => this.tick(), 250);
  }

  /** Shows these cameras in this order, keeping the tiles that stay (no reload, no flicker). */
  show(cameras) {
    const wanted = new Set(cameras.map((c) => c.camera_id));
    for (const [id, tile] of this.tiles) {
      if (!wanted.has(id)) {
        tile.destroy();
        this.tiles.delete(id);
      }
    }
    this.order = cameras.map((camera, i) => {
      const tile = this.tiles.get(camera.camera_id) || new Tile(camera);
      this.tiles.set(camera.camera_id, tile);
      tile.update(camera, i + 1);
      return tile;
    });
    this.container.replaceChildren(...this.order.map((t) => t.element));
    if (this.enlarged && !this.tiles.has(this.enlarged)) this.enlarged = null;
  }

  clear() {
    this.show([]);
  }

  tick() {
    const now = performance.now();
    for (const tile of this.tiles.values()) tile.tick(now);
  }

  /** Enlarges tile n (1-based); false when there is none. */
  enlarge(n) {
    const tile = this.order[n - 1];
    if (!tile) return false;
    this.shrink();
    tile.element.classList.add("enlarged");
    this.enlarged = tile.id;
    tile.update(tile.camera, n);
    return true;
  }

  /** Back from an enlarged tile; false when none was enlarged. */
  shrink() {
    const tile = this.enlarged && this.tiles.get(this.enlarged);
    this.enlarged = null;
    if (!tile) return false;
    tile.element.classList.remove("enlarged");
    tile.update(tile.camera, Number(tile.element.dataset.rank));
    return true;
  }
}
