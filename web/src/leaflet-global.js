// Leaflet as the global `L`: the PMTiles adapters (pmtiles, protomaps-leaflet) extend
// `L.GridLayer` through the global rather than importing Leaflet. Import this first.
import L from "leaflet";

window.L = L;
