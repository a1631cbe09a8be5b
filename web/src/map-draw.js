// Drawing for the events map: cluster and event markers (focusable, one per place, a
// stacked one listing every event there), the list beside the map, and the link between
// them (hovering or focusing a list item highlights its marker). Every string
// from the server goes into the page as text, never as HTML.
import L from "leaflet";

const KINDS = ["meetup", "phonebank", "canvass", "street_stall", "training", "social", "other"];
const FALLBACK_COLOUR = "#4a5160";
// From this zoom the server sends every event on its own (store::events::map).
const UNCLUSTERED_ZOOM = 15;

function placeKey(lat, lon) {
  return `${lat.toFixed(5)},${lon.toFixed(5)}`;
}

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

// The server's words ("about 3.2 km" from a district centre), else the kilometres.
function distanceLabel(event) {
  return typeof event.distance_label === "string" ? event.distance_label : `${Number(event.distance_km).toFixed(1)} km`;
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

function eventLink(state, event, className) {
  const link = el("a", { href: safeHref(event.url), class: className }, event.title);
  if (state.embed) {
    link.target = "_blank";
    link.rel = "noopener noreferrer";
  }
  return link;
}

function eventPopupLines(state, event) {
  return [
    el("p", { class: "event-popup-title" }, eventLink(state, event)),
    el("p", { class: "event-popup-meta" }, `${event.kind_label} · ${event.when}`),
  ];
}

// One event, or every event at one place (a stacked marker) in start order.
function popupContent(state, events) {
  if (events.length === 1) {
    const event = events[0];
    return el(
      "div",
      { class: "event-popup" },
      ...eventPopupLines(state, event),
      event.place ? el("p", { class: "event-popup-place" }, event.place) : null,
    );
  }
  const place = events[0].place;
  return el(
    "div",
    { class: "event-popup" },
    el("p", { class: "event-popup-place" }, `${plural(events.length, "event", "events")}${place ? ` ${place.replace(/^Near/, "near")}` : " here"}`),
    el("ul", { class: "event-popup-list" }, ...events.map((event) => el("li", {}, ...eventPopupLines(state, event)))),
  );
}

// What a marker is called to someone who cannot see it: the event, or how many are there.
function markerLabel(events) {
  if (events.length === 1) {
    const event = events[0];
    return `${event.title}, ${event.kind_label}, ${event.when}`;
  }
  const place = events[0].place ? ` ${events[0].place.replace(/^Near/, "near")}` : " at one place";
  return `${plural(events.length, "event", "events")}${place}: list them`;
}

function eventIcon(events) {
  const kind = KINDS.includes(events[0].kind) ? events[0].kind : "other";
  const stacked = events.length > 1;
  return L.divIcon({
    className: `event-pin kind-${kind}${stacked ? " is-stacked" : ""}`,
    html: stacked ? el("span", { "aria-hidden": "true" }, compactCount(events.length)) : "",
    iconSize: stacked ? [30, 30] : [20, 20],
  });
}

// Markers are focusable buttons: Enter (Leaflet's own) and Space open their popup.
function eventMarker(state, key, events) {
  const marker = L.marker([events[0].lat, events[0].lon], { icon: eventIcon(events), keyboard: true, riseOnHover: true });
  marker.events = events;
  marker.bindPopup(() => popupContent(state, marker.events));
  marker.on("click", () => markListItems(state, marker.events));
  marker.on("add", () => {
    const element = marker.getElement();
    if (!element) return;
    element.setAttribute("role", "button");
    element.setAttribute("aria-label", markerLabel(marker.events));
    element.addEventListener("keydown", (event) => {
      if (event.key === " ") {
        event.preventDefault();
        marker.fire("click");
      }
    });
  });
  marker.iconKey = iconKey(events);
  marker.placeKey = key;
  return marker;
}

function iconKey(events) {
  return `${events.length}:${events[0].kind}`;
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
      // Every event of the cluster is at one place: go to where they stand as one stacked
      // marker, and open its list once it is drawn.
      state.openPlace = bounds.isValid() ? placeKey(cluster.south, cluster.west) : placeKey(cluster.lat, cluster.lon);
      map.setView([cluster.lat, cluster.lon], Math.max(map.getZoom(), UNCLUSTERED_ZOOM));
    } else {
      map.fitBounds(bounds, { padding: [24, 24], maxZoom: map.getMaxZoom() });
    }
  });
  return marker;
}

// Events at the same place share one marker (a stacked marker lists them all). Markers
// keep their place across redraws (by position) so an open popup survives the refetch
// that its own auto-pan causes.
export function drawEvents(state, events) {
  const places = new Map();
  for (const event of events) {
    if (!finite(event.lat, event.lon)) continue;
    const key = placeKey(event.lat, event.lon);
    if (!places.has(key)) places.set(key, []);
    places.get(key).push(event);
  }
  state.placeOf = new Map();
  for (const key of places.keys()) {
    const here = places.get(key);
    for (const event of here) state.placeOf.set(String(event.id), key);
    let marker = state.markers.get(key);
    if (!marker) {
      marker = eventMarker(state, key, here);
      marker.addTo(state.eventLayer);
      state.markers.set(key, marker);
    } else {
      marker.events = here;
      if (marker.iconKey !== iconKey(here)) {
        marker.iconKey = iconKey(here);
        marker.setIcon(eventIcon(here));
      }
      marker.getElement()?.setAttribute("aria-label", markerLabel(here));
    }
  }
  for (const key of [...state.markers.keys()]) {
    if (!places.has(key)) {
      state.eventLayer.removeLayer(state.markers.get(key));
      state.markers.delete(key);
    }
  }
  if (state.highlighted) highlight(state, state.highlighted);
  const waiting = state.openPlace && state.markers.get(state.openPlace);
  if (waiting) {
    state.openPlace = null;
    waiting.openPopup();
    markListItems(state, waiting.events);
  }
}

export function drawClusters(state, clusters) {
  state.clusterLayer.clearLayers();
  for (const cluster of clusters) {
    if (finite(cluster.lat, cluster.lon, cluster.count)) clusterMarker(state, cluster).addTo(state.clusterLayer);
  }
}

function markerOf(state, id) {
  const key = state.placeOf?.get(String(id));
  return key ? state.markers.get(key) : null;
}

function highlight(state, id) {
  unhighlight(state);
  const marker = markerOf(state, id);
  state.highlighted = String(id);
  if (!marker) return;
  marker.getElement()?.classList.add("is-highlighted");
  marker.setZIndexOffset(1000);
}

function unhighlight(state) {
  const marker = state.highlighted && markerOf(state, state.highlighted);
  if (marker) {
    marker.getElement()?.classList.remove("is-highlighted");
    marker.setZIndexOffset(0);
  }
  state.highlighted = null;
}

function markListItems(state, events) {
  for (const item of state.list.querySelectorAll("li.is-selected")) item.classList.remove("is-selected");
  for (const event of events) {
    const item = state.list.querySelector(`li[data-event-id="${CSS.escape(String(event.id))}"]`);
    if (item) item.classList.add("is-selected");
  }
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
      ? el("span", { class: "event-distance" }, distanceLabel(event))
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

