// The dispatcher console: sign-in, the live incident stream, the map, live tiles and the keyboard.

import { ConsoleSocket, checkToken } from "./connection.js";
import { MapView } from "./mapview.js";
import { Incidents, noFeedCameras, tileCameras, timeline } from "./store.js";
import { Tiles } from "./tiles.js";
import * as views from "./views.js";

const TOKEN_KEY = "callsight.token"; // sessionStorage only: the token never outlives the tab
const MAX_TILES = 6;
const STATE_TEXT = {
  "signed-out": "signed out",
  connecting: "connecting…",
  live: "live",
  reconnecting: "reconnecting…",
  resumed: "resumed",
};

const $ = (id) => document.getElementById(id);
const ui = {
  signin: $("signin"),
  form: $("signin-form"),
  tokenInput: $("token"),
  error: $("signin-error"),
  console: $("console"),
  agency: $("agency"),
  conn: $("conn"),
  clock: $("clock"),
  signout: $("signout"),
  list: $("incident-list"),
  empty: $("no-incidents"),
  count: $("incident-count"),
  detail: $("detail"),
  tiles: $("tiles"),
  noTiles: $("no-tiles"),
  noFeed: $("no-feed-list"),
  timeline: $("timeline"),
  header: { root: $("detail"), title: $("detail-title"), area: $("detail-area"), meta: $("detail-meta") },
};

const state = {
  token: null,
  socket: null,
  map: null,
  tiles: new Tiles(ui.tiles),
  openId: null,
  cursorId: null,
};
const incidents = new Incidents();
let resumedTimer = null;

function takeToken() {
  const params = new URLSearchParams(location.search);
  const fromUrl = params.get("token");
  if (fromUrl) {
    // Off the address bar and out of the history at once; kept for this tab only.
    params.delete("token");
    const rest = params.toString();
    history.replaceState(null, "", `${location.pathname}${rest ? `?${rest}` : ""}`);
    sessionStorage.setItem(TOKEN_KEY, fromUrl.trim());
  }
  return sessionStorage.getItem(TOKEN_KEY);
}

function setConnection(connState) {
  ui.conn.dataset.state = connState;
  ui.conn.textContent = STATE_TEXT[connState] || connState;
  clearTimeout(resumedTimer);
  if (connState === "resumed") resumedTimer = setTimeout(() => setConnection("live"), 10000);
}

function showSignin(message) {
  ui.signin.hidden = false;
  ui.console.hidden = true;
  ui.signout.hidden = true;
  ui.agency.hidden = true;
  ui.error.hidden = !message;
  ui.error.textContent = message || "";
  setConnection("signed-out");
  ui.tokenInput.focus();
}

async function signIn(token) {
  ui.error.hidden = true;
  const check = await checkToken(token);
  if (check.status === "denied") {
    sessionStorage.removeItem(TOKEN_KEY);
    showSignin(`Sign-in failed: ${check.reason}`);
    return;
  }
  sessionStorage.setItem(TOKEN_KEY, token);
  state.token = token;
  ui.signin.hidden = true;
  ui.console.hidden = false;
  ui.signout.hidden = false;
  ui.tokenInput.value = "";
  if (!state.map) startMap();
  state.socket = new ConsoleSocket(token, { onHello, onFrame, onReset, onState: setConnection, onDenied });
  state.socket.start();
}

function startMap() {
  state.map = new MapView($("map"), (id) => openIncident(id));
  // The base layer arrives when it arrives; incidents are drawn over it meanwhile.
  fetch("/console/config.json")
    .then((r) => r.json())
    .catch(() => ({}))
    .then((config) => state.map.loadBase(config.tile_url || null))
    .catch(() => undefined);
}

function signOut(message) {
  if (state.socket) state.socket.stop();
  state.socket = null;
  state.token = null;
  sessionStorage.removeItem(TOKEN_KEY);
  incidents.clear();
  closeIncident();
  showSignin(message);
}

function onDenied(reason) {
  signOut(`The service no longer accepts this token: ${reason}`);
}

function onHello(hello) {
  ui.agency.hidden = false;
  ui.agency.textContent = `${hello.agency}${hello.areas?.length ? ` · ${hello.areas.join(", ")}` : ""}`;
  ui.agency.dataset.agency = hello.agency;
  ui.agency.title = `console ${hello.console}`;
}

