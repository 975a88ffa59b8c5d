import assert from 'node:assert/strict';
import { detectWorld, endpointOf, planPortBlocks, planPorts, rankPorts, TopologyError } from '../../topology/index.js';

type Env = Record<string, string | undefined>;

/** Assert detection fails with a TopologyError (exit code 2) whose message contains every fragment. */
function refuses(env: Env, ...fragments: string[]): void {
  assert.throws(
    () => detectWorld(env, 'host0'),
    (e: unknown) => {
      assert.ok(e instanceof TopologyError, `expected TopologyError, got ${String(e)}`);
      assert.equal(e.exitCode, 2);
      for (const f of fragments) assert.ok(e.message.includes(f), `message '${e.message}' lacks '${f}'`);
      return true;
    },
  );
}

describe('topology/world single', () => {
  it('is a world of one on the given host when no launcher is present', () => {
    const w = detectWorld({}, 'laptop');
    assert.deepEqual(w, {
      launcher: 'single',
      rank: 0,
      size: 1,
      localRank: 0,
      node: 'laptop',
      nodes: ['laptop'],
      rankNodes: [0],
      nodeHosts: ['127.0.0.1'],
      jobId: '',
      stepId: '0',
      wireUp: 'computed',
      portBases: [],
      listenPorts: [],
      bootstrap: [],
    });
    assert.equal(detectWorld({}).node, 'localhost');
  });

  it('honours COMMUNE_SECRET and COMMUNE_HOST (a world of one listens nowhere)', () => {
    const w = detectWorld({ COMMUNE_SECRET: 's3cret', COMMUNE_HOST: '10.1.2.3', COMMUNE_PORT: '4567' });
    assert.equal(w.secret, 's3cret');
    assert.equal(w.bindHost, '10.1.2.3');
    assert.deepEqual(w.listenPorts, []);
  });

  it('treats an sbatch batch script (job variables, no SLURM_PROCID) as a world of one', () => {
    const w = detectWorld({ SLURM_JOB_ID: '77', SLURM_NTASKS: '8', SLURM_NODELIST: 'n[1-2]', SLURM_TASKS_PER_NODE: '4(x2)' }, 'n1');
    assert.equal(w.launcher, 'single');
    assert.equal(w.size, 1);
  });

  it('reads only the environment it is given', () => {
    const saved = process.env['SLURM_PROCID'];
    process.env['SLURM_PROCID'] = '3';
    try {
      assert.equal(detectWorld({}).launcher, 'single');
    } finally {
      if (saved === undefined) delete process.env['SLURM_PROCID'];
      else process.env['SLURM_PROCID'] = saved;
    }
  });
});

describe('topology/world launcher precedence', () => {
  const commune = { COMMUNE_RANK: '0', COMMUNE_SIZE: '1', COMMUNE_LOCAL_RANK: '0' };
  const slurm = { SLURM_PROCID: '0', SLURM_NTASKS: '1', SLURM_LOCALID: '0' };
  const ompi = { OMPI_COMM_WORLD_RANK: '0', OMPI_COMM_WORLD_SIZE: '1', OMPI_COMM_WORLD_LOCAL_RANK: '0' };
  const pmi = { PMI_RANK: '0', PMI_SIZE: '1' };
  it('prefers commune, then Slurm, then Open MPI, then PMI', () => {
    assert.equal(detectWorld({ ...commune, ...slurm, ...ompi, ...pmi }).launcher, 'commune');
    assert.equal(detectWorld({ ...slurm, ...ompi, ...pmi }).launcher, 'slurm');
    assert.equal(detectWorld({ ...ompi, ...pmi }).launcher, 'ompi');
    assert.equal(detectWorld({ ...pmi }).launcher, 'pmi');
  });
  it('ignores blank variables', () => {
    assert.equal(detectWorld({ COMMUNE_RANK: '', SLURM_PROCID: ' ', ...pmi }).launcher, 'pmi');
  });
});

