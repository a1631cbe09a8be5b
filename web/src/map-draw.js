// Drawing for the events map: cluster and event markers, the list beside the map, and the
// link between them (hovering or focusing a list item highlights its marker). Every string
// from the server goes into the page as text, never as HTML.
import L from "leaflet";

const KINDS = ["meetup", "phonebank", "canvass", "street_stall", "training", "social", "other"];
const FALLBACK_COLOUR = "#4a5160";

export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const name of Object.keys(attributes)) {
    const value = attributes[name];
    if (value !== undefined && value !== null && value !== false) node.setAttribute(name, value);
  }
  for (const child of children) {
    if (child !== undefined && child !== null) node.append(child);
  }
  return node;
}

// Only same-site paths and http(s) links become hrefs.
export function safeHref(url) {
  if (typeof url !== "string") return "#";
  if (url.startsWith("/") && !url.startsWith("//")) return url;
  return /^https?:\/\//i.test(url) ? url : "#";
}

export function plural(count, one, many) {
  return `${count.toLocaleString("en-GB")} ${count === 1 ? one : many}`;
}

function distanceLabel(km) {
  return `${Number(km).toFixed(1)} km`;
}

function compactCount(count) {
  if (count >= 10_000) return `${Math.round(count / 1000)}k`;
  if (count >= 1000) return `${(count / 1000).toFixed(1)}k`;
  return String(count);
}

export function finite(...numbers) {
  return numbers.every((n) => typeof n === "number" && Number.isFinite(n));
}

// ---- Markers ----

export function kindColours(container) {
  const style = window.getComputedStyle(container);
  const colours = {};
  for (const kind of KINDS) {
    colours[kind] = style.getPropertyValue(`--kind-${kind}`).trim() || FALLBACK_COLOUR;
  }
  return colours;
}

function eventStyle(state, kind, highlighted) {
  return {
    radius: highlighted ? 12 : 8,
    weight: highlighted ? 4 : 2,
    color: highlighted ? "#1a1d23" : "#ffffff",
    fillColor: state.colours[kind] || FALLBACK_COLOUR,
    fillOpacity: 0.95,
    className: `event-marker kind-${kind}`,
  };
}

function eventLink(state, event, className) {
  const link = el("a", { href: safeHref(event.url), class: className }, event.title);
  if (state.embed) {
    link.target = "_blank";
    link.rel = "noopener noreferrer";
  }
  return link;
}

function popupContent(state, event) {
  return el(
    "div",
    { class: "event-popup" },
    el("p", { class: "event-popup-title" }, eventLink(state, event)),
    el("p", { class: "event-popup-meta" }, `${event.kind_label} · ${event.when}`),
    event.place ? el("p", { class: "event-popup-place" }, event.place) : null,
  );
}

function clusterMarker(state, cluster) {
  const size = Math.round(Math.min(76, 30 + 11 * Math.log10(Math.max(cluster.count, 1))));
  const label = `${plural(cluster.count, "event", "events")} here. Zoom in`;
  const icon = L.divIcon({
    className: "cluster-marker",
    html: el("span", { "aria-hidden": "true" }, compactCount(cluster.count)),
    iconSize: [size, size],
  });
  const marker = L.marker([cluster.lat, cluster.lon], { icon, title: label, keyboard: true });
  marker.on("add", () => {
    const element = marker.getElement();
    element?.setAttribute("role", "button");
    element?.setAttribute("aria-label", label);
  });
  marker.on("click", () => {
    const bounds = L.latLngBounds([cluster.south, cluster.west], [cluster.north, cluster.east]);
    const map = state.map;
    if (!bounds.isValid() || bounds.getNorthEast().equals(bounds.getSouthWest())) {
      map.setView([cluster.lat, cluster.lon], Math.min(map.getZoom() + 2, map.getMaxZoom()));
    } else {
      map.fitBounds(bounds, { padding: [24, 24], maxZoom: map.getMaxZoom() });
    }
  });
  return marker;
}

