"""Writes a small PMTiles v3 archive over the UK for the basemap tests.

Usage: python3 make_archive.py vector|raster OUT.pmtiles

Every tile from zoom 0 to 6 that covers the UK is the same. Vector: an `earth` polygon
over the whole tile and a `water` triangle over its lower-left half, as Mapbox vector
tiles (gzip), so a map drawn from it shows the Protomaps "light" land and water colours
side by side. Raster: a PNG whose upper half is RASTER_TOP and lower half RASTER_BOTTOM.
Metadata padding puts the tiles past the first 16 KiB, so a reader needs a second range.
The archive is written by PyPI's `pmtiles` (exit status 3 when it is missing).
"""

import gzip
import hashlib
import math
import struct
import sys
import zlib

try:
    from pmtiles.tile import Compression, TileType, zxy_to_tileid
    from pmtiles.writer import Writer
except ImportError:
    print("PyPI's pmtiles is not installed: pip install pmtiles", file=sys.stderr)
    sys.exit(3)

EXTENT = 4096
RASTER_TOP = (200, 60, 60)
RASTER_BOTTOM = (60, 60, 200)
UK = (-8.0, 50.0, 2.0, 59.0)  # west, south, east, north


def varint(value):
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def field(number, wire, payload):
    key = varint((number << 3) | wire)
    if wire == 0:
        return key + varint(payload)
    return key + varint(len(payload)) + payload


def zigzag(value):
    return (value << 1) ^ (value >> 31)


def polygon(points):
    """Geometry commands for one closed ring (points in tile coordinates)."""
    commands = [9]  # MoveTo, one point
    x = y = 0
    for index, (px, py) in enumerate(points):
        if index == 1:
            commands.append((2 & 0x7) | ((len(points) - 1) << 3))  # LineTo, the rest
        commands += [zigzag(px - x), zigzag(py - y)]
        x, y = px, py
    commands.append(15)  # ClosePath
    return b"".join(varint(c) for c in commands)


def layer(name, ring):
    feature = field(3, 0, 3) + field(4, 2, polygon(ring))  # type POLYGON, geometry
    return field(
        3,
        2,
        field(15, 0, 2) + field(1, 2, name.encode()) + field(2, 2, feature) + field(5, 0, EXTENT),
    )


def png_tile(size=256):
    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(
        b"\x00" + bytes(RASTER_TOP if y < size // 2 else RASTER_BOTTOM) * size for y in range(size)
    )
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)  # 8-bit RGB
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def vector_tile():
    # Clockwise in tile coordinates (y down), as MVT wants outer rings.
    earth = layer("earth", [(0, 0), (EXTENT, 0), (EXTENT, EXTENT), (0, EXTENT)])
    water = layer("water", [(0, 0), (EXTENT, EXTENT), (0, EXTENT)])
    return gzip.compress(earth + water, mtime=0)


def tile_x(lon, zoom):
    return int((lon + 180.0) / 360.0 * (1 << zoom))


def tile_y(lat, zoom):
    rad = math.radians(lat)
    return int((1.0 - math.asinh(math.tan(rad)) / math.pi) / 2.0 * (1 << zoom))


def main(kind, out):
    west, south, east, north = UK
    raster = kind == "raster"
    data = png_tile() if raster else vector_tile()
    with open(out, "wb") as handle:
        writer = Writer(handle)
        for zoom in range(0, 7):
            for x in range(tile_x(west, zoom), tile_x(east, zoom) + 1):
                for y in range(tile_y(north, zoom), tile_y(south, zoom) + 1):
                    writer.write_tile(zxy_to_tileid(zoom, x, y), data)
        writer.finalize(
            {
                "tile_type": TileType.PNG if raster else TileType.MVT,
                "tile_compression": Compression.NONE if raster else Compression.GZIP,
                "min_lon_e7": int(west * 1e7),
                "min_lat_e7": int(south * 1e7),
                "max_lon_e7": int(east * 1e7),
                "max_lat_e7": int(north * 1e7),
                "center_zoom": 5,
                "center_lon_e7": int(-3.0 * 1e7),
                "center_lat_e7": int(54.5 * 1e7),
            },
            {
                "name": "Barnstorm test basemap",
                "vector_layers": [{"id": "earth"}, {"id": "water"}],
                # Noise that gzip cannot shrink, so the tiles lie past the first 16 KiB a
                # reader fetches and it must ask for them in a range of their own.
                "padding": "".join(
                    hashlib.sha256(str(i).encode()).hexdigest() for i in range(800)
                ),
            },
        )


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("vector", "raster"):
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    main(sys.argv[1], sys.argv[2])