describe('topology/world commune launcher', () => {
  // What `commune launch -n 4 --nodes 2` gives rank 2.
  const twoNodes: Env = {
    COMMUNE_RANK: '2',
    COMMUNE_SIZE: '4',
    COMMUNE_LOCAL_RANK: '0',
    COMMUNE_NODE: 'node1',
    COMMUNE_SECRET: 'abc',
    COMMUNE_NODES: 'node0,node1',
    COMMUNE_NODE_HOSTS: '127.0.1.1,127.0.1.2',
    COMMUNE_TASKS_PER_NODE: '2(x2)',
    COMMUNE_HOST: '127.0.1.2',
    COMMUNE_JOB_ID: 'local-1',
  };
  // Two ranks per node, two ports each.
  const bases = planPortBlocks('local-1', '0', 4);

  it('reads every variable of an emulated two-node launch; every endpoint is computed', () => {
    const w = detectWorld(twoNodes, 'ignored');
    assert.deepEqual(w, {
      launcher: 'commune',
      rank: 2,
      size: 4,
      localRank: 0,
      node: 'node1',
      nodes: ['node0', 'node1'],
      rankNodes: [0, 0, 1, 1],
      nodeHosts: ['127.0.1.1', '127.0.1.2'],
      jobId: 'local-1',
      stepId: '0',
      secret: 'abc',
      bindHost: '127.0.1.2',
      wireUp: 'computed',
      portBases: bases,
      listenPorts: rankPorts(bases, 0),
      bootstrap: [],
    });
    assert.deepEqual([0, 1, 2, 3].map((r) => endpointOf(w, r)), [
      { rank: 0, host: '127.0.1.1', ports: rankPorts(bases, 0) },
      { rank: 1, host: '127.0.1.1', ports: rankPorts(bases, 1) },
      { rank: 2, host: '127.0.1.2', ports: rankPorts(bases, 0) },
      { rank: 3, host: '127.0.1.2', ports: rankPorts(bases, 1) },
    ]);
  });

  it('gives each local rank its own ports in every candidate block, and COMMUNE_PORT fixes the block', () => {
    const w = detectWorld({ ...twoNodes, COMMUNE_RANK: '3', COMMUNE_LOCAL_RANK: '1' });
    assert.deepEqual(w.listenPorts, bases.map((b) => b + 2));
    assert.equal(w.listenPorts.length, 8);
    assert.deepEqual(detectWorld({ ...twoNodes, COMMUNE_RANK: '3', COMMUNE_LOCAL_RANK: '1', COMMUNE_PORT: '5000' }).listenPorts, [5002]);
  });

  it('places ranks cyclically and derives local rank and node when asked', () => {
    const env = { COMMUNE_RANK: '3', COMMUNE_SIZE: '4', COMMUNE_NODES: 'a,b', COMMUNE_TASKS_PER_NODE: '2,2', COMMUNE_DISTRIBUTION: 'cyclic', COMMUNE_JOB_ID: 'j' };
    const w = detectWorld(env);
    assert.deepEqual(w.rankNodes, [0, 1, 0, 1]);
    assert.equal(w.node, 'b');
    assert.equal(w.localRank, 1);
    // Node names are where nodes are dialled when no hosts are given.
    assert.deepEqual(w.nodeHosts, ['a', 'b']);
    assert.deepEqual(endpointOf(w, 2), { rank: 2, host: 'a', ports: rankPorts(planPortBlocks('j', '0', 4), 1) });
    assert.deepEqual(w.bootstrap, []);
  });

  it('accepts a hostlist expression in COMMUNE_NODES and one node without tasks-per-node', () => {
    assert.deepEqual(detectWorld({ ...twoNodes, COMMUNE_NODES: 'node[0-1]' }).nodes, ['node0', 'node1']);
    const one = detectWorld({ COMMUNE_RANK: '1', COMMUNE_SIZE: '3', COMMUNE_NODES: 'solo', COMMUNE_JOB_ID: 'j' });
    assert.deepEqual(one.rankNodes, [0, 0, 0]);
    assert.equal(one.localRank, 1);
  });

  it('without a node list, registers with rank 0 at COMMUNE_BOOTSTRAP_HOST on its planned ports', () => {
    const base = { COMMUNE_RANK: '0', COMMUNE_SIZE: '3', COMMUNE_LOCAL_RANK: '0', COMMUNE_JOB_ID: 'xyz' };
    const w = detectWorld(base, 'h');
    const ports = rankPorts(planPortBlocks('xyz', '0', 6), 0);
    assert.equal(w.wireUp, 'registry');
    assert.deepEqual(w.bootstrap, [{ rank: 0, host: '127.0.0.1', ports }]);
    assert.deepEqual(w.listenPorts, ports);
    assert.equal(endpointOf({ ...w, rank: 2 }, 1), undefined, 'another rank\'s endpoint is asked of the registry');
    assert.deepEqual(w.nodes, []);
    assert.deepEqual(w.rankNodes, []);
    assert.equal(w.node, 'h');
    assert.equal(detectWorld({ ...base, COMMUNE_BOOTSTRAP_HOST: 'head' }).bootstrap[0]!.host, 'head');
  });

  it('accepts IPv6 bootstrap hosts in brackets; explicit endpoints make a registry wire-up', () => {
    const w = detectWorld({ COMMUNE_RANK: '1', COMMUNE_SIZE: '2', COMMUNE_LOCAL_RANK: '1', COMMUNE_BOOTSTRAP: '0@[::1]:4000' });
    assert.deepEqual(w.bootstrap, [{ rank: 0, host: '::1', ports: [4000] }]);
    assert.equal(w.wireUp, 'registry');
    const w0 = detectWorld({ ...twoNodes, COMMUNE_RANK: '0', COMMUNE_LOCAL_RANK: '0', COMMUNE_NODE: 'node0', COMMUNE_HOST: '127.0.1.1', COMMUNE_BOOTSTRAP: '0@127.0.1.1:24001' });
    assert.equal(w0.wireUp, 'registry');
    assert.deepEqual(w0.listenPorts, [24001]);
  });

  const bad: Array<[string, Env, string[]]> = [
    ['size missing', { COMMUNE_RANK: '0' }, ['COMMUNE_SIZE is not set', 'COMMUNE_RANK=0']],
    ['rank missing', { COMMUNE_SIZE: '4' }, ['COMMUNE_SIZE=4 is set but COMMUNE_RANK is not']],
    ['rank ≥ size', { COMMUNE_RANK: '4', COMMUNE_SIZE: '4', COMMUNE_LOCAL_RANK: '0' }, ['COMMUNE_RANK=4', 'COMMUNE_SIZE=4', '0..3']],
    ['non-integer rank', { COMMUNE_RANK: 'two', COMMUNE_SIZE: '4' }, ["COMMUNE_RANK='two'", 'non-negative integer']],
    ['negative rank', { COMMUNE_RANK: '-1', COMMUNE_SIZE: '4' }, ["COMMUNE_RANK='-1'"]],
    ['fractional size', { COMMUNE_RANK: '0', COMMUNE_SIZE: '2.5' }, ["COMMUNE_SIZE='2.5'"]],
    ['zero size', { COMMUNE_RANK: '0', COMMUNE_SIZE: '0' }, ["COMMUNE_SIZE='0'", '≥ 1']],
    ['local rank missing', { COMMUNE_RANK: '0', COMMUNE_SIZE: '2', COMMUNE_JOB_ID: 'j' }, ['COMMUNE_LOCAL_RANK is not set']],
    ['local rank ≥ size', { COMMUNE_RANK: '0', COMMUNE_SIZE: '2', COMMUNE_LOCAL_RANK: '2', COMMUNE_JOB_ID: 'j' }, ['COMMUNE_LOCAL_RANK=2', 'only 2 rank(s)']],
    ['local rank beyond its node', { ...twoNodes, COMMUNE_LOCAL_RANK: '2' }, ['COMMUNE_LOCAL_RANK=2', "only 2 rank(s) run on node 'node1'"]],
    ['several nodes, no tasks per node', { ...twoNodes, COMMUNE_TASKS_PER_NODE: undefined }, ['COMMUNE_NODES lists 2 nodes', 'COMMUNE_TASKS_PER_NODE is not set']],
    ['tasks per node without nodes', { ...twoNodes, COMMUNE_NODES: undefined }, ['COMMUNE_NODES is not']],
    ['tasks per node sum ≠ size', { ...twoNodes, COMMUNE_TASKS_PER_NODE: '2,1' }, ["COMMUNE_TASKS_PER_NODE='2,1' adds up to 3", 'COMMUNE_SIZE=4']],
    ['tasks per node length ≠ nodes', { ...twoNodes, COMMUNE_TASKS_PER_NODE: '4' }, ['describes 1 node(s)', 'lists 2']],
    ['node disagrees with placement', { ...twoNodes, COMMUNE_NODE: 'node0' }, ["COMMUNE_NODE='node0'", "'node1'"]],
    ['node hosts not matching the nodes', { ...twoNodes, COMMUNE_NODE_HOSTS: '127.0.1.1' }, ['COMMUNE_NODE_HOSTS lists 1 host(s)', '2 node(s)']],
    ['bad distribution', { ...twoNodes, COMMUNE_DISTRIBUTION: 'plane' }, ["COMMUNE_DISTRIBUTION='plane'"]],
    ['bad node list', { ...twoNodes, COMMUNE_NODES: 'n[2-1]', COMMUNE_NODE_HOSTS: undefined }, ['COMMUNE_NODES', "'n[2-1]'", 'descending']],
    ['malformed bootstrap', { ...twoNodes, COMMUNE_BOOTSTRAP: '0@host' }, ['COMMUNE_BOOTSTRAP', "'0@host'", 'rank@host:port']],
    ['bootstrap rank out of range', { ...twoNodes, COMMUNE_BOOTSTRAP: '9@h:1000' }, ['rank 9', 'only 4 ranks']],
    ['bootstrap port out of range', { ...twoNodes, COMMUNE_BOOTSTRAP: '0@h:70000' }, ['port 70000']],
    ['bootstrap rank repeated', { ...twoNodes, COMMUNE_BOOTSTRAP: '0@h:1000,0@g:1001' }, ['repeats rank 0']],
    ['empty bootstrap', { ...twoNodes, COMMUNE_BOOTSTRAP: ',' }, ['lists no endpoints']],
    ['no bootstrap, no job id', { COMMUNE_RANK: '0', COMMUNE_SIZE: '2', COMMUNE_LOCAL_RANK: '0' }, ['COMMUNE_BOOTSTRAP', 'COMMUNE_JOB_ID']],
    ['port above 65535', { ...twoNodes, COMMUNE_RANK: '3', COMMUNE_LOCAL_RANK: '1', COMMUNE_PORT: '70000' }, ['COMMUNE_PORT=70000']],
  ];
  for (const [what, env, fragments] of bad) {
    it(`refuses ${what}`, () => refuses(env, ...fragments));
  }
});

