"""Ordinary documents for ranking tests: plain English on everyday topics, made reproducibly."""

from __future__ import annotations

import random

TOPICS = {
    "garden": [
        "Water the tomatoes early in the morning so the leaves dry before the sun is strong.",
        "Compost made from kitchen scraps and autumn leaves feeds the soil for next spring.",
        "Prune the roses after the last frost and remove any branches that cross each other.",
        "Slugs come out after rain; a ring of crushed eggshells keeps them off the lettuce.",
    ],
    "finance": [
        "The quarterly statement lists every payment received and every invoice still open.",
        "Keep receipts for business travel; the tax office may ask for them within five years.",
        "Interest on the savings account is paid at the end of each month and taxed once a year.",
        "The budget for the new office covers rent, furniture, cleaning and the internet line.",
    ],
    "travel": [
        "The night train leaves the central station at ten and arrives before breakfast.",
        "Pack a light jacket: evenings by the coast are cool even in the middle of summer.",
        "The museum is closed on Mondays, so plan the old town walk for the first day instead.",
        "A week-long rail pass is cheaper than four single tickets between the big cities.",
    ],
    "cooking": [
        "Brown the onions slowly in butter before adding the stock and the rice.",
        "Bread dough should rest until it has doubled in size, about an hour in a warm room.",
        "Season the soup at the end, once it has reduced, or it will taste too salty.",
        "Roast the vegetables on a single layer so they caramelise instead of steaming.",
    ],
    "software": [
        "The release notes describe the new login screen and the fix for the crash on start-up.",
        "Run the tests before every commit; a failing build blocks the whole team.",
        "The server writes its logs to a rotating file and keeps the last seven days.",
        "Back up the database every night and check once a month that a restore works.",
    ],
    "health": [
        "A short walk after lunch helps digestion and clears the head for the afternoon.",
        "Drink water through the day; thirst is a late sign that the body needs more.",
        "The clinic offers flu vaccinations every autumn to anyone over sixty-five.",
        "Sleep at regular hours; a dark, cool bedroom makes it easier to fall asleep.",
    ],
    "school": [
        "Parents' evening is on Thursday; each family has ten minutes with the class teacher.",
        "The history project asks pupils to interview a grandparent about their childhood.",
        "Homework is set on Monday and handed in by Friday, written neatly in the blue book.",
        "The school trip to the science museum needs a signed permission slip by next week.",
    ],
    "home": [
        "The boiler service is due in March; the engineer needs access to the kitchen cupboard.",
        "Bleed the radiators at the start of winter so the rooms heat evenly.",
        "The lease renews in June, and the landlord wants one month's notice before leaving.",
        "Paint the hallway in a light colour; it is narrow and gets little daylight.",
    ],
}

_SYLLABLES = ("bra", "quo", "zel", "vin", "tor", "plu", "mek", "dro", "fen", "gax", "lum", "wib", "snar", "krov", "jet")


def document(rng: random.Random, sentences: int = 8) -> str:
    """A few paragraphs on one or two topics."""
    topics = rng.sample(sorted(TOPICS), 2)
    lines = [rng.choice(TOPICS[rng.choice(topics)]) for _ in range(sentences)]
    return "\n\n".join(" ".join(lines[i:i + 2]) for i in range(0, len(lines), 2))


def marker_words(count: int, seed: int = 0) -> list[str]:
    """`count` distinct made-up words: nonsense words, surnames and codes no dictionary holds."""
    rng = random.Random(seed)
    words: set[str] = set()
    while len(words) < count:
        kind = len(words) % 3
        if kind == 0:
            words.add("".join(rng.choice(_SYLLABLES) for _ in range(3)))
        elif kind == 1:
            words.add("".join(rng.choice(_SYLLABLES) for _ in range(2)).capitalize() + "son")
        else:
            words.add(rng.choice("KQXZ") + rng.choice("VWJ") + str(rng.randrange(1000, 99999)))
    return sorted(words)


def with_marker(text: str, marker: str, rng: random.Random) -> str:
    """`text` with `marker` mentioned once, in a sentence of its own, among the others."""
    sentence = rng.choice([f"Reference {marker} applies.", f"Ask {marker} about it.", f"See also {marker}."])
    paragraphs = text.split("\n\n")
    at = rng.randrange(len(paragraphs))
    paragraphs[at] = paragraphs[at] + " " + sentence
    return "\n\n".join(paragraphs)
