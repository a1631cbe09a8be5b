// Filters, the shareable query string and the place search (postcode or town) for the
// events map. The search lists results by distance and draws the radius; the viewport
// markers keep following the map meanwhile.
import L from "leaflet";
import { el, finite, plural, renderList, safeHref, setCount } from "./map-draw.js";

const DEFAULT_SEARCH_URL = "/events/search.json";

export function readFilters(form) {
  if (!form) return { types: [], from: "", to: "" };
  const data = new FormData(form);
  const types = [...data.getAll("types"), ...data.getAll("type")]
    .map(String)
    .flatMap((value) => value.split(","))
    .filter(Boolean);
  return {
    types: [...new Set(types)],
    from: String(data.get("from") || ""),
    to: String(data.get("to") || ""),
  };
}

export function applyFiltersFromUrl(form, params) {
  if (!form) return;
  const types = (params.get("types") || params.get("type") || "").split(",").filter(Boolean);
  if (types.length) {
    for (const box of form.querySelectorAll('input[type="checkbox"][name="types"]')) {
      box.checked = types.includes(box.value);
    }
    const select = form.querySelector('select[name="type"], select[name="types"]');
    if (select) {
      for (const option of select.options) option.selected = types.includes(option.value);
    }
  }
  for (const name of ["from", "to"]) {
    const input = form.querySelector(`input[name="${name}"]`);
    if (input && params.has(name)) input.value = params.get(name);
  }
}

export function setFilterParams(params, filters) {
  const set = (name, value) => (value ? params.set(name, value) : params.delete(name));
  set("types", filters.types.join(","));
  set("from", filters.from);
  set("to", filters.to);
}

// Keeps the shareable state (filters, view, search) in the address bar.
export function rememberInUrl(state) {
  const url = new URL(window.location.href);
  const params = url.searchParams;
  params.delete("type");
  setFilterParams(params, state.filters);
  const centre = state.map.getCenter();
  params.set("lat", centre.lat.toFixed(4));
  params.set("lon", centre.lng.toFixed(4));
  params.set("zoom", String(state.map.getZoom()));
  if (state.search) {
    params.set("q", state.search.q);
    params.set("radius_km", String(state.search.radiusKm));
  } else {
    params.delete("q");
    params.delete("radius_km");
  }
  if (url.href !== window.location.href) window.history.replaceState(window.history.state, "", url);
}

// ---- Place search ----

function showSearchError(state, message) {
  const input = state.searchForm?.querySelector('[name="q"]');
  if (message) {
    state.searchError.textContent = message;
    state.searchError.hidden = false;
    input?.setAttribute("aria-invalid", "true");
  } else {
    state.searchError.textContent = "";
    state.searchError.hidden = true;
    input?.removeAttribute("aria-invalid");
  }
}

export async function runSearch(state, q, radiusKm) {
  state.searchController?.abort();
  const controller = new AbortController();
  state.searchController = controller;
  const url = new URL(state.searchUrl, window.location.href);
  url.searchParams.set("q", q);
  url.searchParams.set("radius_km", String(radiusKm));
  setFilterParams(url.searchParams, state.filters);
  try {
    const response = await fetch(url, {
      signal: controller.signal,
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    });
    const body = await response.json().catch(() => null);
    if (controller.signal.aborted) return;
    if (!response.ok || !body || !body.place) {
      const message = body?.error?.message || "Search is unavailable right now. Please try again.";
      showSearchError(state, message);
      return;
    }
    showSearchError(state, "");
    showSearchResults(state, { q, radiusKm }, body);
  } catch (error) {
    if (error.name !== "AbortError") showSearchError(state, "Search is unavailable right now. Please try again.");
  }
}

function showSearchResults(state, requested, body) {
  const place = body.place;
  // The server may clamp the radius; draw and describe the one it used.
  const radiusKm = Number.isFinite(body.radius_km) && body.radius_km > 0 ? body.radius_km : requested.radiusKm;
  const search = { q: requested.q, radiusKm };
  state.search = search;
  const results = (Array.isArray(body.results) ? body.results : [])
    .slice()
    .sort((a, b) => Number(a.distance_km) - Number(b.distance_km));
  state.radiusLayer.clearLayers();
  if (finite(place.lat, place.lon)) {
    const centre = L.latLng(place.lat, place.lon);
    L.circle(centre, {
      radius: search.radiusKm * 1000,
      interactive: false,
      className: "search-radius",
      color: "#1f4fbf",
      weight: 2,
      dashArray: "6 6",
      fillOpacity: 0.05,
    }).addTo(state.radiusLayer);
    state.map.fitBounds(centre.toBounds(search.radiusKm * 2000), { padding: [16, 16] });
  }
  const where = `within ${search.radiusKm} km of ${place.label}`;
  let empty = null;
  if (!results.length) {
    const host = el("a", { href: safeHref(body.host_url) }, "host one");
    if (state.embed) {
      host.target = "_blank";
      host.rel = "noopener noreferrer";
    }
    empty = el("li", { class: "event-empty" }, "Nothing near you yet — ", host);
  }
  renderList(state, results, empty);
  setCount(state, results.length ? `${plural(results.length, "event", "events")} ${where}.` : `No events ${where}.`);
  state.clearSearch.hidden = false;
  rememberInUrl(state);
}

function clearSearch(state) {
  state.searchController?.abort();
  state.search = null;
  state.radiusLayer.clearLayers();
  state.clearSearch.hidden = true;
  showSearchError(state, "");
  state.refresh();
}

export function searchRadius(form) {
  const value = Number(form.querySelector('[name="radius_km"]')?.value);
  return Number.isFinite(value) && value > 0 ? value : 10;
}

export function setUpSearch(state) {
  state.searchUrl = state.container.dataset.searchUrl || DEFAULT_SEARCH_URL;
  const form = state.searchForm;
  if (!form) return;
  state.searchError = document.getElementById("place-search-error");
  if (!state.searchError) {
    state.searchError = el("p", { id: "place-search-error", class: "field-error", role: "alert" });
    form.append(state.searchError);
  }
  state.searchError.hidden = !state.searchError.textContent.trim();
  form.querySelector('[name="q"]')?.setAttribute("aria-describedby", "place-search-error");
  state.clearSearch = el("button", { type: "button", class: "secondary small search-clear" }, "Show all events on the map");
  state.clearSearch.hidden = true;
  state.clearSearch.addEventListener("click", () => clearSearch(state));
  state.count.after(state.clearSearch);

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const q = String(new FormData(form).get("q") || "").trim();
    if (!q) {
      showSearchError(state, "Enter a postcode or town, for example SW1A 1AA or Leeds.");
      return;
    }
    runSearch(state, q, searchRadius(form));
  });
}

