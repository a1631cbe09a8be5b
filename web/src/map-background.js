// What the events map draws under its markers: the operator's own PMTiles archive (vector
// tiles drawn with protomaps-leaflet, raster ones through pmtiles), else the tile server's
// tiles, else (no tiles configured, or they fail to load) a built-in outline of the UK
// and Ireland with major towns from Natural Earth data bundled into this script. Nothing
// here asks any server but the configured one; the outline asks none.
import "./leaflet-global.js";
import L from "leaflet";
import { PMTiles, leafletRasterLayer } from "pmtiles";
import { leafletLayer } from "protomaps-leaflet";
import outline from "./british-isles.json";

const OUTLINE_ATTRIBUTION = '<a href="https://www.naturalearthdata.com/">Natural Earth</a>';
// Below this zoom only the larger towns are named, so labels do not pile up.
const ALL_TOWNS_ZOOM = 7;

function escapeText(text) {
  const span = document.createElement("span");
  span.textContent = text;
  return span.innerHTML;
}

// The outline sits in panes of its own under the markers, and takes no clicks or focus.
function outlinePane(map, name, zIndex) {
  const pane = map.createPane(name);
  pane.style.zIndex = String(zIndex);
  pane.style.pointerEvents = "none";
  return name;
}

function outlineLayer(map) {
  const landPane = outlinePane(map, "outlineLand", 150);
  const labelPane = outlinePane(map, "outlineLabels", 350);
  const land = L.geoJSON(outline, {
    pane: landPane,
    interactive: false,
    attribution: OUTLINE_ATTRIBUTION,
    filter: (feature) => feature.geometry.type !== "Point",
    style: (feature) =>
      feature.properties.role === "isles"
        ? { className: "outline-isles", weight: 1, fillOpacity: 1 }
        : { className: "outline-neighbours", stroke: false, fillOpacity: 1 },
  });
  const towns = outline.features
    .filter((feature) => feature.properties.role === "town")
    .map((feature) => {
      const [lon, lat] = feature.geometry.coordinates;
      const { name, rank } = feature.properties;
      return L.marker([lat, lon], {
        pane: labelPane,
        interactive: false,
        keyboard: false,
        icon: L.divIcon({
          className: `outline-town outline-town-${rank}`,
          html: `<span class="outline-town-dot"></span><span class="outline-town-name">${escapeText(name)}</span>`,
          iconSize: null,
        }),
      });
    });
  const layer = L.layerGroup([land, ...towns]);
  layer.getAttribution = () => OUTLINE_ATTRIBUTION;
  const showTowns = () => {
    map.getContainer().classList.toggle("outline-all-towns", map.getZoom() >= ALL_TOWNS_ZOOM);
  };
  map.on("zoomend", showTowns);
  showTowns();
  return layer;
}

function showOutline(map) {
  map.getContainer().classList.add("has-outline");
  outlineLayer(map).addTo(map);
}

function basemapLayer(container) {
  const url = new URL(container.dataset.basemapUrl, window.location.href).toString();
  const attribution = escapeText(container.dataset.tileAttribution || "");
  const maxNativeZoom = Number(container.dataset.basemapMaxZoom) || undefined;
  if (container.dataset.basemapTiles === "raster") {
    return leafletRasterLayer(new PMTiles(url), { attribution, maxNativeZoom, maxZoom: 18 });
  }
  // Labels use the browser's own sans-serif: the basemap needs no font files either.
  return leafletLayer({ url, flavor: "light", lang: "en", attribution, maxDataZoom: maxNativeZoom, maxZoom: 18 });
}

// A short line on the map saying the tiles did not load; the outline stands in for them.
function tileNote(map, text) {
  const Note = L.Control.extend({
    options: { position: "bottomleft" },
    onAdd: () => {
      const note = L.DomUtil.create("p", "map-note");
      note.setAttribute("role", "status");
      note.textContent = text;
      return note;
    },
  });
  return new Note().addTo(map);
}

/**
 * Adds the background to `map` from the container's data attributes and returns which
 * one it drew: "basemap", "tiles" or "outline" (tiles that fail switch to "outline").
 */
export function addBackground(map, container) {
  const api = { kind: "outline" };
  if (container.dataset.basemapUrl) {
    basemapLayer(container).addTo(map);
    api.kind = "basemap";
    return api;
  }
  const tileUrl = (container.dataset.tileUrl || "").trim();
  if (!tileUrl) {
    showOutline(map);
    return api;
  }
  api.kind = "tiles";
  const tiles = L.tileLayer(tileUrl, { attribution: escapeText(container.dataset.tileAttribution || ""), maxZoom: 18 });
  // Tiles that never load (a server this browser cannot reach) give way to the outline;
  // a tile missing later among loaded ones only earns a note.
  let loaded = false;
  let noted = false;
  tiles.on("tileload", () => {
    loaded = true;
  });
  tiles.on("tileerror", () => {
    if (noted) return;
    noted = true;
    if (loaded) {
      tileNote(map, "Some map tiles could not be loaded; events are still shown");
      return;
    }
    map.removeLayer(tiles);
    showOutline(map);
    api.kind = "outline";
    tileNote(map, "Map tiles could not be loaded; showing an outline map");
  });
  tiles.addTo(map);
  return api;
}
