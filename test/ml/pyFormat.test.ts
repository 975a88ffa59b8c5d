import assert from 'node:assert/strict';
import { formatFixed, pyDictRepr, pyFloatRepr, pyRepr } from '../../src/ml/pyFormat.js';
import { ParameterGrid } from '../../src/ml/parameterGrid.js';
import { InvalidParameterError } from '../../src/ml/errors.js';

describe('ml/pyFormat and ParameterGrid', () => {
  it("formats dicts as Python's repr", () => {
    assert.equal(pyDictRepr({ C: 10, gamma: 0.001, kernel: 'rbf' }), "{'C': 10, 'gamma': 0.001, 'kernel': 'rbf'}");
    assert.equal(pyDictRepr({ C: 1, kernel: 'linear' }), "{'C': 1, 'kernel': 'linear'}");
    assert.equal(pyRepr([true, null, "it's"]), `[True, None, "it's"]`);
  });

  it("floats as Python's repr (shortest digits; exponent below 1e-4 and from 1e16)", () => {
    const cases: Array<[number, string]> = [[0.001, '0.001'], [0.0001, '0.0001'], [1e-5, '1e-05'], [1.5e-7, '1.5e-07'], [0.1, '0.1'], [2.5, '2.5'], [1e16, '1e+16'], [123.0, '123.0'], [-0.5, '-0.5'], [1e22, '1e+22']];
    for (const [x, s] of cases) assert.equal(pyFloatRepr(x), s);
  });

  it("'%0.3f' rounds like C printf: exact ties to even, else the exact binary value", () => {
    assert.equal(formatFixed(0.125, 2), '0.12');
    assert.equal(formatFixed(0.375, 2), '0.38');
    assert.equal(formatFixed(2.5, 0), '2');
    assert.equal(formatFixed(0.0165, 3), '0.017'); // 0.0165 is slightly above the tie in binary
    assert.equal(formatFixed(0.987997, 3), '0.988');
    assert.equal(formatFixed(-0.0001, 3), '-0.000');
  });

  it("ParameterGrid: keys sorted per dict, last key fastest, dicts in order (scikit-learn's order)", () => {
    const g = new ParameterGrid([{ kernel: ['rbf'], gamma: [1e-3, 1e-4], C: [1, 10, 100, 1000] }, { kernel: ['linear'], C: [1, 10, 100, 1000] }]);
    const all = g.toArray().map(pyDictRepr);
    assert.equal(g.length, 12);
    assert.deepEqual(all.slice(0, 3), ["{'C': 1, 'gamma': 0.001, 'kernel': 'rbf'}", "{'C': 1, 'gamma': 0.0001, 'kernel': 'rbf'}", "{'C': 10, 'gamma': 0.001, 'kernel': 'rbf'}"]);
    assert.equal(all[8], "{'C': 1, 'kernel': 'linear'}");
    assert.equal(all[11], "{'C': 1000, 'kernel': 'linear'}");
    assert.deepEqual(new ParameterGrid({}).toArray(), [{}]);
    assert.throws(() => new ParameterGrid({ C: [] }), (e: unknown) => e instanceof InvalidParameterError && e.parameter === 'C');
    assert.throws(() => new ParameterGrid({ C: 1 } as never), /list of values/);
  });
});
