import assert from 'node:assert/strict';
import { parseSlurmDistribution, placeRanks, TopologyError } from '../../topology/index.js';

describe('topology/placement placeRanks', () => {
  it('block fills node 0 first', () => {
    assert.deepEqual(placeRanks([4, 1, 1], 'block'), [0, 0, 0, 0, 1, 2]);
    assert.deepEqual(placeRanks([2, 2, 2], 'block'), [0, 0, 1, 1, 2, 2]);
  });

  it('cyclic deals round-robin over nodes that still have room', () => {
    assert.deepEqual(placeRanks([2, 2, 2], 'cyclic'), [0, 1, 2, 0, 1, 2]);
    assert.deepEqual(placeRanks([4, 1, 1], 'cyclic'), [0, 1, 2, 0, 0, 0]);
    assert.deepEqual(placeRanks([1, 3, 2], 'cyclic'), [0, 1, 2, 1, 2, 1]);
  });

  it('handles one node, empty nodes and no nodes', () => {
    assert.deepEqual(placeRanks([3], 'cyclic'), [0, 0, 0]);
    assert.deepEqual(placeRanks([2, 0, 1], 'cyclic'), [0, 2, 0]);
    assert.deepEqual(placeRanks([2, 0, 1], 'block'), [0, 0, 2]);
    assert.deepEqual(placeRanks([], 'block'), []);
  });

  it('rejects negative or fractional counts and unknown distributions', () => {
    assert.throws(() => placeRanks([1, -1], 'block'), TopologyError);
    assert.throws(() => placeRanks([1.5], 'cyclic'), TopologyError);
    assert.throws(() => placeRanks([1], 'plane' as 'block'), /unknown distribution 'plane'/);
  });
});

describe('topology/placement parseSlurmDistribution', () => {
  const cases: Array<[string | undefined, string, boolean]> = [
    [undefined, 'block', false],
    ['', 'block', false],
    ['block', 'block', false],
    ['cyclic', 'cyclic', false],
    ['cyclic:block', 'cyclic', false],
    ['block:cyclic', 'block', false],
    ['cyclic:cyclic:fcyclic', 'cyclic', false],
    ['block,Pack', 'block', false],
    ['*:cyclic', 'block', false],
    ['CYCLIC', 'cyclic', false],
    ['arbitrary', 'arbitrary', false],
    ['plane=4', 'block', true],
    ['spiral', 'block', true],
  ];
  for (const [value, distribution, noted] of cases) {
    it(`reads ${value === undefined ? 'an unset value' : `'${value}'`} as ${distribution}${noted ? ' with a note' : ''}`, () => {
      const choice = parseSlurmDistribution(value);
      assert.equal(choice.distribution, distribution);
      assert.equal(choice.note !== undefined, noted);
      if (noted) assert.ok(choice.note!.includes(value!));
    });
  }
});
