"""Prints one pytest-style summary line for several CI steps.

Arguments are NAME=STATUS or NAME=STATUS:LOG. The counts of the last pytest
summary line in each LOG are added up; a step that failed without pytest
counting a failure (a build, the fuzz targets, a crash of pytest) adds one
error, so the line never reads as a success when CI failed.
"""
import re
import sys

SUMMARY = re.compile(r"^=+ (.*?) in ([0-9.]+)s\b.*=+$")
ORDER = ("failed", "passed", "skipped", "deselected", "xfailed", "xpassed",
         "warnings", "errors")
PLURAL = {"warning": "warnings", "error": "errors"}


def last_summary(path):
    found = None
    with open(path, errors="replace") as log:
        for line in log:
            match = SUMMARY.match(line.strip())
            if match:
                found = match
    return found


def main(steps):
    counts = dict.fromkeys(ORDER, 0)
    seconds = 0.0
    notes = []
    for step in steps:
        name, _, rest = step.partition("=")
        status, _, path = rest.partition(":")
        before = counts["failed"] + counts["errors"]
        if path:
            match = last_summary(path)
            if match:
                seconds += float(match.group(2))
                for part in match.group(1).split(", "):
                    n, _, word = part.partition(" ")
                    word = PLURAL.get(word, word)
                    if word in counts:
                        counts[word] += int(n)
        failed_before = counts["failed"] + counts["errors"] > before
        if status != "0" and not failed_before:
            counts["errors"] += 1
        if status != "0":
            notes.append(f"{name} failed (exit {status})")
    print("CI steps: " + ("; ".join(notes) if notes else "all passed"))
    parts = []
    for word in ORDER:
        if counts[word]:
            shown = word[:-1] if counts[word] == 1 and word in ("warnings", "errors") else word
            parts.append(f"{counts[word]} {shown}")
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    text = (f" {', '.join(parts) or 'no tests ran'} in {seconds:.2f}s "
            f"({hours}:{minutes:02d}:{secs:02d}) ")
    print(text.center(80, "="))


if __name__ == "__main__":
    main(sys.argv[1:])