function onFrame(frame) {
  if (frame.type === "detection") {
    const entry = incidents.addDetection(frame.incident_id, frame.detection);
    if (entry && entry.id === state.openId) entry.unseen = 0;
    if (entry) render(entry.id === state.openId ? "detections" : "list");
    return;
  }
  if (!frame.incident) return;
  const entry = incidents.applyIncident(frame);
  if (!entry) return;
  if (frame.type === "incident.opened" && !state.openId) {
    openIncident(entry.id);
    return;
  }
  render(entry.id === state.openId ? "incident" : "list");
}

/** After a reset the missed frames are gone: re-read every incident this console knows of. */
async function onReset() {
  const known = incidents.ordered();
  incidents.clear();
  await Promise.all(
    known.map(async (entry) => {
      const url = `/v1/calls/${encodeURIComponent(entry.incident.call_id)}`;
      const response = await fetch(url, { headers: { Authorization: `Bearer ${state.token}` } }).catch(
        () => null,
      );
      if (response?.ok) {
        const view = await response.json();
        incidents.applyIncident({ incident: view, cameras: view.cameras, detections: view.detections });
      }
    }),
  );
  if (state.openId && !incidents.get(state.openId)) closeIncident();
  render("incident");
}

function render(what) {
  const entries = incidents.ordered();
  views.renderList(ui.list, entries, state.openId, state.cursorId);
  ui.empty.hidden = entries.length > 0;
  ui.count.textContent = entries.length ? `(${entries.length})` : "";
  document.title = entries.length ? `(${entries.length}) Callsight console` : "Callsight console";
  const entry = state.openId && incidents.get(state.openId);
  if (!entry) {
    if (what !== "detections") state.map?.showOverview(entries);
    return;
  }
  if (what === "incident") renderIncident(entry);
  if (what !== "list") views.renderTimeline(ui.timeline, timeline(entry), entry.cameras);
}

function renderIncident(entry) {
  views.renderHeader(ui.header, entry);
  state.map.showIncident(entry);
  const live = tileCameras(entry, MAX_TILES);
  state.tiles.show(live);
  ui.noTiles.hidden = live.length > 0;
  views.renderNoFeed(ui.noFeed, noFeedCameras(entry));
}

function openIncident(id) {
  const entry = incidents.get(id);
  if (!entry) return;
  state.openId = state.cursorId = id;
  entry.unseen = 0;
  ui.console.classList.add("open");
  ui.detail.hidden = false;
  state.map.resize();
  render("incident");
  ui.list.querySelector(".incident.open")?.scrollIntoView({ block: "nearest" });
}

function closeIncident() {
  state.openId = null;
  state.tiles.shrink();
  state.tiles.clear();
  ui.console.classList.remove("open");
  ui.detail.hidden = true;
  state.map?.clearIncident();
  state.map?.resize();
  render("list");
}

function moveCursor(step) {
  const entries = incidents.ordered();
  if (!entries.length) return;
  const at = entries.findIndex((e) => e.id === state.cursorId);
  const next = at < 0 ? 0 : Math.min(entries.length - 1, Math.max(0, at + step));
  state.cursorId = entries[next].id;
  views.renderList(ui.list, entries, state.openId, state.cursorId);
  ui.list.querySelector(".incident.cursor")?.scrollIntoView({ block: "nearest" });
}

function onKey(event) {
  if (
    ui.console.hidden ||
    event.target.closest("textarea, input") ||
    event.altKey ||
    event.ctrlKey ||
    event.metaKey
  )
    return;
  const { key } = event;
  if (key === "ArrowDown" || key === "ArrowUp") moveCursor(key === "ArrowDown" ? 1 : -1);
  else if (key === "Enter" && state.cursorId) openIncident(state.cursorId);
  else if (/^[1-9]$/.test(key) && state.openId) state.tiles.enlarge(Number(key));
  else if (key === "Escape") {
    if (!state.tiles.shrink()) closeIncident();
  } else return;
  event.preventDefault();
}

function start() {
  ui.form.addEventListener("submit", (event) => {
    event.preventDefault();
    const token = ui.tokenInput.value.trim();
    if (token) signIn(token);
  });
  ui.signout.addEventListener("click", () => signOut());
  ui.list.addEventListener("click", (event) => {
    const item = event.target.closest(".incident");
    if (item) openIncident(item.dataset.incidentId);
  });
  document.addEventListener("keydown", onKey);
  const tick = () => {
    ui.clock.textContent = views.clock(Date.now());
    views.tickAges(document.body);
  };
  tick();
  setInterval(tick, 1000);
  const token = takeToken();
  if (token) signIn(token);
  else showSignin();
}

start();
