#!/usr/bin/python3
"""Independent reading of MIDI files with python3-mido, for cross-checking cadenza's reader.

Usage: mido_notes.py OUT.json PATH...
Each PATH is a MIDI file or a folder (its *.mid files, sorted). OUT.json maps each file's path
(as given, or folder/name) to {"ok": true, "format", "ticks_per_quarter", "notes": [[start, end,
pitch, velocity, channel, track], ...]} or {"ok": false, "error": "..."}.

Notes follow the rules in framework/data/midi.hpp, applied to mido's messages:
- note-on with velocity > 0 opens a note; note-off or note-on with velocity 0 closes the oldest
  open note of the same track, channel and pitch (first in, first out);
- a track ends at its end_of_track message (later messages ignored) or its last message, and
  closes the notes still open there;
- zero-length notes are dropped;
- format 2 tracks are laid end to end.
"""
import collections
import json
import os
import sys

import mido


def track_notes(track, track_index, offset):
    """Returns (notes, length in ticks) of one mido track, ticks shifted by `offset`."""
    notes = []
    open_notes = collections.defaultdict(collections.deque)
    tick = 0

    def close(channel, pitch, end):
        queue = open_notes[(channel, pitch)]
        if not queue:
            return
        start, velocity = queue.popleft()
        if end > start:
            notes.append([start + offset, end + offset, pitch, velocity, channel, track_index])

    for message in track:
        tick += message.time
        if message.type == 'end_of_track':
            break
        if message.type == 'note_on' and message.velocity > 0:
            open_notes[(message.channel, message.note)].append((tick, message.velocity))
        elif message.type in ('note_on', 'note_off'):
            close(message.channel, message.note, tick)
    for (channel, pitch), queue in list(open_notes.items()):
        while queue:
            close(channel, pitch, tick)
    return notes, tick


def file_summary(path):
    try:
        midi = mido.MidiFile(path)
    except Exception as error:  # mido raises many types; any refusal counts as "cannot read"
        return {'ok': False, 'error': f'{type(error).__name__}: {error}'}
    notes = []
    offset = 0
    for index, track in enumerate(midi.tracks):
        found, length = track_notes(track, index, offset)
        notes.extend(found)
        if midi.type == 2:
            offset += length
    notes.sort(key=lambda n: (n[0], n[2], n[5], n[4], n[1], n[3]))
    return {'ok': True, 'format': midi.type, 'ticks_per_quarter': midi.ticks_per_beat,
            'notes': notes}


def main():
    if len(sys.argv) < 3:
        sys.exit('usage: mido_notes.py OUT.json PATH...')
    files = []
    for path in sys.argv[2:]:
        if os.path.isdir(path):
            files.extend(os.path.join(path, name) for name in sorted(os.listdir(path))
                         if name.endswith('.mid'))
        else:
            files.append(path)
    summary = {path: file_summary(path) for path in files}
    with open(sys.argv[1], 'w') as out:
        json.dump(summary, out)


if __name__ == '__main__':
    main()
