// The map: an offline base layer, every incident at a glance, and the open incident with its cameras.

import * as L from "/static/vendor/leaflet-src.esm.js";
import { offset, reach, regionShape, sector } from "./shapes.js";

const CITY = [10.7769, 106.7009];
const ANIMATE_MS = 800;

export class MapView {
  constructor(element, onPick) {
    this.map = L.map(element, { attributionControl: false, zoomSnap: 0.25, keyboard: false });
    this.map.setView(CITY, 13);
    this.onPick = onPick;
    this.overview = L.layerGroup().addTo(this.map);
    this.cameras = L.layerGroup().addTo(this.map);
    this.region = null;
    this.caller = null;
    this.shownId = null;
    this.animation = null;
  }

  /** The city's tile server when configured, otherwise its streets and wards drawn from /v1/map/base. */
  async loadBase(tileUrl) {
    if (tileUrl) {
      L.tileLayer(tileUrl, { maxZoom: 20 }).addTo(this.map);
      return;
    }
    const response = await fetch("/v1/map/base");
    if (!response.ok) return;
    const base = await response.json();
    // Its own pane under the overlays, so that a late-loading base never covers an incident.
    this.map.createPane("base").style.zIndex = 350;
    const renderer = L.canvas({ padding: 0.5, pane: "base" });
    L.geoJSON(base.areas, {
      renderer,
      pane: "base",
      interactive: false,
      style: { color: "#40536a", weight: 1, fillColor: "#17212c", fillOpacity: 0.6 },
    }).addTo(this.map);
    L.geoJSON(base.streets, {
      renderer,
      pane: "base",
      interactive: false,
      style: (f) =>
        f.properties.kind === "arterial"
          ? { color: "#7d8ea3", weight: 3, opacity: 0.9 }
          : { color: "#3a495a", weight: 1.2, opacity: 0.9 },
    }).addTo(this.map);
  }

  /** Every incident as a dot in its hotline colour (when none is open). */
  showOverview(entries) {
    this.clearIncident();
    this.overview.clearLayers();
    const points = [];
    for (const entry of entries) {
      const region = entry.incident.location?.region;
      if (!region) continue;
      const marker = L.circleMarker([region.lat, region.lon], {
        radius: 9,
        className: `overview-dot hotline-${entry.incident.hotline}`,
      });
      marker.on("click", () => this.onPick(entry.id));
      marker.addTo(this.overview);
      points.push([region.lat, region.lon]);
    }
    if (points.length) this.map.fitBounds(L.latLngBounds(points).pad(0.3), { maxZoom: 15, animate: false });
  }

  clearIncident() {
    this.cameras.clearLayers();
    if (this.region) this.region.remove();
    if (this.caller) this.caller.remove();
    cancelAnimationFrame(this.animation);
    this.region = this.caller = this.shownId = null;
  }

  /** The open incident: caller region and marker, camera sectors and markers, PTZ aim lines. */
  showIncident(entry) {
    const same = this.shownId === entry.id;
    const from = same && this.caller ? this.caller.getLatLng() : null;
    this.overview.clearLayers();
    if (!same) this.clearIncident();
    this.shownId = entry.id;
    this.drawCameras(entry.cameras);
    const region = entry.incident.location?.region;
    if (!region) return;
    this.drawRegion(region);
    this.moveCaller([region.lat, region.lon], from);
    if (!same || !this.map.getBounds().contains(this.region.getBounds())) this.fit(region, entry.cameras);
  }

  drawRegion(region) {
    if (this.region) this.region.remove();
    const shape = regionShape(region);
    const style = {
      className: "caller-region",
      color: "#ffd84a",
      weight: 2,
      fillColor: "#ffd84a",
      fillOpacity: 0.18,
    };
    this.region =
      shape.kind === "circle"
        ? L.circle(shape.center, { ...style, radius: shape.radius })
        : L.polygon(shape.points, style);
    this.region.addTo(this.map);
  }

  moveCaller(to, from) {
    if (!this.caller) {
      this.caller = L.circleMarker(to, {
        className: "caller-marker",
        radius: 8,
        color: "#111",
        weight: 2,
        fillColor: "#ffd84a",
        fillOpacity: 1,
      }).addTo(this.map);
      return;
    }
    this.caller.bringToFront();
    if (!from) {
      this.caller.setLatLng(to);
      return;
    }
    // A refined fix glides to its new place so that the eye can follow it.
    cancelAnimationFrame(this.animation);
    const start = performance.now();
    const step = (now) => {
      const t = Math.min(1, (now - start) / ANIMATE_MS);
      const k = t * (2 - t);
      this.caller.setLatLng([from.lat + (to[0] - from.lat) * k, from.lng + (to[1] - from.lng) * k]);
      if (t < 1) this.animation = requestAnimationFrame(step);
    };
    this.animation = requestAnimationFrame(step);
  }

  drawCameras(cameras) {
    this.cameras.clearLayers();
    for (const camera of [...cameras].reverse()) this.drawCamera(camera);
  }

  drawCamera(camera) {
    const state = camera.covers ? "covering" : "nearby";
    const offline = camera.status === "offline" ? " offline" : "";
    const kind = `${camera.feed ? "" : " no-feed"}${camera.kind === "ptz" ? " ptz" : ""}`;
    L.polygon(reach(camera), {
      className: `cam-sector ${state}${offline}${camera.kind === "ptz" ? " ptz" : ""}`,
      interactive: false,
      weight: camera.covers ? 1.5 : 1,
    }).addTo(this.cameras);
    if (camera.aim) this.drawAim(camera);
    const icon = L.divIcon({ className: `cam-marker ${state}${offline}${kind}`, iconSize: [14, 14] });
    const marker = L.marker([camera.lat, camera.lon], {
      icon,
      keyboard: false,
      title: camera.name || camera.camera_id,
    });
    marker.bindTooltip(`${camera.name || camera.camera_id} · ${Math.round(camera.distance_m)} m`);
    marker.addTo(this.cameras);
    const element = marker.getElement();
    if (element) element.dataset.cameraId = camera.camera_id;
  }

  drawAim(camera) {
    const length = Math.min(camera.range_m ?? camera.distance_m, Math.max(camera.distance_m, 10));
    const tip = offset(camera.lat, camera.lon, camera.aim.pan_deg, length);
    const limited = camera.aim.within_limits ? "" : " out-of-limits";
    L.polyline([[camera.lat, camera.lon], tip], {
      className: `ptz-aim${limited}`,
      interactive: false,
      dashArray: "6 4",
      weight: 2,
    }).addTo(this.cameras);
    L.polygon(
      sector(camera.lat, camera.lon, camera.aim.pan_deg, Math.min(camera.fov_deg ?? 60, 120), length),
      {
        className: `ptz-view${limited}`,
        interactive: false,
        weight: 1,
      },
    ).addTo(this.cameras);
  }

  fit(region, cameras) {
    const points = [[region.lat, region.lon], ...cameras.filter((c) => c.covers).map((c) => [c.lat, c.lon])];
    const bounds = L.latLngBounds(points);
    if (this.region) bounds.extend(this.region.getBounds());
    this.map.fitBounds(bounds.pad(0.25), { maxZoom: 18, animate: false });
  }

  resize() {
    this.map.invalidateSize();
  }
}
