import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assigned, owner, createMembership } from '../shared/membership.ts';

const cams = Array.from({ length: 1000 }, (_, i) => ({ id: String(i + 1).padStart(6, '0') }));

test("rendezvous hashing: every camera exactly once, balanced, and only the leaver's cameras move", () => {
  const members = ['gw-a', 'gw-b', 'gw-c', 'gw-d'];
  const shares = members.map((m) => assigned(cams, members, m));
  assert.equal(
    shares.reduce((n, s) => n + s.length, 0),
    cams.length,
  );
  assert.equal(new Set(shares.flat().map((c) => c.id)).size, cams.length);
  for (const s of shares) assert.ok(s.length > 200 && s.length < 300, `unbalanced share ${s.length}`);
  const after = members.filter((m) => m !== 'gw-c');
  let moved = 0;
  for (const c of cams) {
    const before = owner(c.id, members);
    const now = owner(c.id, after);
    if (before !== now) {
      moved++;
      assert.equal(before, 'gw-c', 'only cameras of the gateway that left move');
    }
  }
  assert.equal(moved, shares[2]!.length);
});

test('membership reports changes once they settle, ignores itself, stops after close', async () => {
  const seen: string[][] = [];
  const m = createMembership('gw-a', 50, (list) => seen.push(list));
  m.onStatus('gw-a', 'offline');
  m.onStatus('gw-b', 'online');
  m.onStatus('gw-c', 'online');
  m.onStatus('gw-c', 'online');
  await new Promise((r) => setTimeout(r, 120));
  assert.deepEqual(seen, [['gw-a', 'gw-b', 'gw-c']]);
  m.onStatus('gw-b', 'offline');
  m.close();
  await new Promise((r) => setTimeout(r, 120));
  assert.equal(seen.length, 1);
  assert.deepEqual(m.members(), ['gw-a', 'gw-c']);
});
