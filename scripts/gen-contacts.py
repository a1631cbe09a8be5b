#!/usr/bin/env python3
"""Writes a synthetic contact list for import benchmarks and tests.

Columns: first_name,last_name,phone,email,postcode,ward. Every phone number is an Ofcom
drama number (reserved for fiction, never allocated), so no real person can be rung;
emails are at example.org. There are only about 16,000 valid drama numbers, so a list
longer than that repeats them: the numbers cycle in a fixed order, so each batch of a
few thousand rows holds no repeats of its own and later repeats reach the database as
duplicates. The script prints how many rows and distinct numbers it wrote.

Usage: scripts/gen-contacts.py ROWS OUT.csv [--seed N]
"""

import argparse
import random

# Ofcom drama ranges (1,000 numbers each) that libphonenumber accepts as valid.
# 07700 900xxx, 0115 496 0xxx and 01632 960xxx are not valid to libphonenumber, and
# 0909 879 0xxx is premium rate (rejected by the importer).
DRAMA_RANGES = [
    "020 7946 0{:03d}",
    "0113 496 0{:03d}",
    "0114 496 0{:03d}",
    "0116 496 0{:03d}",
    "0117 496 0{:03d}",
    "0118 496 0{:03d}",
    "0121 496 0{:03d}",
    "0131 496 0{:03d}",
    "0141 496 0{:03d}",
    "0151 496 0{:03d}",
    "0161 496 0{:03d}",
    "0191 498 0{:03d}",
    "028 9649 6{:03d}",
    "029 2018 0{:03d}",
    "0306 999 0{:03d}",
    "0808 157 0{:03d}",
]

FIRST = ["Ada", "Bola", "Ceri", "Dev", "Eilidh", "Fatima", "Gareth", "Hamza", "Iona", "Jack",
         "Kiran", "Liam", "Mairead", "Niamh", "Oluwaseun", "Priya", "Rhys", "Siobhan", "Tom", "Zoe"]
LAST = ["Ahmed", "Brown", "Campbell", "Davies", "Evans", "Fraser", "Griffiths", "Hughes",
        "Iqbal", "Jones", "Khan", "Lewis", "Morgan", "Nowak", "O'Brien", "Patel", "Roberts",
        "Smith", "Taylor", "Williams"]
POSTCODES = ["LS1 4AP", "M1 1AE", "CF10 1EP", "SW1A 1AA", "EH1 1YZ", "G1 1XQ", "L1 8JQ",
             "NE1 7RU", "BT1 5GS", "B1 1BB", "BS1 4DJ", "S1 2HE", "NG1 5FS", "LE1 5WW", "RG1 1AF"]
WARDS = ["Headingley", "Hulme", "Cathays", "St James's", "Leith Walk", "Anderston",
         "Riverside", "Ouseburn", "Botanic", "Ladywood", "Central", "Broomhill"]


def numbers():
    """Every drama number, in a fixed interleaved order."""
    for n in range(1000):
        for pattern in DRAMA_RANGES:
            yield pattern.format(n)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rows", type=int)
    parser.add_argument("out")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    pool = list(numbers())
    with open(args.out, "w", encoding="utf-8", newline="") as out:
        out.write("first_name,last_name,phone,email,postcode,ward\r\n")
        for i in range(args.rows):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            phone = pool[i % len(pool)]
            if i % 4 == 1:
                phone = "+44 " + phone[1:]
            email = f"{first}.{last}.{i}@example.org".lower().replace("'", "")
            ward = rng.choice(WARDS)
            last_cell = f'"{last}"' if "'" in last else last
            out.write(f"{first},{last_cell},{phone},{email},{rng.choice(POSTCODES)},\"{ward}\"\r\n")
    print(f"wrote {args.rows} rows with {min(args.rows, len(pool))} distinct numbers to {args.out}")


if __name__ == "__main__":
    main()
