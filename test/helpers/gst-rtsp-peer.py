#!/usr/bin/python3
# A small RTSP server for the decode tests, used until (or besides) our own simulator: GStreamer's
# RTSP server with live test sources. Needs Debian's /usr/bin/python3 (python3-gi,
# gir1.2-gst-rtsp-server-1.0). Prints "PORT <open> <secure>" once listening.
#
# Mounts: /cam/<i> for i < --cameras (anonymous) on the first port; /secure/0 (basic auth
# user:pass) on a second server, since GStreamer answers 404 rather than 401 when an anonymous
# default token lacks a role, and then no client would ever send credentials.
# Stdin commands: "stall <path>" stops sending media (the session stays alive, like a frozen
# camera), "resume <path>" sends again. Exits when stdin closes.
import argparse
import sys

import gi

gi.require_version('Gst', '1.0')
gi.require_version('GstRtspServer', '1.0')
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402

p = argparse.ArgumentParser()
p.add_argument('--port', type=int, default=0)
p.add_argument('--cameras', type=int, default=4)
p.add_argument('--width', type=int, default=320)
p.add_argument('--height', type=int, default=180)
p.add_argument('--fps', type=int, default=10)
p.add_argument('--gop', type=int, default=10)
a = p.parse_args()

Gst.init(None)
loop = GLib.MainLoop()
server = GstRtspServer.RTSPServer()
server.set_service(str(a.port))
valves = {}  # path -> [valve elements of that path's media]
stalled = set()

# A live source: GStreamer's shared media then never seeks on ffmpeg's PLAY Range header.
LAUNCH = (
    '( videotestsrc is-live=true pattern=ball ! video/x-raw,width={w},height={h},framerate={f}/1 '
    '! valve name=valve drop=false '
    '! x264enc tune=zerolatency speed-preset=ultrafast key-int-max={g} bframes=0 threads=1 '
    '! video/x-h264,profile=baseline ! rtph264pay name=pay0 pt=96 config-interval=-1 )'
).format(w=a.width, h=a.height, f=a.fps, g=a.gop)


def factory_for(path, role):
    f = GstRtspServer.RTSPMediaFactory()
    f.set_launch(LAUNCH)
    f.set_shared(True)
    f.add_role_from_structure(Gst.Structure.from_string(
        role + ', media.factory.access=(boolean)true, media.factory.construct=(boolean)true')[0])

    def configure(_factory, media):
        v = media.get_element().get_by_name('valve')
        valves.setdefault(path, []).append(v)
        v.set_property('drop', path in stalled)

    f.connect('media-configure', configure)
    return f


for i in range(a.cameras):
    path = '/cam/%d' % i
    server.get_mount_points().add_factory(path, factory_for(path, 'anonymous'))

secure = GstRtspServer.RTSPServer()
secure.set_service('0')
auth = GstRtspServer.RTSPAuth()
user = GstRtspServer.RTSPToken.new()
user.set_string('media.factory.role', 'user')
auth.add_basic(GstRtspServer.RTSPAuth.make_basic('user', 'pass'), user)
secure.set_auth(auth)
secure.get_mount_points().add_factory('/secure/0', factory_for('/secure/0', 'user'))


def on_stdin(source, _cond):
    line = source.readline()
    if not line:
        loop.quit()
        return False
    parts = line.split()
    if len(parts) == 2 and parts[0] in ('stall', 'resume'):
        if parts[0] == 'stall':
            stalled.add(parts[1])
        else:
            stalled.discard(parts[1])
        for v in valves.get(parts[1], []):
            v.set_property('drop', parts[0] == 'stall')
        print('OK', line.strip(), flush=True)
    return True


server.attach(None)
secure.attach(None)
print('PORT %d %d' % (server.get_bound_port(), secure.get_bound_port()), flush=True)
GLib.io_add_watch(sys.stdin, GLib.IO_IN | GLib.IO_HUP, on_stdin)
loop.run()
