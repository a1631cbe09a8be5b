// The events map page and its embeddable widget: a Leaflet map whose markers and list
// follow the viewport, filters by type and date, and search by postcode or town; on a
// narrow screen the list comes first with the map a tap away.
// The server clusters (GET {data-view-url}); this file only draws what it is sent, so it
// stays fast whatever the number of events. No request leaves the site except map tiles,
// and only when data-tile-url is set (map-background.js: the operator's own basemap, a
// tile server, or the built-in outline).
import L from "leaflet";
import { addBackground } from "./map-background.js";
import {
  drawClusters,
  drawEvents,
  el,
  finite,
  kindColours,
  plural,
  renderList,
  setCount,
  setUpListHighlighting,
} from "./map-draw.js";
import {
  applyFiltersFromUrl,
  readFilters,
  rememberInUrl,
  runSearch,
  searchRadius,
  setFilterParams,
  setUpSearch,
} from "./map-search.js";

const DEBOUNCE_MS = 150;

// ---- Fetching the view ----

function viewQuery(state) {
  const bounds = state.map.getBounds();
  const clamp = (value, limit) => Math.max(-limit, Math.min(limit, value)).toFixed(5);
  const params = new URLSearchParams({
    south: clamp(bounds.getSouth(), 90),
    west: clamp(bounds.getWest(), 180),
    north: clamp(bounds.getNorth(), 90),
    east: clamp(bounds.getEast(), 180),
    zoom: String(state.map.getZoom()),
  });
  setFilterParams(params, state.filters);
  return params;
}

