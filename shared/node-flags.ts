// The V8 settings every facegate process runs with: bin/facegate.js's shebang, package.json's
// start and bench scripts, the Dockerfile's ENTRYPOINT and the benchmark's children carry them
// (test/node-flags.test.ts checks that they agree with this list).
//
// --max-semi-space-size=1 (MB): the gateway reads thousands of RTP packets a second, and the
// buffers it keeps a while (keyframes waiting for their turn, frames waiting for detection) live
// outside the V8 heap. V8 starts a full collection whenever the old generation's free room is
// smaller than the young generation, and it counts that outside memory against the room: with the
// default young generation (grown to 16 MB) a 200-camera gateway ran a mark-compact every 0.3 s.
// A 1 MB young generation keeps that room larger than the young generation: at 200 residential
// cameras, 57 mark-compacts in 15 s became 3, and GC time fell from 1.6 s to 0.4 s.
//
// --single-threaded-gc: with a young generation that small, scavenges are many and short, and
// handing each to helper threads costs more than it saves on two cores: at 200 busy cameras the
// gateway's process tree used 3.5 % less CPU (7.42-7.49 against 7.65-7.78 ms per camera-second)
// and 20-30 MB less memory.
//
// --heap-growing-percent=100: after a full collection V8 lets the old generation grow by a factor
// it derives from how busy the program is; for a 30 MB gateway heap that came to 9 MB, which the
// objects a 1 MB young generation promotes (pending keyframes, RTP state, promises) fill within a
// third of a second. Doubling instead: at 200 busy cameras, 51-57 mark-compacts in 15 s became 5-6,
// the gateway's tree went from 6.75-7.43 to 6.11-6.22 ms CPU per camera-second for the same frames
// analysed, and its RSS rose by ~25 MB.
export const NODE_FLAGS = [
  '--max-semi-space-size=1',
  '--single-threaded-gc',
  '--heap-growing-percent=100',
] as const;
