"""Write the bundled sample datasets (seeded; every sentence is built here from word lists).

    python sample_data/generate.py [FOLDER]   # rewrites the files next to this script

- instructions.jsonl: Alpaca-style instruction/input/output rows with planted exact,
  normalized (case/whitespace) and near duplicates, empty outputs, over-long rows, refusal
  boilerplate answers and unfilled `{{name}}` placeholders.
- reviews.csv: text,label classification, labels at about 70/20/8/2 %, a few label conflicts.
- chat.jsonl: OpenAI chat `messages`; a few rows are malformed (no assistant turn, unknown
  role, missing content, the same role twice, messages not a list).
- broken.jsonl: good rows with some broken lines among them.
"""

from __future__ import annotations

import csv
import io
import json
import random
from pathlib import Path

SEED = 20240611
HERE = Path(__file__).resolve().parent

ANIMALS = [
    "otter",
    "heron",
    "badger",
    "fox",
    "tortoise",
    "sparrow",
    "beaver",
    "lynx",
    "moth",
    "goat",
]
ADJECTIVES = ["curious", "sleepy", "stubborn", "cheerful", "clumsy", "patient", "brave", "shy"]
PLACES = ["lighthouse", "bakery", "library", "harbour", "orchard", "train station", "greenhouse"]
OBJECTS = ["lantern", "umbrella", "kettle", "compass", "notebook", "bicycle", "scarf", "map"]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]
ROLES = ["your manager", "a colleague", "the landlord", "a client", "the team lead"]
NAMES = ["Mira", "Tomas", "Anouk", "Idris", "Lena", "Kofi", "Sana", "Piet", "Rosa", "Emil"]

GOALS = {
    "save energy at home": [
        "Switch off lights in empty rooms.",
        "Wash clothes at a lower temperature.",
        "Seal gaps around doors and windows.",
        "Use a lid when boiling water in a pan.",
        "Unplug chargers that are not in use.",
    ],
    "sleep better": [
        "Go to bed at the same time every night.",
        "Keep the bedroom cool and dark.",
        "Avoid screens for an hour before bed.",
        "Have caffeine only in the morning.",
        "Take a short walk in daylight.",
    ],
    "learn a new word every day": [
        "Keep a small notebook of new words.",
        "Use each new word in a sentence the same day.",
        "Read a page of something outside your usual topics.",
        "Review last week's words every Sunday.",
        "Ask a friend to quiz you.",
    ],
    "keep a plant alive": [
        "Check the soil with a finger before watering.",
        "Give it a spot with the right amount of light.",
        "Use a pot with a drainage hole.",
        "Turn the pot a little every week.",
        "Remove dead leaves as they appear.",
    ],
    "prepare for a job interview": [
        "Read about the company and its products.",
        "Practise answers to common questions out loud.",
        "Prepare two questions to ask at the end.",
        "Plan your route and arrive early.",
        "Bring a printed copy of your CV.",
    ],
}

CONCEPTS = {
    "battery": "stores energy as chemical energy and releases it as electricity when a circuit is closed",
    "compass": "uses a magnetised needle that lines up with the magnetic field of the Earth",
    "thermometer": "measures temperature, often with a liquid that expands as it warms",
    "spreadsheet": "arranges numbers and text in rows and columns so you can calculate with them",
    "password manager": "keeps your passwords in one encrypted vault behind a single strong password",
    "recipe": "lists ingredients and steps so that a dish comes out the same way each time",
    "budget": "plans how much money you expect to earn and spend over a period",
    "rainbow": "appears when sunlight is bent and split into colours by drops of water",
}
AUDIENCES = ["a child", "a beginner", "a busy adult", "a curious teenager"]

CASUAL = [
    ("gonna be late, traffic is crazy", "I will be late because the traffic is very heavy."),
    ("can u send me the file", "Could you please send me the file?"),
    ("the meeting was kinda pointless", "The meeting was not very productive."),
    ("thx for the help yesterday", "Thank you for your help yesterday."),
    ("no idea where the keys are", "I do not know where the keys are."),
    ("that report is a mess", "The report needs considerable revision."),
    ("lemme know if ur free", "Please let me know whether you are available."),
    ("this printer is broken again", "The printer appears to be out of order again."),
]

REFUSALS = [
    "I'm sorry, but as an AI language model I cannot help with that request.",
    "As an AI language model, I am unable to provide an answer to this question.",
    "I apologize, but I cannot assist with that.",
]