describe('topology/world Slurm', () => {
  // srun -N3 -n6 -m block inside a 4-node allocation: tasks 4,1,1; this is rank 4 on node02.
  const step: Env = {
    SLURM_PROCID: '4',
    SLURM_NTASKS: '8',
    SLURM_STEP_NUM_TASKS: '6',
    SLURM_NODELIST: 'node[01-04]',
    SLURM_JOB_NODELIST: 'node[01-04]',
    SLURM_STEP_NODELIST: 'node[01-03]',
    SLURM_TASKS_PER_NODE: '2(x4)',
    SLURM_STEP_TASKS_PER_NODE: '4,1(x2)',
    SLURM_LOCALID: '0',
    SLURM_NODEID: '1',
    SLURMD_NODENAME: 'node02',
    SLURM_JOB_ID: '4242',
    SLURM_STEP_ID: '0',
    SLURM_DISTRIBUTION: 'block',
  };
  // node01 runs 4 tasks: a block of 8 ports per node.
  const bases = planPortBlocks('4242', '0', 8);

  it('reads an srun task, preferring step variables over job ones; every endpoint is computed', () => {
    const w = detectWorld(step, 'ignored');
    assert.deepEqual(w, {
      launcher: 'slurm',
      rank: 4,
      size: 6,
      localRank: 0,
      node: 'node02',
      nodes: ['node01', 'node02', 'node03'],
      rankNodes: [0, 0, 0, 0, 1, 2],
      nodeHosts: ['node01', 'node02', 'node03'],
      jobId: '4242',
      stepId: '0',
      wireUp: 'computed',
      portBases: bases,
      listenPorts: rankPorts(bases, 0),
      bootstrap: [],
    });
    assert.deepEqual(endpointOf(w, 3), { rank: 3, host: 'node01', ports: rankPorts(bases, 3) });
    assert.deepEqual(endpointOf(w, 5), { rank: 5, host: 'node03', ports: rankPorts(bases, 0) });
  });

  it('gives a rank the ports of its local rank', () => {
    const w = detectWorld({ ...step, SLURM_PROCID: '2', SLURM_LOCALID: '2', SLURM_NODEID: '0', SLURMD_NODENAME: 'node01' });
    assert.deepEqual(w.listenPorts, rankPorts(bases, 2));
    assert.equal(w.localRank, 2);
  });

  it('falls back to job-level variables when there are no step ones', () => {
    const env = { SLURM_PROCID: '3', SLURM_NTASKS: '4', SLURM_NODELIST: 'c[1-2]', SLURM_TASKS_PER_NODE: '2(x2)', SLURM_LOCALID: '1', SLURM_NODEID: '1', SLURM_JOB_ID: '9', SLURM_STEP_ID: '1' };
    const w = detectWorld(env);
    assert.deepEqual(w.rankNodes, [0, 0, 1, 1]);
    assert.equal(w.node, 'c2'); // no SLURMD_NODENAME: nodes[SLURM_NODEID]
  });

  it('places ranks cyclically under SLURM_DISTRIBUTION=cyclic:block', () => {
    const env = { ...step, SLURM_DISTRIBUTION: 'cyclic:block', SLURM_STEP_TASKS_PER_NODE: '2(x3)', SLURM_PROCID: '4', SLURM_NODEID: '1', SLURM_LOCALID: '1' };
    const w = detectWorld(env);
    assert.deepEqual(w.rankNodes, [0, 1, 2, 0, 1, 2]);
    assert.equal(w.localRank, 1);
    // Two tasks per node here: blocks of 4 ports.
    assert.deepEqual(w.listenPorts, rankPorts(planPortBlocks('4242', '0', 4), 1));
    assert.deepEqual(endpointOf(w, 3), { rank: 3, host: 'node01', ports: rankPorts(planPortBlocks('4242', '0', 4), 1) });
  });

  it('plans different ports for two steps of one job and for two jobs', () => {
    const a = detectWorld(step).portBases;
    const b = detectWorld({ ...step, SLURM_STEP_ID: '1' }).portBases;
    const c = detectWorld({ ...step, SLURM_JOB_ID: '4243' }).portBases;
    assert.notEqual(a[0], b[0]);
    assert.notEqual(a[0], c[0]);
  });

  it('honours COMMUNE_SECRET, COMMUNE_HOST and COMMUNE_BOOTSTRAP (a registry) under Slurm', () => {
    const w = detectWorld({ ...step, COMMUNE_SECRET: 'k', COMMUNE_HOST: '10.9.8.7', COMMUNE_BOOTSTRAP: '0@node01:31000' });
    assert.equal(w.secret, 'k');
    assert.equal(w.bindHost, '10.9.8.7');
    assert.equal(w.wireUp, 'registry');
    assert.deepEqual(w.bootstrap, [{ rank: 0, host: 'node01', ports: [31000] }]);
    assert.deepEqual(w.listenPorts, rankPorts(bases, 0));
  });

  it('notes an approximated plane distribution', () => {
    const w = detectWorld({ ...step, SLURM_DISTRIBUTION: 'plane=2' });
    assert.equal(w.notes?.length, 1);
    assert.match(w.notes![0]!, /plane=2.*block/);
  });

  it('needs COMMUNE_BOOTSTRAP under arbitrary distribution, and then works', () => {
    refuses({ ...step, SLURM_DISTRIBUTION: 'arbitrary' }, 'arbitrary', 'COMMUNE_BOOTSTRAP');
    const w = detectWorld({ ...step, SLURM_DISTRIBUTION: 'arbitrary', COMMUNE_BOOTSTRAP: '0@node01:20000' });
    assert.deepEqual(w.rankNodes, []);
    assert.equal(w.node, 'node02');
  });

  it('runs a one-task step without listening anywhere', () => {
    const w = detectWorld({ SLURM_PROCID: '0', SLURM_NTASKS: '1', SLURM_LOCALID: '0', SLURM_NODEID: '0', SLURM_STEP_NODELIST: 'n1', SLURM_STEP_TASKS_PER_NODE: '1' });
    assert.deepEqual(w.bootstrap, []);
    assert.deepEqual(w.listenPorts, []);
  });

  const bad: Array<[string, Env, string[]]> = [
    ['a task count missing', { SLURM_PROCID: '0' }, ['SLURM_PROCID=0', 'SLURM_STEP_NUM_TASKS', 'SLURM_NTASKS']],
    ['rank ≥ size', { ...step, SLURM_PROCID: '6' }, ['SLURM_PROCID=6', 'SLURM_STEP_NUM_TASKS=6']],
    ['a non-integer rank', { ...step, SLURM_PROCID: '4a' }, ["SLURM_PROCID='4a'"]],
    ['a non-integer task count', { ...step, SLURM_STEP_NUM_TASKS: 'six' }, ["SLURM_STEP_NUM_TASKS='six'"]],
    ['SLURM_NODEID disagreeing with placement', { ...step, SLURM_NODEID: '0' }, ['SLURM_PROCID=4 should run on node 1 (node02)', 'SLURM_NODEID=0', 'SLURM_DISTRIBUTION']],
    ['SLURM_NODEID beyond the node list', { ...step, SLURM_NODEID: '3' }, ['SLURM_NODEID=3', 'lists only 3 node(s)']],
    ['tasks per node not adding up', { ...step, SLURM_STEP_TASKS_PER_NODE: '3,1,1' }, ["SLURM_STEP_TASKS_PER_NODE='3,1,1' adds up to 5", 'SLURM_STEP_NUM_TASKS=6']],
    ['tasks per node for the wrong node count', { ...step, SLURM_STEP_TASKS_PER_NODE: '3(x2)' }, ['describes 2 node(s)', "SLURM_STEP_NODELIST='node[01-03]' lists 3"]],
    ['a malformed node list', { ...step, SLURM_STEP_NODELIST: 'node[01-03' }, ['SLURM_STEP_NODELIST', 'never closed']],
    ['a malformed tasks per node', { ...step, SLURM_STEP_TASKS_PER_NODE: '4,1(2)' }, ['SLURM_STEP_TASKS_PER_NODE', "'1(2)'"]],
    ['a local id beyond its node', { ...step, SLURM_LOCALID: '1' }, ['SLURM_LOCALID=1', 'runs only 1 task(s)']],
    ['a missing job id', { ...step, SLURM_JOB_ID: undefined }, ['cannot compute where the ranks listen', 'SLURM_JOB_ID not set', 'COMMUNE_BOOTSTRAP']],
    ['a missing node list', { ...step, SLURM_STEP_NODELIST: undefined, SLURM_NODELIST: undefined, SLURM_JOB_NODELIST: undefined }, ['SLURM_STEP_NODELIST not set']],
    ['no local id and no placement', { SLURM_PROCID: '0', SLURM_NTASKS: '2' }, ['SLURM_LOCALID is not set']],
  ];
  for (const [what, env, fragments] of bad) {
    it(`refuses ${what}`, () => refuses(env, ...fragments));
  }
});

