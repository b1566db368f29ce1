"""Plausible text for seeded records: company and person names, addresses, descriptions.

Everything is drawn from a caller's `random.Random`, so a seed always yields the same text.
"""

from __future__ import annotations

import random
from typing import Any

COMPANY_HEADS = (
    "Acme",
    "Blue Harbor",
    "Summit",
    "Pioneer",
    "Redwood",
    "Northwind",
    "Granite",
    "Silverline",
    "Cedar Point",
    "Harborview",
    "Ironbridge",
    "Lakeside",
    "Maple Leaf",
    "Oakridge",
    "Pinecrest",
    "Riverbend",
    "Sunrise",
    "Tidewater",
    "Westfield",
    "Evergreen",
    "Brightpath",
    "Copperfield",
    "Foxglove",
    "Highland",
    "Keystone",
    "Lighthouse",
    "Meadowbrook",
    "Stonegate",
    "Bluebird",
    "Crescent",
)
COMPANY_TRADES = (
    "Supply",
    "Logistics",
    "Consulting",
    "Foods",
    "Electric",
    "Design",
    "Manufacturing",
    "Software",
    "Partners",
    "Labs",
    "Plumbing",
    "Printing",
    "Catering",
    "Freight",
    "Analytics",
    "Landscaping",
    "Staffing",
    "Hardware",
    "Media",
    "Security",
)
COMPANY_FORMS = ("Inc.", "LLC", "Co.", "Ltd.", "Corp.")
FIRST_NAMES = (
    "Avery",
    "Blake",
    "Carmen",
    "Dana",
    "Elena",
    "Farid",
    "Grace",
    "Hiro",
    "Imani",
    "Jonas",
    "Keiko",
    "Luis",
    "Maya",
    "Nikhil",
    "Olivia",
    "Priya",
    "Quinn",
    "Rosa",
    "Samir",
    "Tara",
    "Umar",
    "Vera",
    "Wei",
    "Ximena",
    "Yusuf",
    "Zoe",
)
LAST_NAMES = (
    "Anderson",
    "Brooks",
    "Chen",
    "Diaz",
    "Evans",
    "Fischer",
    "Garcia",
    "Haddad",
    "Ito",
    "Johnson",
    "Kowalski",
    "Lopez",
    "Murphy",
    "Nguyen",
    "Okafor",
    "Patel",
    "Quintero",
    "Rossi",
    "Schmidt",
    "Thompson",
    "Ueda",
    "Vargas",
    "Williams",
    "Xu",
    "Young",
    "Zimmerman",
)
#: (city, state or province, ZIP prefix, country, country name)
CITIES = (
    ("San Jose", "CA", "951", "US", "United States"),
    ("Austin", "TX", "787", "US", "United States"),
    ("Denver", "CO", "802", "US", "United States"),
    ("Portland", "OR", "972", "US", "United States"),
    ("Chicago", "IL", "606", "US", "United States"),
    ("Boston", "MA", "021", "US", "United States"),
    ("Atlanta", "GA", "303", "US", "United States"),
    ("Seattle", "WA", "981", "US", "United States"),
    ("Raleigh", "NC", "276", "US", "United States"),
    ("Phoenix", "AZ", "850", "US", "United States"),
    ("Toronto", "ON", "M5V", "CA", "Canada"),
    ("Vancouver", "BC", "V6B", "CA", "Canada"),
)
STREETS = (
    "Main St",
    "Oak Ave",
    "Market St",
    "2nd Ave",
    "Park Blvd",
    "Elm St",
    "Mission St",
    "Lake Dr",
    "Hill Rd",
    "Commerce Way",
)
GOODS = (
    "Office supplies",
    "Printer toner",
    "Cloud hosting",
    "Consulting hours",
    "Freight charges",
    "Catering for all-hands",
    "Software licenses",
    "Laptop repair",
    "Cleaning services",
    "Marketing materials",
    "Legal review",
    "Shipping boxes",
    "Electricity",
    "Internet service",
    "Security monitoring",
    "Design retainer",
    "Warehouse rent",
    "Travel reimbursement",
)
BANKS = (
    "First Federal Bank",
    "Pacific Coast Credit Union",
    "Mountain State Bank",
    "Harbor National Bank",
    "Great Lakes Savings",
)
#: ABA routing numbers of the Federal Reserve's documentation examples style (valid checksum).
ROUTING_NUMBERS = ("121000358", "026009593", "011000138", "021000021", "111000025")


def company_name(rng: random.Random, index: int) -> str:
    """Distinct for the first few thousand indexes; a number keeps later ones distinct."""
    head = COMPANY_HEADS[index % len(COMPANY_HEADS)]
    trade = COMPANY_TRADES[(index // len(COMPANY_HEADS)) % len(COMPANY_TRADES)]
    form = COMPANY_FORMS[rng.randrange(len(COMPANY_FORMS))]
    cycle = index // (len(COMPANY_HEADS) * len(COMPANY_TRADES))
    return f"{head} {trade} {cycle + 1} {form}" if cycle else f"{head} {trade} {form}"


def person(rng: random.Random) -> tuple[str, str]:
    return (
        FIRST_NAMES[rng.randrange(len(FIRST_NAMES))],
        LAST_NAMES[rng.randrange(len(LAST_NAMES))],
    )


def email_for(name: str, rng: random.Random) -> str:
    local = "".join(ch for ch in name.lower() if ch.isalnum())[:16] or "contact"
    return f"{local}{rng.randrange(100)}@example.com"


def phone(rng: random.Random) -> str:
    # 555-01xx numbers are reserved for fiction.
    return f"+1 {rng.randrange(201, 990)}-555-01{rng.randrange(100):02d}"


#: ISO 3166-1 code -> name, for the countries of CITIES.
COUNTRY_NAMES = {code: name for *_, code, name in CITIES}


def address(rng: random.Random) -> dict[str, Any]:
    city, state, zip_prefix, country, country_name = CITIES[rng.randrange(len(CITIES))]
    postal = (
        f"{zip_prefix}{rng.randrange(100):02d}"
        if country == "US"
        else f"{zip_prefix} {rng.randrange(1, 10)}A{rng.randrange(1, 10)}"
    )
    return {
        "line1": f"{rng.randrange(1, 9999)} {STREETS[rng.randrange(len(STREETS))]}",
        "line2": f"Suite {rng.randrange(100, 999)}",
        "city": city,
        "stateOrProvince": state,
        "zipOrPostalCode": postal,
        "country": country,
        "countryName": country_name,
    }


def goods(rng: random.Random) -> str:
    return GOODS[rng.randrange(len(GOODS))]


PURPOSES = ("operations", "sales", "the Denver office", "engineering", "the spring launch")


def sentence(rng: random.Random) -> str:
    quarter = rng.randrange(1, 5)
    return f"{goods(rng)} for Q{quarter} {PURPOSES[rng.randrange(len(PURPOSES))]}"


def digits(rng: random.Random, count: int) -> str:
    return f"{rng.randrange(10**count):0{count}d}"