def _sentence(rng: random.Random) -> str:
    a, b = rng.sample(ANIMALS, 2)
    return rng.choice(
        [
            f"The {rng.choice(ADJECTIVES)} {a} found a {rng.choice(OBJECTS)} near the {rng.choice(PLACES)}.",
            f"Every morning the {a} and the {b} met at the {rng.choice(PLACES)}.",
            f"Nobody expected the {a} to carry a {rng.choice(OBJECTS)} all the way home.",
            f"By noon the {rng.choice(ADJECTIVES)} {b} had fallen asleep beside the {rng.choice(OBJECTS)}.",
            f"The {a} asked the {b} for directions to the {rng.choice(PLACES)}.",
        ]
    )


def _task(rng: random.Random) -> dict[str, str]:
    kind = rng.randrange(10)
    if kind == 0:
        a, b = rng.randint(2, 999), rng.randint(2, 999)
        return {
            "instruction": f"What is {a} plus {b}?",
            "input": "",
            "output": f"{a} plus {b} equals {a + b}.",
        }
    if kind == 1:
        casual, formal = rng.choice(CASUAL)
        return {
            "instruction": "Rewrite the following sentence in a more formal tone.",
            "input": casual,
            "output": formal,
        }
    if kind == 2:
        sentences = [_sentence(rng) for _ in range(rng.randint(3, 5))]
        first = sentences[0].rstrip(".")
        return {
            "instruction": "Summarize the following paragraph in one sentence.",
            "input": " ".join(sentences),
            "output": f"In short: {first[0].lower()}{first[1:]}, and a few small things happened after that.",
        }
    if kind == 3:
        goal = rng.choice(list(GOALS))
        n = rng.choice([3, 4, 5])
        tips = rng.sample(GOALS[goal], n)
        words = {3: "three", 4: "four", 5: "five"}[n]
        return {
            "instruction": f"List {words} ways to {goal}.",
            "input": "",
            "output": "\n".join(f"{i}. {tip}" for i, tip in enumerate(tips, 1)),
        }
    if kind == 4:
        concept = rng.choice(list(CONCEPTS))
        audience = rng.choice(AUDIENCES)
        return {
            "instruction": f"Explain what a {concept} is to {audience}.",
            "input": "",
            "output": f"A {concept} is something that {CONCEPTS[concept]}. "
            f"You can think of it as a helper that does one job well.",
        }
    if kind == 5:
        km = rng.randint(1, 250)
        return {
            "instruction": f"Convert {km} kilometres to metres.",
            "input": "",
            "output": f"{km} kilometres is {km * 1000:,} metres.",
        }
    if kind == 6:
        adj, animal, place = rng.choice(ADJECTIVES), rng.choice(ANIMALS), rng.choice(PLACES)
        obj = rng.choice(OBJECTS)
        return {
            "instruction": f"Write a two-sentence story about a {adj} {animal} in a {place}.",
            "input": "",
            "output": f"The {adj} {animal} spent the whole night in the {place} looking for a lost {obj}. "
            f"At dawn it found the {obj} exactly where it had started.",
        }
    if kind == 7:
        numbers = [rng.randint(-50, 300) for _ in range(rng.randint(4, 9))]
        return {
            "instruction": "Sort these numbers in ascending order.",
            "input": ", ".join(map(str, numbers)),
            "output": ", ".join(map(str, sorted(numbers))),
        }
    if kind == 8:
        role, day, name = rng.choice(ROLES), rng.choice(DAYS), rng.choice(NAMES)
        return {
            "instruction": f"Draft a short email to {role} asking to move our meeting to {day}.",
            "input": "",
            "output": f"Hello,\n\nWould it be possible to move our meeting to {day}? "
            f"Something came up and I cannot make the current time.\n\nBest regards,\n{name}",
        }
    review = _review(rng, rng.choice(["positive", "negative"]))
    return {
        "instruction": "Classify the sentiment of this review as positive or negative.",
        "input": review[0],
        "output": review[1].capitalize() + ".",
    }


def _near(rng: random.Random, row: dict[str, str]) -> dict[str, str]:
    """The same row with a few words swapped for others."""
    swaps = {
        "short": "brief",
        "the": "that",
        "Write": "Compose",
        "ways": "methods",
        "found": "discovered",
        "whole": "entire",
        "meeting": "call",
        "Explain": "Describe",
        "looking": "searching",
        "is": "equals",
    }
    out = dict(row)
    for key in ("instruction", "output"):
        words = out[key].split(" ")
        spots = [i for i, w in enumerate(words) if w in swaps]
        for i in rng.sample(spots, min(len(spots), 2)):
            words[i] = swaps[words[i]]
        if not spots:
            words.append("please" if key == "instruction" else "Thanks.")
        out[key] = " ".join(words)
    return out


