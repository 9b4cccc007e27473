#!/usr/bin/python3
"""Independent melody extraction with python3-mido, for cross-checking `cadenza data import --melody`.

Usage: mido_melody.py OUT.json STEPS_PER_QUARTER LOWEST PITCHES TRACK MAX_REST MIN_EVENTS FILE...
OUT.json maps each file's base name to {"fragments": [[[onset, duration, pitch], ...], ...]}
(onsets in grid steps from the fragment's first note) or {"skip": true} when no fragment is left.

The rules of framework/data/melody.hpp, applied to the notes mido_notes.py reads (metrical
divisions only):
- a tick maps to the grid step round(tick * steps / ticks_per_quarter), halves up; a note lasts at
  least one step;
- only the notes of track TRACK, drums (channel 10) excluded;
- by onset, the highest first at one onset: a note starting while a higher one sounds is dropped,
  otherwise it cuts the note before it;
- a pitch outside LOWEST..LOWEST+PITCHES-1 moves by whole octaves to the nearest pitch inside;
- a rest longer than MAX_REST steps splits the melody; fragments of fewer than MIN_EVENTS steps
  (last note's end - first onset + 1) are dropped.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mido_notes  # noqa: E402  (the independent mido note reader)


def to_step(tick, steps, ticks_per_quarter):
    return (2 * tick * steps + ticks_per_quarter) // (2 * ticks_per_quarter)


def melody(path, steps, lowest, pitches, track, max_rest, min_events):
    summary = mido_notes.file_summary(path)
    if not summary['ok']:
        return {'skip': True}
    tpq = summary['ticks_per_quarter']
    notes = []
    for start, end, pitch, _velocity, channel, note_track in summary['notes']:
        if note_track != track or channel == 9:
            continue
        first = to_step(start, steps, tpq)
        last = max(to_step(end, steps, tpq), first + 1)
        notes.append((first, last, pitch))
    notes.sort(key=lambda n: (n[0], -n[2]))
    voice = []  # [onset, end, pitch]
    for first, last, pitch in notes:
        if voice:
            onset, end, top = voice[-1]
            if first == onset or (first < end and pitch < top):
                continue
            voice[-1][1] = min(end, first)
        voice.append([first, last, pitch])
    highest = lowest + pitches - 1
    for note in voice:
        while note[2] < lowest:
            note[2] += 12
        while note[2] > highest:
            note[2] -= 12
    fragments, current = [], []
    for note in voice:
        if current and note[0] - current[-1][1] > max_rest:
            fragments.append(current)
            current = []
        current.append(note)
    if current:
        fragments.append(current)
    kept = []
    for fragment in fragments:
        origin = fragment[0][0]
        if fragment[-1][1] - origin + 1 < min_events:
            continue
        kept.append([[n[0] - origin, n[1] - n[0], n[2]] for n in fragment])
    return {'fragments': kept} if kept else {'skip': True}


def main():
    if len(sys.argv) < 9:
        sys.exit('usage: mido_melody.py OUT.json STEPS LOWEST PITCHES TRACK MAX_REST MIN_EVENTS '
                 'FILE...')
    steps, lowest, pitches, track, max_rest, min_events = (int(a) for a in sys.argv[2:8])
    result = {os.path.basename(path): melody(path, steps, lowest, pitches, track, max_rest,
                                             min_events)
              for path in sys.argv[8:]}
    with open(sys.argv[1], 'w') as out:
        json.dump(result, out)


if __name__ == '__main__':
    main()
