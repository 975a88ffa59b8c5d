import assert from 'node:assert/strict';
import { compressHostlist, expandHostlist, expandTasksPerNode, TopologyError } from '../../topology/index.js';

/** Assert `fn` throws a TopologyError whose message contains every fragment. */
function throwsTopology(fn: () => unknown, ...fragments: string[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof TopologyError, `expected TopologyError, got ${String(e)}`);
    assert.equal(e.name, 'TopologyError');
    assert.equal(e.exitCode, 2);
    for (const f of fragments) assert.ok(e.message.includes(f), `message '${e.message}' lacks '${f}'`);
    return true;
  });
}

describe('topology/hostlist expandHostlist', () => {
  const cases: Array<[string, string[]]> = [
    ['x[098-101]', ['x098', 'x099', 'x100', 'x101']],
    ['a[1-2]b[3-4]', ['a1b3', 'a1b4', 'a2b3', 'a2b4']],
    // Slurm's order for three groups: last fastest, then first, then second.
    ['a[1-2]b[3-4]c[5-6]', ['a1b3c5', 'a1b3c6', 'a2b3c5', 'a2b3c6', 'a1b4c5', 'a1b4c6', 'a2b4c5', 'a2b4c6']],
    ['n[01-03,7]', ['n01', 'n02', 'n03', 'n7']],
    ['gpu-[001-003],login1', ['gpu-001', 'gpu-002', 'gpu-003', 'login1']],
    ['n[01-3]', ['n01', 'n02', 'n03']],
    ['n[1-03]', ['n1', 'n2', 'n3']],
    ['n[9-11]', ['n9', 'n10', 'n11']],
    ['n[998-1001]', ['n998', 'n999', 'n1000', 'n1001']],
    ['n[5,1,3]', ['n5', 'n1', 'n3']],
    ['n[1-2],n[2-3]', ['n1', 'n2', 'n2', 'n3']],
    ['a,b,a', ['a', 'b', 'a']],
    ['n[1-2] m1\tk', ['n1', 'n2', 'm1', 'k']],
    [',a,,b,', ['a', 'b']],
    ['[1-3]', ['1', '2', '3']],
    ['n1[0-2]', ['n10', 'n11', 'n12']],
    ['rack[1-2]-node[01-02]', ['rack1-node01', 'rack1-node02', 'rack2-node01', 'rack2-node02']],
    ['node.example.com', ['node.example.com']],
    ['', []],
  ];
  for (const [expr, names] of cases) {
    it(`expands '${expr}'`, () => assert.deepEqual(expandHostlist(expr), names));
  }

  it('orders four groups like Slurm (second-to-last slowest, last fastest)', () => {
    const names = expandHostlist('a[1-2]b[3-4]c[5-6]d[7-8]');
    assert.deepEqual(names.slice(0, 5), ['a1b3c5d7', 'a1b3c5d8', 'a2b3c5d7', 'a2b3c5d8', 'a1b4c5d7']);
    assert.equal(names[8], 'a1b3c6d7');
    assert.equal(names.length, 16);
  });

  it('accepts a range of 65536 hosts and rejects one more', () => {
    assert.equal(expandHostlist('n[1-65536]').length, 65536);
    throwsTopology(() => expandHostlist('n[1-65537]'), 'more than 65536');
  });

  const bad: Array<[string, string]> = [
    ['n[3-1]', 'descending'],
    ['n[1-3', 'never closed'],
    ['n1-3]', "']' without a matching '['"],
    ['n[a-b]', "'a-b'"],
    ['n[]', 'empty bracket group'],
    ['n[1-2]-x', "text '-x' after the last bracket group"],
    ['x[1,2]y', "text 'y'"],
    ['n[[1]]', 'nested'],
    ['n[1-2-3]', "'1-2-3'"],
    ['n[-1]', "'-1'"],
    ['n[1-]', "'1-'"],
    ['n[1,,2]', "''"],
  ];
  for (const [expr, fragment] of bad) {
    it(`rejects '${expr}' saying what and where`, () => throwsTopology(() => expandHostlist(expr), `'${expr}'`, fragment, 'column'));
  }

  it('points at the offending column', () => {
    throwsTopology(() => expandHostlist('ok[1-2],n[3-1]'), 'column 11');
  });
});

