"""Units on numeric answers: read ``5 cm^2``, ``\\$5``, ``3 \\text{ hours}`` as (value, unit).

When both the reference and the answer carry a unit, the quantities are compared after
converting to a base unit of the same dimension: ``500 cm`` equals ``5 m``, ``5 mm`` does not,
and ``5 cm^2`` never equals ``5 cm^3`` (different dimensions). An answer whose reference has no
unit is compared by value alone (the unit is the model's courtesy).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

# name -> (dimension, scale to the base unit); the dimension of a power is "dim^n".
_UNITS: dict[str, tuple[str, Fraction]] = {}


def _add(dimension: str, scale: Fraction | int | str, *names: str) -> None:
    for name in names:
        _UNITS[name] = (dimension, Fraction(scale))


_add("length", "0.001", "mm", "millimeter", "millimeters", "millimetre", "millimetres")
_add("length", "0.01", "cm", "centimeter", "centimeters", "centimetre", "centimetres")
_add("length", 1, "m", "meter", "meters", "metre", "metres")
_add("length", 1000, "km", "kilometer", "kilometers", "kilometre", "kilometres")
_add("length", "0.0254", "in", "inch", "inches")
_add("length", "0.3048", "ft", "foot", "feet")
_add("length", "0.9144", "yd", "yard", "yards")
_add("length", "1609.344", "mi", "mile", "miles")
_add("time", 1, "s", "sec", "secs", "second", "seconds")
_add("time", 60, "min", "mins", "minute", "minutes")
_add("time", 3600, "h", "hr", "hrs", "hour", "hours")
_add("time", 86400, "day", "days")
_add("time", 604800, "week", "weeks")
_add("mass", "0.001", "g", "gram", "grams")
_add("mass", "0.000001", "mg", "milligram", "milligrams")
_add("mass", 1, "kg", "kilogram", "kilograms")
_add("mass", "0.45359237", "lb", "lbs", "pound", "pounds")
_add("mass", "0.028349523125", "oz", "ounce", "ounces")
_add("volume", "0.001", "ml", "milliliter", "milliliters", "millilitre", "millilitres")
_add("volume", 1, "l", "liter", "liters", "litre", "litres")
_add("money_usd", 1, "$", "dollar", "dollars", "usd")
_add("money_usd", "0.01", "cent", "cents", "¢")
_add("money_eur", 1, "€", "euro", "euros", "eur")
_add("money_gbp", 1, "£", "gbp")
_add("angle_deg", 1, "degree", "degrees", "°")
_add("speed_mph", 1, "mph")
_add("speed_kmh", 1, "km/h", "kmh", "kph")

_POWER_WORDS = {"square": 2, "sq": 2, "cubic": 3, "cu": 3}
_TEXT_RE = re.compile(r"\\(?:text|textrm|mathrm|mbox|operatorname|textnormal)\s*\{([^{}]*)\}")
_NUMBER_RE = re.compile(r"[-+]?\s*(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)")
_TOKEN_RE = re.compile(r"km/h|[A-Za-z]+|\$|€|£|¢|°")


@dataclass(frozen=True)
class Quantity:
    """A number with a unit: value in the unit, the unit's dimension and scale."""

    value: Fraction
    dimension: str
    scale: Fraction


def _unit_of(words: list[str], power: int) -> tuple[str, Fraction] | None:
    dims: list[tuple[str, Fraction]] = []
    pending_power = 1
    for word in words:
        low = word.lower()
        if low in _POWER_WORDS:
            pending_power = _POWER_WORDS[low]
            continue
        if low not in _UNITS:
            return None  # not only units: leave it to the caller
        dims.append(_UNITS[low])
        if pending_power != 1:
            dim, scale = dims[-1]
            dims[-1] = (f"{dim}^{pending_power}", scale ** pending_power)
            pending_power = 1
    if len(dims) != 1:
        return None
    dim, scale = dims[0]
    if power != 1:
        dim, scale = f"{dim}^{power}", scale ** power
    return dim, scale


def read_quantity(answer: str) -> Quantity | None:
    """A plain number with exactly one known unit (``5 cm^2``, ``\\$5``), else ``None``."""
    s = _TEXT_RE.sub(r" \1 ", answer).replace("\\$", "$").replace("\\%", "%")
    s = s.replace("\\,", " ").replace("~", " ").replace("\\ ", " ")
    s = re.sub(r"\^\s*\\circ|\\circ|\\degree", "°", s)
    power = 1
    m = re.search(r"\^\s*\{?\s*([23])\s*\}?\s*$", s)
    if m:
        power, s = int(m.group(1)), s[:m.start()]
    numbers = list(_NUMBER_RE.finditer(s))
    if len(numbers) != 1:
        return None
    number = numbers[0]
    rest = (s[:number.start()] + " " + s[number.end():]).replace("{", " ").replace("}", " ")
    rest = rest.strip(" .")
    if not rest or re.search(r"[^\sA-Za-z$€£¢°/]", rest):
        return None
    words = _TOKEN_RE.findall(rest)
    if "".join(words).replace(" ", "") != re.sub(r"\s+", "", rest):
        return None
    unit = _unit_of(words, power)
    if unit is None:
        return None
    try:
        value = Fraction(number.group(0).replace(",", "").replace(" ", ""))
    except (ValueError, ZeroDivisionError):
        return None
    return Quantity(value, unit[0], unit[1])


def quantities_equal(a: Quantity, b: Quantity) -> bool:
    """Same dimension and the same amount once both are in the base unit."""
    return a.dimension == b.dimension and a.value * a.scale == b.value * b.scale