def _normalized(rng: random.Random, row: dict[str, str]) -> dict[str, str]:
    """The same row differing only in case and whitespace."""
    out = dict(row)
    if rng.random() < 0.5:
        out["instruction"] = "  " + out["instruction"].upper() + "  "
    else:
        out["instruction"] = out["instruction"].lower().replace(" ", "  ")
    out["output"] = out["output"] + " \n"
    return out


def instructions(rng: random.Random, n: int = 1500) -> list[dict[str, str]]:
    rows = [_task(rng) for _ in range(n - 110)]
    base = list(rows)
    rows += [dict(r) for r in rng.sample(base, 30)]  # exact duplicates
    rows += [_normalized(rng, r) for r in rng.sample(base, 20)]
    rows += [_near(rng, r) for r in rng.sample(base, 20)]
    for r in rng.sample(rows, 15):
        r["output"] = "" if rng.random() < 0.7 else "   "
    for _ in range(10):
        row = _task(rng)
        row["output"] = rng.choice(REFUSALS)
        rows.append(row)
    for _ in range(12):
        name_role = rng.choice(ROLES)
        rows.append(
            {
                "instruction": f"Write a thank-you note to {name_role} for their help this week.",
                "input": "",
                "output": "Dear {{name}},\n\nThank you for all your help this week. "
                "It made a real difference.\n\nKind regards,\n{{sender}}",
            }
        )
    for _ in range(6):
        row = _task(rng)
        row["instruction"] = "Tell a very long story about the animals of the harbour."
        row["input"] = ""
        row["output"] = " ".join(_sentence(rng) for _ in range(rng.randint(90, 140)))
        rows.append(row)
    for _ in range(n - len(rows)):
        rows.append(_task(rng))
    rng.shuffle(rows)
    return rows[:n]


POSITIVE = [
    "works exactly as described",
    "arrived two days early",
    "the battery lasts all week",
    "feels solid and well made",
    "setup took five minutes",
    "my kids love it",
    "worth every penny",
    "the colour is even nicer in person",
]
NEGATIVE = [
    "stopped working after a week",
    "the lid cracked on the first day",
    "customer service never replied",
    "much smaller than the photos suggest",
    "the instructions were useless",
    "it smells of burnt plastic",
]
NEUTRAL = [
    "it does what it says",
    "nothing special, nothing wrong",
    "average quality for the price",
    "it arrived on the expected day",
]
PRODUCTS = ["kettle", "desk lamp", "backpack", "blender", "phone case", "water bottle", "toaster"]


def _review(rng: random.Random, label: str) -> tuple[str, str]:
    product = rng.choice(PRODUCTS)
    if label == "positive":
        bits = rng.sample(POSITIVE, 2)
        text = rng.choice(
            [
                f"Great {product}: {bits[0]}, and {bits[1]}.",
                f"Really happy with this {product}. {bits[0].capitalize()}!",
                f'Five stars. The {product} {bits[0].replace("the ", "")}, "{bits[1]}" as my partner said.',
            ]
        )
    elif label == "negative":
        bits = rng.sample(NEGATIVE, 2)
        text = rng.choice(
            [
                f"Disappointed with the {product}; {bits[0]} and {bits[1]}.",
                f"Do not buy this {product}. {bits[0].capitalize()}.",
                f"One star: {bits[0]}. Returned the {product}.",
            ]
        )
    elif label == "neutral":
        text = f"The {product} is fine, {rng.choice(NEUTRAL)}."
    else:
        text = f"Mixed feelings about the {product}: {rng.choice(POSITIVE)}, but {rng.choice(NEGATIVE)}."
    return text, label


def reviews(rng: random.Random, n: int = 2000) -> list[tuple[str, str]]:
    labels = ["positive"] * 70 + ["negative"] * 20 + ["neutral"] * 8 + ["mixed"] * 2
    rows = [_review(rng, rng.choice(labels)) for _ in range(n - 8)]
    conflicts = rng.sample([r for r in rows if r[1] == "positive"], 8)
    rows += [(text, "negative") for text, _ in conflicts]  # same text, another label
    rng.shuffle(rows)
    return rows


