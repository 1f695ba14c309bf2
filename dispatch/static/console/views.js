// DOM for the incident list, the open incident's header, the no-feed list and the detections timeline.
// Every value from the service goes in as text, never as markup.

import { regionSize } from "./shapes.js";

export const HOTLINES = { 113: "Police", 114: "Fire", 115: "Medical" };
const KIND_LABEL = {
  face: "Face",
  plate: "Plate",
  vehicle: "Vehicle",
  person: "Person",
  fire: "Fire",
  smoke: "Smoke",
  crowd: "Crowd",
  accident: "Accident",
  weapon: "Weapon",
  other: "Other",
};

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = text;
  return node;
}

/** "45 s", "12 min", "1 h 05" since an RFC 3339 time. */
export function age(since, now = Date.now()) {
  const seconds = Math.max(0, Math.floor((now - Date.parse(since)) / 1000));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, "0")}`;
}

export function clock(time) {
  return new Date(time).toLocaleTimeString("en-GB", { hour12: false });
}

function plural(n, noun) {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}

function areaOf(incident) {
  return incident.area || incident.location?.area || "Unknown area";
}

/** The incident list, newest first; `openId` is shown open and `cursorId` has the keyboard cursor. */
export function renderList(list, entries, openId, cursorId) {
  const items = entries.map((entry) => {
    const { incident } = entry;
    const item = el("li", `incident hotline-${incident.hotline}`);
    item.dataset.incidentId = entry.id;
    item.dataset.callId = incident.call_id;
    item.classList.toggle("open", entry.id === openId);
    item.classList.toggle("cursor", entry.id === cursorId);
    item.classList.toggle("closed", incident.status === "closed");
    item.setAttribute("aria-selected", String(entry.id === cursorId));
    const head = el("div", "incident-head");
    head.append(el("span", "hotline", `${incident.hotline} ${HOTLINES[incident.hotline] || ""}`));
    const ageNode = el("span", "age", age(incident.opened_at));
    ageNode.dataset.since = incident.opened_at;
    head.append(ageNode);
    item.append(head, el("div", "area", areaOf(incident)));
    const covering = plural(entry.cameras.filter((c) => c.covers).length, "covering camera");
    const status = incident.status === "closed" ? " · closed" : "";
    const degraded = incident.degraded ? " · not yet stored" : "";
    const seen = entry.unseen ? ` · ${plural(entry.unseen, "new detection")}` : "";
    const meta = `${regionSize(incident.location?.region)} · ${covering}${seen}${degraded}${status}`;
    item.classList.toggle("fresh", Date.now() - Date.parse(incident.opened_at) < 15000);
    item.append(el("div", "meta", meta));
    return item;
  });
  list.replaceChildren(...items);
}

/** Refreshes the ages in place (every second) without rebuilding anything. */
export function tickAges(root) {
  const now = Date.now();
  for (const node of root.querySelectorAll("[data-since]")) node.textContent = age(node.dataset.since, now);
}

/** The open incident's header: hotline, call, area in large type, age, fix, status. */
export function renderHeader(parts, entry) {
  const { incident } = entry;
  const reported = incident.location?.reported || {};
  parts.title.textContent = `${incident.hotline} ${HOTLINES[incident.hotline] || ""} · ${incident.call_id}`;
  parts.title.className = `hotline-${incident.hotline}`;
  parts.area.textContent = areaOf(incident);
  const ageNode = el("span", "age", age(incident.opened_at));
  ageNode.dataset.since = incident.opened_at;
  const fix = `${regionSize(incident.location?.region)} ${reported.source ? `(${reported.source})` : ""}`;
  const status = incident.status === "closed" ? "CLOSED" : `opened ${clock(incident.opened_at)}`;
  parts.meta.replaceChildren(ageNode, ` · ${fix} · ${status}`);
  parts.root.classList.toggle("closed", incident.status === "closed");
}

/** Cameras without a feed, best first; the rest are counted, not listed. */
export function renderNoFeed(list, cameras, limit = 8) {
  const items = cameras.slice(0, limit).map((c) => {
    const item = el("li", c.covers ? "covering" : "");
    item.dataset.cameraId = c.camera_id;
    const why = c.quality === "analog" ? "analog" : "not connected";
    item.append(el("b", null, c.name || c.camera_id), ` · ${Math.round(c.distance_m)} m · ${why}`);
    return item;
  });
  if (cameras.length > limit) items.push(el("li", "more", `and ${cameras.length - limit} more`));
  list.replaceChildren(...items);
  list.closest("section").hidden = cameras.length === 0;
}

/** A detection thumbnail URL: the sender's snapshot, with this console's feed token when it lacks one. */
export function thumbnail(detection, cameras) {
  if (!detection.snapshot_url) return null;
  let url;
  try {
    url = new URL(detection.snapshot_url, location.href);
  } catch {
    return null;
  }
  if (!["http:", "https:"].includes(url.protocol)) return null;
  if (url.searchParams.has("token")) return url.toString();
  // A gateway frame needs a feed token: this console's token for that camera, if the incident still lists it.
  const camera = cameras.find((c) => c.camera_id === detection.camera_id && c.feed);
  if (!camera) return null;
  const feed = new URL(camera.feed.snapshot, location.href);
  if (feed.origin !== url.origin || !feed.searchParams.get("token")) return null;
  url.searchParams.set("token", feed.searchParams.get("token"));
  return url.toString();
}

/** The detections timeline, newest first; items already shown are kept (their thumbnails load once). */
export function renderTimeline(list, detections, cameras) {
  const shown = new Map([...list.children].map((node) => [node.dataset.key, node]));
  list.replaceChildren(
    ...detections.map((d) => {
      const key = `${d.detection_id || ""}|${d.camera_id}|${d.detected_at}|${d.kind}`;
      return shown.get(key) || detectionItem(d, key, cameras);
    }),
  );
}

function detectionItem(d, key, cameras) {
  const item = el("li", `detection kind-${d.kind}`);
  item.dataset.key = key;
  item.dataset.kind = d.kind;
  if (d.detection_id) item.dataset.detectionId = d.detection_id;
  const src = thumbnail(d, cameras);
  const thumb = src ? Object.assign(new Image(), { src, alt: `${d.kind} at ${d.camera_id}` }) : el("div");
  thumb.classList.add("thumb");
  thumb.onerror = () => thumb.replaceWith(Object.assign(el("div", "thumb"), { title: "no picture" }));
  const text = el("div", "detection-text");
  const listed = d.attributes?.watchlist_id;
  const watch = listed && !(d.label || "").includes(listed) ? ` · watch list ${listed}` : "";
  text.append(
    el("span", "kind", KIND_LABEL[d.kind] || d.kind),
    el("span", "label", d.label && d.label.toLowerCase() !== d.kind ? d.label : ""),
    el("span", "confidence", `${Math.round((d.confidence || 0) * 100)}%`),
    el("div", "where", `${clock(d.detected_at)} · ${d.camera_id}${watch}`),
  );
  item.append(thumb, text);
  return item;
}
