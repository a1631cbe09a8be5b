// Writes src/british-isles.json, the map's built-in outline for when there are no map
// tiles: the coasts of the UK, Ireland, the Isle of Man and the Channel Islands, the
// neighbouring coasts clipped to the same frame, and major towns. The land comes from
// Natural Earth (1:50m, through the world-atlas package), rounded to 0.01° (about 1 km).
// Run `npm run outline` in web/ after changing this file; the output is committed.
import { readFile, writeFile } from "node:fs/promises";
import { feature } from "topojson-client";

// West, south, east, north: the British Isles with a margin.
const FRAME = [-11.5, 49.0, 3.0, 61.5];
const ISLES = new Set(["United Kingdom", "Ireland", "Isle of Man", "Jersey", "Guernsey"]);
const NEIGHBOURS = new Set(["France", "Belgium", "Netherlands", "Norway", "Faeroe Is."]);

// Towns shown as labelled dots: capitals, cities and regional centres people search from.
// Positions are the town centres to two decimals; `rank` 1 shows from the lowest zoom.
const TOWNS = [
  ["London", 51.51, -0.13, 1],
  ["Edinburgh", 55.95, -3.19, 1],
  ["Cardiff", 51.48, -3.18, 1],
  ["Belfast", 54.6, -5.93, 1],
  ["Dublin", 53.35, -6.26, 1],
  ["Birmingham", 52.48, -1.9, 1],
  ["Manchester", 53.48, -2.24, 1],
  ["Glasgow", 55.86, -4.25, 1],
  ["Leeds", 53.8, -1.55, 1],
  ["Newcastle upon Tyne", 54.97, -1.61, 1],
  ["Bristol", 51.45, -2.59, 1],
  ["Liverpool", 53.41, -2.98, 2],
  ["Sheffield", 53.38, -1.47, 2],
  ["Nottingham", 52.95, -1.15, 2],
  ["Leicester", 52.64, -1.13, 2],
  ["Southampton", 50.9, -1.4, 2],
  ["Plymouth", 50.38, -4.14, 2],
  ["Norwich", 52.63, 1.3, 2],
  ["Cambridge", 52.21, 0.12, 2],
  ["Oxford", 51.75, -1.26, 2],
  ["Brighton", 50.82, -0.14, 2],
  ["Exeter", 50.72, -3.53, 2],
  ["Hull", 53.74, -0.33, 2],
  ["York", 53.96, -1.08, 2],
  ["Swansea", 51.62, -3.94, 2],
  ["Aberdeen", 57.15, -2.09, 1],
  ["Dundee", 56.46, -2.97, 2],
  ["Inverness", 57.48, -4.22, 1],
  ["Derry", 55.0, -7.31, 2],
  ["Cork", 51.9, -8.47, 1],
  ["Galway", 53.27, -9.05, 2],
  ["Limerick", 52.66, -8.63, 2],
  ["Carlisle", 54.89, -2.93, 2],
  ["Aberystwyth", 52.41, -4.08, 2],
  ["Kirkwall", 58.98, -2.96, 2],
  ["Lerwick", 60.15, -1.15, 2],
  ["Douglas", 54.15, -4.48, 2],
];

const round = (value) => Math.round(value * 100) / 100;

// Sutherland–Hodgman against one edge of the frame at a time.
function clipRing(ring) {
  const [west, south, east, north] = FRAME;
  const edges = [
    [(p) => p[0] >= west, (a, b) => cut(a, b, 0, west)],
    [(p) => p[0] <= east, (a, b) => cut(a, b, 0, east)],
    [(p) => p[1] >= south, (a, b) => cut(a, b, 1, south)],
    [(p) => p[1] <= north, (a, b) => cut(a, b, 1, north)],
  ];
  let points = ring;
  for (const [inside, intersect] of edges) {
    const input = points;
    points = [];
    for (let i = 0; i < input.length; i += 1) {
      const current = input[i];
      const previous = input[(i + input.length - 1) % input.length];
      if (inside(current)) {
        if (!inside(previous)) points.push(intersect(previous, current));
        points.push(current);
      } else if (inside(previous)) {
        points.push(intersect(previous, current));
      }
    }
    if (!points.length) return [];
  }
  return points;
}

function cut(a, b, axis, value) {
  const t = (value - a[axis]) / (b[axis] - a[axis]);
  return axis === 0 ? [value, a[1] + t * (b[1] - a[1])] : [a[0] + t * (b[0] - a[0]), value];
}

// Rounded, without repeated points, closed, and only if it still has an area.
function tidyRing(ring) {
  const points = [];
  for (const [lon, lat] of ring) {
    const point = [round(lon), round(lat)];
    const last = points[points.length - 1];
    if (!last || last[0] !== point[0] || last[1] !== point[1]) points.push(point);
  }
  if (points.length > 1) {
    const [first, last] = [points[0], points[points.length - 1]];
    if (first[0] === last[0] && first[1] === last[1]) points.pop();
  }
  if (points.length < 3) return null;
  points.push(points[0]);
  return points;
}

function polygons(geometry) {
  return geometry.type === "Polygon" ? [geometry.coordinates] : geometry.coordinates;
}

function land(countries, names, clip) {
  const shapes = [];
  for (const country of countries.features) {
    if (!names.has(country.properties.name)) continue;
    for (const polygon of polygons(country.geometry)) {
      const rings = polygon.map((ring) => tidyRing(clip ? clipRing(ring) : ring));
      // A polygon whose outer ring vanished (too small, or outside the frame) is dropped.
      if (rings[0]) shapes.push(rings.filter(Boolean));
    }
  }
  return { type: "MultiPolygon", coordinates: shapes };
}

const atlas = JSON.parse(
  await readFile(new URL("../node_modules/world-atlas/countries-50m.json", import.meta.url), "utf8"),
);
const countries = feature(atlas, atlas.objects.countries);
const outline = {
  type: "FeatureCollection",
  attribution: "Natural Earth",
  features: [
    { type: "Feature", properties: { role: "neighbours" }, geometry: land(countries, NEIGHBOURS, true) },
    { type: "Feature", properties: { role: "isles" }, geometry: land(countries, ISLES, false) },
    ...TOWNS.map(([name, lat, lon, rank]) => ({
      type: "Feature",
      properties: { role: "town", name, rank },
      geometry: { type: "Point", coordinates: [lon, lat] },
    })),
  ],
};
const target = new URL("../src/british-isles.json", import.meta.url);
await writeFile(target, `${JSON.stringify(outline)}\n`);
console.log(`wrote ${target.pathname}`);