describe('topology/hostlist compressHostlist', () => {
  const cases: Array<[string[], string]> = [
    [['x098', 'x099', 'x100', 'x101'], 'x[098-101]'],
    [['n1', 'n2', 'n3'], 'n[1-3]'],
    [['n3', 'n2', 'n1'], 'n[3,2,1]'],
    [['n1', 'n3', 'n2'], 'n[1,3,2]'],
    [['login1', 'gpu-001', 'gpu-002', 'gpu-003'], 'login1,gpu-[001-003]'],
    [['n1', 'm1', 'n2'], 'n1,m1,n2'],
    [['a1', 'a2', 'b1', 'b2', 'a3'], 'a[1-2],b[1-2],a3'],
    [['n01', 'n02', 'n1', 'n2'], 'n[01-02,1-2]'],
    [['n1', 'n01'], 'n[1,01]'],
    [['n1', 'n1', 'n2'], 'n[1,1-2]'],
    [['n9', 'n10', 'n11'], 'n[9-11]'],
    [['n09', 'n10', 'n11'], 'n[09-11]'],
    [['n9', 'n010'], 'n[9,010]'],
    [['n99', 'n100'], 'n[99-100]'],
    [['n099', 'n0100'], 'n[099,0100]'],
    [['n0', 'n00', 'n000'], 'n[0,00,000]'],
    [['n10', 'n11', 'n012'], 'n[10-11,012]'],
    [['n1', 'n2', 'n4', 'n5', 'n7'], 'n[1-2,4-5,7]'],
    [['a', 'a'], 'a,a'],
    [['n', 'n1'], 'n,n1'],
    [['1', '2', '3'], '[1-3]'],
    [['n01'], 'n01'],
    [['n-1', 'n-2'], 'n-[1-2]'],
    [['n1.a', 'n2.a'], 'n1.a,n2.a'],
    [['a1b3', 'a1b4', 'a2b3', 'a2b4'], 'a1b[3-4],a2b[3-4]'],
    [['n12345678901', 'n12345678902'], 'n[12345678901-12345678902]'],
    [[], ''],
  ];
  for (const [names, expr] of cases) {
    it(`compresses ${names.join(',') || '(nothing)'} to '${expr}'`, () => assert.equal(compressHostlist(names), expr));
  }

  it('round-trips: expand(compress(names)) gives the names back, in order', () => {
    const lists = [
      ['n1', 'n3', 'n2', 'n2', 'm07', 'm08', 'm9', 'login', 'n0100', 'n99'],
      expandHostlist('gpu-[001-064],cpu[1-200],gpu-[065-070],x[8-12]'),
      ['a', 'b1', 'b01', 'b001', 'b2', 'b02', '7', '8', '09'],
    ];
    for (const names of lists) assert.deepEqual(expandHostlist(compressHostlist(names)), names);
  });

  it('round-trips: compress(expand(expr)) gives canonical expressions back', () => {
    for (const expr of ['x[098-101]', 'n[01-03,7]', 'gpu-[001-003],login1', 'n[1-2,4,6-9],m[00-10]', 'a1b[3-4],a2b[3-4]']) {
      assert.equal(compressHostlist(expandHostlist(expr)), expr);
    }
  });

  it('rejects names that could not be read back', () => {
    throwsTopology(() => compressHostlist(['n1', '']), '#2', 'empty');
    throwsTopology(() => compressHostlist(['a,b']), "'a,b'");
    throwsTopology(() => compressHostlist(['n[1]']), "'n[1]'");
    throwsTopology(() => compressHostlist(['a b']), "'a b'");
  });
});

describe('topology/tasks-per-node expandTasksPerNode', () => {
  const cases: Array<[string, number[]]> = [
    ['2(x3),1', [2, 2, 2, 1]],
    ['4', [4]],
    ['1,2,3', [1, 2, 3]],
    ['16(x2)', [16, 16]],
    ['1(x1),2(x2),3', [1, 2, 2, 3]],
  ];
  for (const [spec, counts] of cases) {
    it(`expands '${spec}'`, () => assert.deepEqual(expandTasksPerNode(spec), counts));
  }
  for (const spec of ['', '2(x)', '2(3)', 'x3', '2(x3', '-1', '2,,1', '1.5', '2(x0)']) {
    it(`rejects '${spec}'`, () => throwsTopology(() => expandTasksPerNode(spec), `'${spec}'`, 'column'));
  }
});