async function refreshView(state) {
  state.viewController?.abort();
  const controller = new AbortController();
  state.viewController = controller;
  const started = performance.now();
  const url = new URL(state.viewUrl, window.location.href);
  viewQuery(state).forEach((value, name) => url.searchParams.set(name, value));
  rememberInUrl(state);
  state.container.setAttribute("aria-busy", "true");
  try {
    const response = await fetch(url, {
      signal: controller.signal,
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const view = await response.json();
    if (controller.signal.aborted) return;
    renderView(state, view, started);
    state.resolveReady({ ok: true });
  } catch (error) {
    if (error.name === "AbortError") return;
    if (!state.search) setCount(state, "Events could not be loaded. Move the map or try again in a moment.");
    state.resolveReady({ ok: false });
  } finally {
    if (state.viewController === controller) {
      state.viewController = null;
      state.container.removeAttribute("aria-busy");
    }
  }
}

function renderView(state, view, fetchStarted) {
  performance.mark("map-render-start");
  const renderStarted = performance.now();
  drawClusters(state, Array.isArray(view.clusters) ? view.clusters : []);
  drawEvents(state, Array.isArray(view.events) ? view.events : []);
  if (!state.search) {
    const list = Array.isArray(view.list) ? view.list : [];
    const total = Number.isFinite(view.total) ? view.total : list.length;
    renderList(state, list);
    let text = total === 0 ? "No events in this area" : `${plural(total, "event", "events")} in this area`;
    if (list.length && list.length < total) text += ` (the first ${list.length} are listed)`;
    setCount(state, total === 0 ? `${text}. Zoom out or change the filters.` : `${text}.`);
  }
  performance.mark("map-render-end");
  performance.measure("map-render", "map-render-start", "map-render-end");
  performance.clearMarks("map-render-start");
  performance.clearMarks("map-render-end");
  const now = performance.now();
  state.api.lastRenderMs = now - renderStarted;
  state.api.lastViewMs = now - fetchStarted;
  state.api.renders += 1;
}

function scheduleRefresh(state) {
  window.clearTimeout(state.timer);
  state.timer = window.setTimeout(() => refreshView(state), DEBOUNCE_MS);
}

// ---- Set-up ----

function initialView(container, params) {
  const parts = (container.dataset.center || "54.5,-3").split(",").map(Number);
  const lat = parts[0];
  const lon = parts[1];
  const view = { centre: finite(lat, lon) ? [lat, lon] : [54.5, -3], zoom: Number(container.dataset.zoom) || 6 };
  const urlLat = Number(params.get("lat"));
  const urlLon = Number(params.get("lon"));
  const urlZoom = Number(params.get("zoom"));
  if (params.has("lat") && params.has("lon") && finite(urlLat, urlLon) && Math.abs(urlLat) <= 90) {
    view.centre = [urlLat, urlLon];
  }
  if (params.has("zoom") && Number.isInteger(urlZoom) && urlZoom >= 2 && urlZoom <= 18) view.zoom = urlZoom;
  return view;
}

// On a narrow screen the list comes first and the map waits behind "Show map"; it is laid
// out all along (off screen), so the list follows its bounds from the start.
function setUpMapToggle(state) {
  const toggle = document.querySelector("[data-map-toggle]");
  if (!toggle) return;
  toggle.hidden = false;
  toggle.addEventListener("click", () => {
    const open = !state.container.classList.contains("is-open");
    state.container.classList.toggle("is-open", open);
    toggle.setAttribute("aria-expanded", String(open));
    toggle.textContent = open ? "Hide map" : "Show map";
    state.map.invalidateSize();
    if (open) state.container.scrollIntoView({ block: "nearest" });
  });
}

function setUpEventMap() {
  const container = document.getElementById("event-map");
  if (!container || container.dataset.mapReady) return;
  container.dataset.mapReady = "1";
  const params = new URLSearchParams(window.location.search);
  const filterForm = document.getElementById("event-filters");
  applyFiltersFromUrl(filterForm, params);

  const view = initialView(container, params);
  const map = L.map(container, { center: view.centre, zoom: view.zoom, minZoom: 2, maxZoom: 18 });
  const background = addBackground(map, container);

  const list = document.getElementById("event-list") || el("ol", { id: "event-list" });
  if (!list.isConnected) container.after(list);
  // Announce the one-line count, not every list item, when the view changes.
  list.removeAttribute("aria-live");
  const count =
    document.getElementById("event-count") || el("p", { id: "event-count", class: "event-count" });
  if (!count.isConnected) list.before(count);
  count.setAttribute("role", "status");

  let resolveReady;
  const ready = new Promise((resolve) => {
    resolveReady = resolve;
  });
  const api = { map, background, ready, lastRenderMs: null, lastViewMs: null, renders: 0 };
  window.barnstormMap = api;

  const state = {
    api,
    map,
    container,
    list,
    count,
    embed: container.dataset.embed === "1",
    viewUrl: container.dataset.viewUrl || "/events/map.json",
    searchForm: document.getElementById("place-search"),
    filters: readFilters(filterForm),
    colours: kindColours(container),
    clusterLayer: L.layerGroup().addTo(map),
    eventLayer: L.featureGroup().addTo(map),
    radiusLayer: L.layerGroup().addTo(map),
    markers: new Map(),
    highlighted: null,
    // The place whose stacked marker opens once drawn (after a tap on its cluster).
    openPlace: null,
    search: null,
    searchError: null,
    clearSearch: null,
    timer: 0,
    resolveReady: (outcome) => {
      resolveReady(outcome);
      state.resolveReady = () => {};
    },
  };
  state.refresh = () => refreshView(state);
  if (state.embed) container.classList.add("is-embed");

  setUpListHighlighting(state);
  setUpMapToggle(state);
  setUpSearch(state);
  map.on("moveend", () => scheduleRefresh(state));
  if (filterForm) {
    const onFilterChange = () => {
      state.filters = readFilters(filterForm);
      scheduleRefresh(state);
      if (state.search) runSearch(state, state.search.q, state.search.radiusKm);
    };
    filterForm.addEventListener("change", onFilterChange);
    filterForm.addEventListener("submit", (event) => {
      event.preventDefault();
      onFilterChange();
    });
  }

  refreshView(state);
  const q = (params.get("q") || "").trim();
  if (q && state.searchForm) {
    const input = state.searchForm.querySelector('[name="q"]');
    if (input) input.value = q;
    const radiusSelect = state.searchForm.querySelector('[name="radius_km"]');
    if (radiusSelect && params.has("radius_km")) radiusSelect.value = params.get("radius_km");
    runSearch(state, q, searchRadius(state.searchForm));
  }
}

if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", setUpEventMap);
} else {
  setUpEventMap();
}
