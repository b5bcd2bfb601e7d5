#!/usr/bin/python3
# GStreamer's RTSP server serving one H.264 clip as one shared live stream: the peer that
# bench/sim.ts measures ours against. Run with Debian's /usr/bin/python3 (it has `gi`).
#
# Live by construction (an appsrc pushing access units on the wall clock, is-live=true), so a
# client's PLAY Range cannot seek the shared pipeline (see ARCHITECTURE.md, Traps).
import argparse
import json
import sys
import time

import gi

gi.require_version('Gst', '1.0')
gi.require_version('GstRtspServer', '1.0')
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402


def access_units(data: bytes) -> list:
    """Splits Annex-B into access units (slices with first_mb_in_slice == 0 start a picture)."""
    starts = []
    i = data.find(b'\x00\x00\x01')
    while i >= 0:
        starts.append(i + 3)
        i = data.find(b'\x00\x00\x01', i + 3)
    nals = []
    for k, s in enumerate(starts):
        e = starts[k + 1] - 3 if k + 1 < len(starts) else len(data)
        nals.append(data[s:e].rstrip(b'\x00'))
    units, cur, pending = [], [], []
    for nal in nals:
        t = nal[0] & 0x1f
        if t in (1, 5):
            if not cur or (len(nal) > 1 and nal[1] & 0x80):
                if cur:
                    units.append(cur)
                cur, pending = pending, []
            cur.append(nal)
        else:
            if cur:
                units.append(cur)
                cur = []
            pending.append(nal)
    if cur:
        units.append(cur)
    return [b''.join(b'\x00\x00\x00\x01' + n for n in u) for u in units]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument('--clip', required=True)
    ap.add_argument('--fps', type=int, default=10)
    ap.add_argument('--port', type=int, default=0)
    ap.add_argument('--mount', default='/cam/shared')
    args = ap.parse_args()

    Gst.init(None)
    with open(args.clip, 'rb') as f:
        frames = access_units(f.read())
    # SPS/PPS stay in front of the first picture: h264parse learns them, the payloader repeats them.
    state = {'src': None, 'n': 0, 't0': 0.0}

    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(
        '( appsrc name=src is-live=true format=time do-timestamp=true '
        f'caps=video/x-h264,stream-format=byte-stream,alignment=au,framerate={args.fps}/1 '
        '! h264parse ! rtph264pay name=pay0 pt=96 config-interval=-1 )')
    factory.set_shared(True)
    factory.set_suspend_mode(GstRtspServer.RTSPSuspendMode.NONE)

    def on_configure(_factory, media):
        state['src'] = media.get_element().get_child_by_name('src')
        state['t0'] = time.monotonic()
        state['n'] = 0

    factory.connect('media-configure', on_configure)

    def push() -> bool:
        src = state['src']
        if src is None:
            return True
        due = int((time.monotonic() - state['t0']) * args.fps)
        while state['n'] <= due:
            buf = Gst.Buffer.new_wrapped(frames[state['n'] % len(frames)])
            src.emit('push-buffer', buf)
            state['n'] += 1
        return True

    server = GstRtspServer.RTSPServer()
    server.set_service(str(args.port))
    server.set_backlog(1024)
    server.get_mount_points().add_factory(args.mount, factory)
    server.attach(None)
    GLib.timeout_add(10, push)
    print(json.dumps({'port': server.get_bound_port(), 'frames': len(frames)}), flush=True)
    try:
        GLib.MainLoop().run()
    except KeyboardInterrupt:
        pass


if __name__ == '__main__':
    sys.exit(main())
