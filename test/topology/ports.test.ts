import assert from 'node:assert/strict';
import { fnv1a32, planPorts, PORT_MAX, PORT_MIN, TopologyError } from '../../topology/index.js';

describe('topology/ports', () => {
  it('fnv1a32 matches the published FNV-1a test vectors', () => {
    assert.equal(fnv1a32(''), 0x811c9dc5);
    assert.equal(fnv1a32('a'), 0xe40c292c);
    assert.equal(fnv1a32('foobar'), 0xbf9cf968);
  });

  it('is deterministic', () => {
    assert.deepEqual(planPorts('123456', '0'), planPorts('123456', '0'));
  });

  it('gives 8 distinct candidates by default, inside [10000, 32767] (below the ephemeral range)', () => {
    assert.equal(PORT_MIN, 10000);
    assert.equal(PORT_MAX, 32767);
    for (const [job, step] of [['1', '0'], ['987654', '3'], ['ompi', '0'], ['', '']]) {
      const ports = planPorts(job!, step!);
      assert.equal(ports.length, 8);
      assert.equal(new Set(ports).size, 8);
      for (const p of ports) assert.ok(Number.isInteger(p) && p >= PORT_MIN && p <= PORT_MAX, `port ${p}`);
    }
    assert.equal(planPorts('1', '0', 1).length, 1);
    assert.equal(new Set(planPorts('1', '0', 500)).size, 500);
  });

  it('gives different first candidates to different jobs and steps', () => {
    assert.notEqual(planPorts('1000', '0')[0], planPorts('1001', '0')[0]);
    assert.notEqual(planPorts('1000', '0')[0], planPorts('1000', '1')[0]);
    // '1.23' + '4' and '1' + '23.4' must not collapse to the same key by accident of concatenation order.
    assert.notDeepEqual(planPorts('1', '0'), planPorts('0', '1'));
  });

  it('rarely collides between neighbouring jobs and steps', () => {
    const firsts = new Set<number>();
    let n = 0;
    for (let job = 5000; job < 5100; job++) {
      for (let step = 0; step < 5; step++, n++) firsts.add(planPorts(String(job), String(step))[0]!);
    }
    // 500 draws from 22768 ports: expect about 5 birthday collisions; far more would mean a weak spread.
    assert.ok(firsts.size > n - 25, `${n - firsts.size} collisions among ${n} first candidates`);
  });

  it('rejects an impossible count', () => {
    assert.throws(() => planPorts('1', '0', 0), TopologyError);
    assert.throws(() => planPorts('1', '0', 1.5), TopologyError);
    assert.throws(() => planPorts('1', '0', PORT_MAX - PORT_MIN + 2), TopologyError);
  });
});