describe('topology/world Open MPI', () => {
  const env: Env = { OMPI_COMM_WORLD_RANK: '3', OMPI_COMM_WORLD_SIZE: '4', OMPI_COMM_WORLD_LOCAL_RANK: '1', OMPI_COMM_WORLD_LOCAL_SIZE: '2', OMPI_MCA_ess_base_jobid: '123456' };

  // Two nodes of two ranks: where the others run is unknown, so ranks register with rank 0.
  const bases = planPortBlocks('123456', '0', 8);

  it('reads rank, size and local rank; across nodes, rank 0 at 127.0.0.1 is the registry', () => {
    assert.deepEqual(detectWorld(env, 'cn7'), {
      launcher: 'ompi',
      rank: 3,
      size: 4,
      localRank: 1,
      node: 'cn7',
      nodes: [],
      rankNodes: [],
      nodeHosts: [],
      jobId: '123456',
      stepId: '0',
      wireUp: 'registry',
      portBases: bases,
      listenPorts: rankPorts(bases, 1),
      bootstrap: [{ rank: 0, host: '127.0.0.1', ports: rankPorts(bases, 0) }],
    });
  });

  it('lets rank 0 listen where the others register and honours COMMUNE_BOOTSTRAP_HOST', () => {
    const w = detectWorld({ ...env, OMPI_COMM_WORLD_RANK: '0', OMPI_COMM_WORLD_LOCAL_RANK: '0', COMMUNE_BOOTSTRAP_HOST: 'head01' });
    assert.deepEqual(w.listenPorts, rankPorts(bases, 0));
    assert.equal(w.bootstrap[0]!.host, 'head01');
  });

  it('on one node (local size = size) computes every endpoint on loopback', () => {
    const w = detectWorld({ ...env, OMPI_COMM_WORLD_LOCAL_SIZE: '4', OMPI_COMM_WORLD_LOCAL_RANK: '3' }, 'cn7');
    assert.equal(w.wireUp, 'computed');
    assert.deepEqual(w.bootstrap, []);
    const b = planPortBlocks('123456', '0', 8);
    assert.deepEqual(endpointOf(w, 1), { rank: 1, host: '127.0.0.1', ports: rankPorts(b, 1) });
    assert.deepEqual(w.listenPorts, rankPorts(b, 3));
  });

  it('takes the job id from PMIX_NAMESPACE, else notes its absence', () => {
    const noJob = { ...env, OMPI_MCA_ess_base_jobid: undefined };
    assert.equal(detectWorld({ ...noJob, PMIX_NAMESPACE: 'prterun-x-1@1' }).jobId, 'prterun-x-1@1');
    const w = detectWorld(noJob);
    assert.equal(w.jobId, 'ompi');
    assert.match(w.notes![0]!, /COMMUNE_JOB_ID/);
  });

  it('refuses a missing size, a missing local rank, or a local rank beyond the local size', () => {
    refuses({ OMPI_COMM_WORLD_RANK: '0' }, 'OMPI_COMM_WORLD_SIZE is not set');
    refuses({ OMPI_COMM_WORLD_SIZE: '2' }, 'OMPI_COMM_WORLD_SIZE=2 is set but OMPI_COMM_WORLD_RANK is not');
    refuses({ ...env, OMPI_COMM_WORLD_LOCAL_RANK: undefined }, 'OMPI_COMM_WORLD_LOCAL_RANK is not set');
    refuses({ ...env, OMPI_COMM_WORLD_LOCAL_RANK: '2' }, 'OMPI_COMM_WORLD_LOCAL_RANK=2', 'local size 2');
    refuses({ ...env, OMPI_COMM_WORLD_RANK: '4' }, 'OMPI_COMM_WORLD_RANK=4', 'OMPI_COMM_WORLD_SIZE=4');
  });
});

