import assert from 'node:assert/strict';
import { RandomState } from '../../src/ml/randomState.js';
import { InvalidParameterError } from '../../src/ml/errors.js';

// Reference values from numpy 1.24.2 `np.random.RandomState(seed)`: permutation(1797)[:10],
// checksum Σ (i+1)·perm[i], then randint(0,10), randint(5,1000), randint(0,2**31), repr(rand()).
const NUMPY: Record<number, { head: number[]; ck: number; randint: number[]; rand: number }> = {
  0: { head: [1081, 1707, 927, 713, 262, 182, 303, 895, 933, 1266], ck: 1460148699, randint: [6, 386, 1893425583], rand: 0.800798599067631 },
  1: { head: [1227, 1576, 202, 1184, 428, 941, 598, 267, 102, 1456], ck: 1460074074, randint: [2, 268, 557842333], rand: 0.6889550482302514 },
  42: { head: [1245, 220, 1518, 438, 1270, 832, 692, 1309, 1101, 1742], ck: 1460528187, randint: [0, 593, 337492083], rand: 0.35780135092827137 },
  123456789: { head: [360, 747, 16, 1123, 12, 1630, 37, 857, 1051, 629], ck: 1445167055, randint: [1, 43, 1686006817], rand: 0.6262083528074689 },
  4294967295: { head: [836, 1354, 1653, 1008, 1139, 1233, 953, 808, 1419, 744], ck: 1452240800, randint: [5, 266, 1905249325], rand: 0.43752898132378726 },
};

const checksum = (a: ArrayLike<number>): number => { let s = 0; for (let i = 0; i < a.length; i++) s += (i + 1) * a[i]; return s; };

describe('ml/RandomState (numpy legacy MT19937)', () => {
  for (const [seed, ref] of Object.entries(NUMPY)) {
    it(`seed ${seed}: permutation, randint and rand are bit-exact with numpy`, () => {
      const r = new RandomState(Number(seed));
      const p = r.permutation(1797);
      assert.deepEqual(Array.from(p.subarray(0, 10)), ref.head);
      assert.equal(checksum(p), ref.ck);
      assert.deepEqual([r.randint(0, 10), r.randint(5, 1000), r.randint(0, 2 ** 31)], ref.randint);
      assert.equal(r.rand(), ref.rand);
    });
  }

  it('permutation is a permutation and shuffle moves the same way on any array kind', () => {
    const p = new RandomState(7).permutation(100);
    assert.deepEqual([...p].sort((a, b) => a - b), Array.from({ length: 100 }, (_, i) => i));
    const arr = Array.from({ length: 100 }, (_, i) => `s${i}`);
    new RandomState(7).shuffle(arr);
    assert.deepEqual(arr, Array.from(p, (i) => `s${i}`));
  });

  it('rejects seeds numpy rejects', () => {
    assert.throws(() => new RandomState(-1), InvalidParameterError);
    assert.throws(() => new RandomState(2 ** 32), InvalidParameterError);
    assert.throws(() => new RandomState(1.5), /seed/);
  });
});
