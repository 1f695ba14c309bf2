// The console's incidents: built from pushed frames (and re-fetched after a reset), newest first.

const CLOSED_KEPT_MS = 10 * 60 * 1000;

function detectionKey(d) {
  return d.detection_id || `${d.camera_id}|${d.kind}|${d.detected_at}|${d.label || ""}`;
}

export class Incidents {
  constructor() {
    this.byId = new Map();
  }

  clear() {
    this.byId.clear();
  }

  get(id) {
    return this.byId.get(id);
  }

  /** Applies an incident frame; returns the entry, or null when the frame is older than what is shown. */
  applyIncident(frame) {
    const incident = frame.incident;
    const id = incident.incident_id;
    const eventId = frame.event_id === undefined ? null : Number(frame.event_id);
    const entry = this.byId.get(id);
    // A resume may replay a missed frame after a newer live one: never go back in time.
    if (entry && eventId !== null && entry.eventId !== null && eventId < entry.eventId) return null;
    const detections = frame.detections || incident.detections || [];
    const next = {
      id,
      incident,
      cameras: frame.cameras || incident.cameras || [],
      detections: entry ? entry.detections : new Map(),
      eventId: eventId ?? entry?.eventId ?? null,
      previous: entry ? entry.incident.location : null,
      changes: frame.changes || null,
      closedAt: incident.status === "closed" ? entry?.closedAt || Date.now() : null,
      unseen: entry ? entry.unseen : 0,
    };
    for (const d of detections) next.detections.set(detectionKey(d), d);
    this.byId.set(id, next);
    return next;
  }

  /** Adds one detection to its incident; returns the entry, or null for an unknown incident or a repeat. */
  addDetection(incidentId, detection) {
    const entry = this.byId.get(incidentId);
    if (!entry) return null;
    const key = detectionKey(detection);
    if (entry.detections.has(key)) return null;
    entry.detections.set(key, detection);
    entry.unseen += 1;
    return entry;
  }

  /** Incidents newest first; closed ones are kept dimmed for a while, then dropped. */
  ordered() {
    const now = Date.now();
    for (const [id, entry] of this.byId) {
      if (entry.closedAt && now - entry.closedAt > CLOSED_KEPT_MS) this.byId.delete(id);
    }
    return [...this.byId.values()].sort((a, b) => opened(b) - opened(a));
  }
}

function opened(entry) {
  return Date.parse(entry.incident.opened_at) || 0;
}

/** Detections of an incident, newest first. */
export function timeline(entry) {
  return [...entry.detections.values()].sort(
    (a, b) => (Date.parse(b.detected_at) || 0) - (Date.parse(a.detected_at) || 0),
  );
}

/** The cameras worth a live tile: covering connected online ones first, then nearby connected ones. */
export function tileCameras(entry, limit) {
  const live = entry.cameras.filter((c) => c.feed && c.status !== "offline");
  const covering = live.filter((c) => c.covers);
  const nearby = live.filter((c) => !c.covers);
  return [...covering, ...nearby].slice(0, limit);
}

/** Cameras without a feed that see the caller, then the nearest others: someone must phone the ward. */
export function noFeedCameras(entry) {
  const covering = entry.cameras.filter((c) => !c.feed && c.covers);
  const nearby = entry.cameras.filter((c) => !c.feed && !c.covers && c.distance_m <= 150);
  return [...covering, ...nearby];
}