describe('topology/world PMI', () => {
  it('reads PMI_RANK, PMI_SIZE and MPI_LOCALRANKID', () => {
    const w = detectWorld({ PMI_RANK: '1', PMI_SIZE: '2', MPI_LOCALRANKID: '1', PMIX_NAMESPACE: 'kvs_1' }, 'h');
    assert.equal(w.launcher, 'pmi');
    assert.equal(w.rank, 1);
    assert.equal(w.size, 2);
    assert.equal(w.localRank, 1);
    assert.deepEqual(w.bootstrap, [{ rank: 0, host: '127.0.0.1', ports: rankPorts(planPortBlocks('kvs_1', '0', 4), 0) }]);
  });

  it('takes PMI_LOCAL_RANK, else local rank 0 with a note', () => {
    assert.equal(detectWorld({ PMI_RANK: '1', PMI_SIZE: '2', PMI_LOCAL_RANK: '1' }).localRank, 1);
    const w = detectWorld({ PMI_RANK: '1', PMI_SIZE: '2' });
    assert.equal(w.localRank, 0);
    assert.ok(w.notes!.some((n) => n.includes('local rank taken as 0')));
  });

  it('refuses rank ≥ size and a non-integer local rank', () => {
    refuses({ PMI_RANK: '2', PMI_SIZE: '2' }, 'PMI_RANK=2', 'PMI_SIZE=2');
    refuses({ PMI_RANK: '0', PMI_SIZE: '2', MPI_LOCALRANKID: 'x' }, "MPI_LOCALRANKID='x'");
    refuses({ PMI_SIZE: '2' }, 'PMI_RANK is not');
  });
});
