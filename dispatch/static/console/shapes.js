// Geometry on the map: metre offsets around a point, camera view sectors, caller regions as Leaflet latlngs.

const M_PER_DEG_LAT = 111320;

/** The point `distM` metres from (lat, lon) along a bearing clockwise from north, as [lat, lon]. */
export function offset(lat, lon, bearingDeg, distM) {
  const rad = (bearingDeg * Math.PI) / 180;
  return shift(lat, lon, distM * Math.sin(rad), distM * Math.cos(rad));
}

/** The point `east`, `north` metres from (lat, lon), as [lat, lon] (fine at street scale). */
export function shift(lat, lon, east, north) {
  const perLon = M_PER_DEG_LAT * Math.cos((lat * Math.PI) / 180);
  return [lat + north / M_PER_DEG_LAT, lon + east / perLon];
}

/** A camera's view sector (apex at the camera), or a disc for a 360° camera. */
export function sector(lat, lon, headingDeg, fovDeg, rangeM, steps = 24) {
  return arc(lat, lon, headingDeg - fovDeg / 2, fovDeg, rangeM, steps);
}

/** The sector from `startDeg` clockwise through `spanDeg` degrees (a disc from 360 on). */
export function arc(lat, lon, startDeg, spanDeg, rangeM, steps = 24) {
  if (spanDeg >= 360) return disc(lat, lon, rangeM, steps * 2);
  const points = [[lat, lon]];
  for (let i = 0; i <= steps; i += 1) points.push(offset(lat, lon, startDeg + (spanDeg * i) / steps, rangeM));
  return points;
}

/** What a camera can see: its sector, or for a PTZ camera with pan limits everything it can be turned to. */
export function reach(camera) {
  const fov = camera.fov_deg ?? 360;
  const range = camera.range_m ?? 30;
  if (camera.kind === "ptz" && camera.pan_min_deg != null && camera.pan_max_deg != null) {
    const span = ((camera.pan_max_deg - camera.pan_min_deg + 360) % 360) + fov;
    return arc(camera.lat, camera.lon, camera.pan_min_deg - fov / 2, span, range);
  }
  return sector(camera.lat, camera.lon, camera.heading_deg ?? 0, fov, range);
}

/** A polygon approximating a circle of `radiusM` metres. */
export function disc(lat, lon, radiusM, steps = 48) {
  const points = [];
  for (let i = 0; i < steps; i += 1) points.push(offset(lat, lon, (360 * i) / steps, radiusM));
  return points;
}

/** An ellipse whose semi-major axis points along `orientationDeg` (clockwise from north). */
export function ellipse(lat, lon, semiMajorM, semiMinorM, orientationDeg, steps = 48) {
  const theta = (orientationDeg * Math.PI) / 180;
  const points = [];
  for (let i = 0; i < steps; i += 1) {
    const t = (2 * Math.PI * i) / steps;
    const u = semiMajorM * Math.cos(t);
    const v = semiMinorM * Math.sin(t);
    points.push(
      shift(lat, lon, u * Math.sin(theta) + v * Math.cos(theta), u * Math.cos(theta) - v * Math.sin(theta)),
    );
  }
  return points;
}

/** The caller's region (incident.location.region) as a Leaflet shape description. */
export function regionShape(region) {
  if (!region) return null;
  if (region.type === "circle")
    return { kind: "circle", center: [region.lat, region.lon], radius: region.radius_m };
  if (region.type === "ellipse") {
    const pts = ellipse(
      region.lat,
      region.lon,
      region.semi_major_m,
      region.semi_minor_m,
      region.orientation_deg || 0,
    );
    return { kind: "polygon", points: pts };
  }
  if (Array.isArray(region.coordinates)) {
    return { kind: "polygon", points: region.coordinates.map(([lon, lat]) => [lat, lon]) };
  }
  return { kind: "circle", center: [region.lat, region.lon], radius: 10 };
}

/** A short human size of the region: "±53 m", "120 × 40 m", "area". */
export function regionSize(region) {
  if (!region) return "no fix";
  if (region.type === "circle") return `±${Math.round(region.radius_m)} m`;
  if (region.type === "ellipse")
    return `${Math.round(region.semi_major_m)} × ${Math.round(region.semi_minor_m)} m`;
  return region.type;
}