USER_ASKS = [
    "How long should I boil an egg for a soft yolk?",
    "Can you suggest a name for a {adj} {animal}?",
    "What is a good way to remember where I left my {obj}?",
    "Give me one tip to {goal}.",
    "Explain a {concept} in one sentence.",
    "What should I pack for a day at the {place}?",
]


def _chat_turn(rng: random.Random) -> tuple[str, str]:
    ask = rng.choice(USER_ASKS)
    adj, animal, obj = rng.choice(ADJECTIVES), rng.choice(ANIMALS), rng.choice(OBJECTS)
    goal, concept, place = rng.choice(list(GOALS)), rng.choice(list(CONCEPTS)), rng.choice(PLACES)
    question = ask.format(adj=adj, animal=animal, obj=obj, goal=goal, concept=concept, place=place)
    if "egg" in ask:
        answer = "About six minutes in boiling water, then cool it under cold water."
    elif "name" in ask:
        answer = f"How about {rng.choice(NAMES)}? It suits a {adj} {animal}."
    elif "remember" in ask:
        answer = (
            f"Pick one fixed spot for the {obj}, like a hook by the door, and always put it there."
        )
    elif "tip" in ask:
        answer = rng.choice(GOALS[goal])
    elif "Explain" in ask:
        answer = f"A {concept} {CONCEPTS[concept]}."
    else:
        answer = f"Water, a snack, a light jacket and a {obj} for the {place}."
    return question, answer


def chats(rng: random.Random, n: int = 300) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    conversations: list[list[dict[str, str]]] = []
    for _ in range(n):
        messages: list[dict[str, str]] = []
        if rng.random() < 0.3:
            messages.append({"role": "system", "content": "You are a helpful, concise assistant."})
        for _ in range(rng.randint(1, 3)):
            q, a = _chat_turn(rng)
            messages += [{"role": "user", "content": q}, {"role": "assistant", "content": a}]
        rows.append({"messages": messages})
        conversations.append(messages)
    bad = rng.sample(range(n), 12)
    for k, i in enumerate(bad):
        messages = conversations[i]
        problem = k % 5
        if problem == 0:  # no assistant turn
            rows[i]["messages"] = [m for m in messages if m["role"] != "assistant"]
        elif problem == 1:  # unknown role
            messages[-1] = {"role": "bot", "content": messages[-1]["content"]}
        elif problem == 2:  # missing content
            messages[-1] = {"role": "assistant"}
        elif problem == 3:  # same role twice
            messages.insert(-1, {"role": "user", "content": "Also, one more thing."})
        else:  # not a list
            rows[i]["messages"] = f"user: {_chat_turn(rng)[0]}"
    return rows


def broken(rng: random.Random, n: int = 80) -> bytes:
    lines = [json.dumps(_task(rng), ensure_ascii=False).encode() for _ in range(n)]
    accented = {
        "instruction": "Spell the word for a small coffee place.",
        "input": "",
        "output": "Café.",
    }
    lines[3] = json.dumps(accented, ensure_ascii=False).encode()  # real UTF-8 in the file
    cut = json.dumps(_task(rng)).encode()
    plants = [
        cut[: len(cut) // 2],  # truncated line
        b'{"instruction": "Say hello", "input": "", "output": "Hello",}',  # trailing comma
        b'["instruction", "input", "output"]',  # not an object
        b"this line is plain text, not JSON",
        b'{"instruction": "Name a colour", "input": "", "output": "r\xe9d"}',  # invalid UTF-8
        b"{'instruction': 'single quotes', 'input': '', 'output': 'no'}",
        b"",  # a blank line is not a problem
    ]
    spots = sorted(rng.sample(range(5, n), len(plants)), reverse=True)
    for spot, plant in zip(spots, plants, strict=True):
        lines.insert(spot, plant)
    return b"\n".join(lines) + b"\n"


def _jsonl(rows: list[dict[str, object]] | list[dict[str, str]]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


def main(folder: Path = HERE) -> None:
    rng = random.Random(SEED)
    (folder / "instructions.jsonl").write_text(_jsonl(instructions(rng)), encoding="utf-8")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["text", "label"])
    writer.writerows(reviews(rng))
    (folder / "reviews.csv").write_text(buffer.getvalue(), encoding="utf-8")
    (folder / "chat.jsonl").write_text(_jsonl(chats(rng)), encoding="utf-8")
    (folder / "broken.jsonl").write_bytes(broken(rng))


if __name__ == "__main__":
    import sys

    main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE)