// Events keep their marker across redraws (by id) so an open popup survives the refetch
// that its own auto-pan causes.
export function drawEvents(state, events) {
  const seen = new Set();
  for (const event of events) {
    if (!finite(event.lat, event.lon)) continue;
    const id = String(event.id);
    seen.add(id);
    let marker = state.markers.get(id);
    if (!marker) {
      marker = L.circleMarker([event.lat, event.lon], eventStyle(state, event.kind, false));
      marker.bindPopup(() => popupContent(state, marker.eventData));
      marker.on("click", () => markListItem(state, id));
      marker.addTo(state.eventLayer);
      state.markers.set(id, marker);
    } else {
      marker.setLatLng([event.lat, event.lon]);
      if (marker.eventData.kind !== event.kind) marker.setStyle(eventStyle(state, event.kind, false));
    }
    marker.eventData = event;
  }
  for (const id of [...state.markers.keys()]) {
    if (!seen.has(id)) {
      state.eventLayer.removeLayer(state.markers.get(id));
      state.markers.delete(id);
    }
  }
  if (state.highlighted) highlight(state, state.highlighted);
}

export function drawClusters(state, clusters) {
  state.clusterLayer.clearLayers();
  for (const cluster of clusters) {
    if (finite(cluster.lat, cluster.lon, cluster.count)) clusterMarker(state, cluster).addTo(state.clusterLayer);
  }
}

function highlight(state, id) {
  unhighlight(state);
  const marker = state.markers.get(String(id));
  state.highlighted = String(id);
  if (!marker) return;
  marker.setStyle(eventStyle(state, marker.eventData.kind, true));
  marker.bringToFront();
}

function unhighlight(state) {
  const marker = state.highlighted && state.markers.get(state.highlighted);
  if (marker) marker.setStyle(eventStyle(state, marker.eventData.kind, false));
  state.highlighted = null;
}

function markListItem(state, id) {
  for (const item of state.list.querySelectorAll("li.is-selected")) item.classList.remove("is-selected");
  const item = state.list.querySelector(`li[data-event-id="${CSS.escape(id)}"]`);
  if (item) item.classList.add("is-selected");
}

// ---- The list ----

function listItem(state, event) {
  const kind = KINDS.includes(event.kind) ? event.kind : "other";
  const meta = el(
    "p",
    { class: "event-meta" },
    el("span", { class: `event-kind kind-${kind}` }, event.kind_label),
    " ",
    el("span", { class: "event-when" }, event.when),
    event.place ? el("span", { class: "event-place" }, event.place) : null,
  );
  const distance =
    typeof event.distance_km === "number" && Number.isFinite(event.distance_km)
      ? el("span", { class: "event-distance" }, distanceLabel(event.distance_km))
      : null;
  return el(
    "li",
    { class: "event-item", "data-event-id": String(event.id) },
    el("p", { class: "event-heading" }, eventLink(state, event, "event-title"), distance),
    meta,
  );
}

// Replaces the list while keeping keyboard focus on the same event when it is still there.
export function renderList(state, events, emptyNode) {
  const focused = document.activeElement;
  const focusedId = state.list.contains(focused) ? focused.closest("li")?.dataset.eventId : null;
  const items = events.map((event) => listItem(state, event));
  if (!items.length && emptyNode) items.push(emptyNode);
  state.list.replaceChildren(...items);
  if (focusedId) {
    state.list.querySelector(`li[data-event-id="${CSS.escape(focusedId)}"] a`)?.focus({ preventScroll: true });
  }
}

export function setCount(state, text) {
  state.count.textContent = text;
}

export function setUpListHighlighting(state) {
  const idOf = (target) => target.closest?.("li[data-event-id]")?.dataset.eventId;
  const enter = (event) => {
    const id = idOf(event.target);
    if (id) highlight(state, id);
  };
  const leave = (event) => {
    const from = idOf(event.target);
    const to = event.relatedTarget && state.list.contains(event.relatedTarget) ? idOf(event.relatedTarget) : null;
    if (from && from !== to) unhighlight(state);
  };
  state.list.addEventListener("mouseover", enter);
  state.list.addEventListener("focusin", enter);
  state.list.addEventListener("mouseout", leave);
  state.list.addEventListener("focusout", leave);
}

