// Issue-2 benchmark (not a test): point-to-point cost of commune's mesh against a raw Node TCP socket,
// two ranks in two processes on loopback. Measures an 8-byte round trip (median and mean over timed
// iterations after a warm-up) and a 64 MiB transfer (until the receiver acknowledges it all; best and
// median of 3), for both transports in the same run, and prints a table with the ratios and whether the
// issue's targets (round trip ≤ 6× raw TCP, transfer ≥ 0.3× raw TCP) are met. A miss is reported, not
// turned into a failing exit code.
//
//   node dist/bench/mesh.js [--json PATH]     driver: raw TCP baseline, then the mesh via `commune launch -n 2`
//   node dist/bench/mesh.js --tcp-peer        (internal) the raw-TCP peer: echo server and byte sink
//   node dist/bench/mesh.js --rank-mode       (internal) a mesh rank, started by the launcher
import '../src/polyfill.js';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createConnection, createServer, type Socket } from 'node:net';
import { availableParallelism, cpus } from 'node:os';
import { dirname, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { dataPlaneMode } from '../src/mesh/direct-plane.js';

const RTT_BYTES = 8;
const RTT_WARMUP = 200;
const RTT_ITERS = 2000;
const BULK_BYTES = 64 * 1024 * 1024;
const CHUNK_BYTES = 1024 * 1024;
const BULK_REPS = 3;
const MIB = 1024 * 1024;

interface Figures {
  rttMedianUs: number;
  rttMeanUs: number;
  bulkBestMiBs: number;
  bulkMedianMiBs: number;
  bulkSeconds: number[];
}

const here = dirname(fileURLToPath(import.meta.url));
const now = (): number => performance.now();
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

function summarise(rttMs: number[], bulkMs: number[]): Figures {
  const rates = bulkMs.map((ms) => BULK_BYTES / MIB / (ms / 1000));
  return {
    rttMedianUs: median(rttMs) * 1000,
    rttMeanUs: mean(rttMs) * 1000,
    bulkBestMiBs: Math.max(...rates),
    bulkMedianMiBs: median(rates),
    bulkSeconds: bulkMs.map((ms) => ms / 1000),
  };
}

// ---------------------------------------------------------------------------------------------------
// Raw TCP. The client opens two connections to the peer, each announced by a first byte: 'E' (echo
// every byte back) and 'S' (sink: a u64 length, then that many bytes, answered with an 8-byte ack).

function tcpPeer(): void {
  const server = createServer((sock) => {
    sock.setNoDelay(true);
    let mode: 'E' | 'S' | undefined;
    let want = -1n;
    let got = 0n;
    let header = Buffer.alloc(0);
    const onSink = (data: Buffer): void => {
      let off = 0;
      while (off < data.length) {
        if (want < 0n) {
          const need = 8 - header.length;
          header = Buffer.concat([header, data.subarray(off, off + need)]);
          off += Math.min(need, data.length - off);
          if (header.length === 8) { want = header.readBigUInt64BE(0); got = 0n; header = Buffer.alloc(0); }
          continue;
        }
        const take = Math.min(data.length - off, Number(want - got));
        got += BigInt(take);
        off += take;
        if (got === want) { sock.write(Buffer.alloc(8)); want = -1n; }
      }
    };
    sock.on('data', (data: Buffer) => {
      if (mode === undefined) { mode = data[0] === 0x45 ? 'E' : 'S'; data = data.subarray(1); }
      if (mode === 'E') sock.write(data);
      else onSink(data);
    });
    sock.on('error', () => {});
  });
  server.listen(0, '127.0.0.1', () => {
    const addr = server.address();
    process.stdout.write(`PORT ${typeof addr === 'object' && addr ? addr.port : 0}\n`);
  });
  // The driver closes our stdin when it is done; that is our cue to leave.
  process.stdin.resume();
  process.stdin.on('end', () => { server.close(); process.exit(0); });
}

/** Resolves on each arrival of `n` bytes (the echoed ping or the ack) on a socket. */
function byteWaiter(sock: Socket): (n: number) => Promise<void> {
  let buffered = 0;
  let waiting: { n: number; resolve: () => void } | undefined;
  sock.on('data', (d: Buffer) => {
    buffered += d.length;
    if (waiting && buffered >= waiting.n) { buffered -= waiting.n; const w = waiting; waiting = undefined; w.resolve(); }
  });
  return (n) => new Promise<void>((resolve) => {
    if (buffered >= n) { buffered -= n; resolve(); } else waiting = { n, resolve };
  });
}

function connect(port: number, mode: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const sock = createConnection({ host: '127.0.0.1', port }, () => {
      sock.setNoDelay(true);
      sock.write(mode);
      resolve(sock);
    });
    sock.once('error', reject);
  });
}

function writeAll(sock: Socket, buf: Uint8Array): Promise<void> {
  return new Promise((resolve) => { if (sock.write(buf)) resolve(); else sock.once('drain', () => resolve()); });
}

async function runTcp(): Promise<Figures> {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--tcp-peer'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! });
    rl.on('line', (l) => { const m = /^PORT (\d+)$/.exec(l); if (m) resolve(Number(m[1])); });
    child.once('exit', (c) => reject(new Error(`tcp peer exited early (code ${c})`)));
  });
  try {
    const echo = await connect(port, 'E');
    const waitEcho = byteWaiter(echo);
    const ping = new Uint8Array(RTT_BYTES);
    const rtt: number[] = [];
    for (let i = 0; i < RTT_WARMUP + RTT_ITERS; i++) {
      const t0 = now();
      echo.write(ping);
      await waitEcho(RTT_BYTES);
      if (i >= RTT_WARMUP) rtt.push(now() - t0);
    }
    echo.end();

    const sink = await connect(port, 'S');
    const waitAck = byteWaiter(sink);
    const payload = new Uint8Array(BULK_BYTES);
    const header = Buffer.alloc(8);
    header.writeBigUInt64BE(BigInt(BULK_BYTES));
    const bulk: number[] = [];
    for (let r = 0; r < BULK_REPS; r++) {
      const t0 = now();
      await writeAll(sink, header);
      for (let off = 0; off < BULK_BYTES; off += CHUNK_BYTES) await writeAll(sink, payload.subarray(off, off + CHUNK_BYTES));
      await waitAck(8);
      bulk.push(now() - t0);
    }
    sink.end();
    return summarise(rtt, bulk);
  } finally {
    child.stdin!.end();
    await new Promise<void>((r) => (child.exitCode !== null ? r() : child.once('exit', () => r())));
  }
}

// ---------------------------------------------------------------------------------------------------
// commune mesh: rank 0 measures, rank 1 answers. Same counts as the raw-TCP run.

async function rankMode(): Promise<void> {
  const { joinWorld } = await import('../src/index.js');
  const mesh = await joinWorld({ timeoutMs: 120_000 });
  try {
    if (mesh.size !== 2) throw new Error(`the mesh benchmark wants exactly 2 ranks, got ${mesh.size}`);
    const ping = new Uint8Array(RTT_BYTES);
    if (mesh.rank === 1) {
      for (let i = 0; i < RTT_WARMUP + RTT_ITERS; i++) {
        const m = await mesh.recv(0, 'ping');
        await mesh.send(0, 'pong', m);
      }
      for (let r = 0; r < BULK_REPS; r++) {
        const m = (await mesh.recv(0, 'bulk')) as Uint8Array;
        if (m.byteLength !== BULK_BYTES) throw new Error(`bulk of ${m.byteLength} bytes, expected ${BULK_BYTES}`);
        await mesh.send(0, 'ack', new Uint8Array(8));
      }
    } else {
      const rtt: number[] = [];
      for (let i = 0; i < RTT_WARMUP + RTT_ITERS; i++) {
        const t0 = now();
        await mesh.send(1, 'ping', ping);
        await mesh.recv(1, 'pong');
        if (i >= RTT_WARMUP) rtt.push(now() - t0);
      }
      const payload = new Uint8Array(BULK_BYTES);
      const bulk: number[] = [];
      for (let r = 0; r < BULK_REPS; r++) {
        const t0 = now();
        await mesh.send(1, 'bulk', payload);
        await mesh.recv(1, 'ack');
        bulk.push(now() - t0);
      }
      process.stdout.write(`RESULT ${JSON.stringify(summarise(rtt, bulk))}\n`);
    }
  } finally {
    await mesh.close();
  }
}

async function runMesh(): Promise<Figures> {
  const main = resolve(here, '../src/cli/main.js');
  const self = fileURLToPath(import.meta.url);
  const child = spawn(process.execPath, [main, 'launch', '-n', '2', '--', process.execPath, self, '--rank-mode'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let result: Figures | undefined;
  const rl = createInterface({ input: child.stdout! });
  rl.on('line', (l) => {
    const m = /^\[0\] RESULT (.*)$/.exec(l);
    if (m) result = JSON.parse(m[1]) as Figures;
    else process.stderr.write(`${l}\n`);
  });
  const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  await new Promise<void>((r) => (rl as unknown as { closed?: boolean }).closed ? r() : rl.once('close', () => r()));
  if (!result) throw new Error(`the mesh run printed no RESULT (launcher exit code ${code})`);
  if (code !== 0) process.stderr.write(`note: the mesh launch exited with code ${code} after reporting its result\n`);
  return result;
}

// ---------------------------------------------------------------------------------------------------

async function driver(argv: string[]): Promise<void> {
  const j = argv.indexOf('--json');
  const jsonPath = j >= 0 ? argv[j + 1] : undefined;
  if (j >= 0 && !jsonPath) throw new Error('--json needs a PATH');
  dataPlaneMode(process.env.COMMUNE_DATA_PLANE); // refuse a bad COMMUNE_DATA_PLANE before any work

  const machine = `${cpus()[0]?.model?.trim() ?? 'unknown cpu'}, ${availableParallelism()} cores`;
  process.stderr.write('raw TCP baseline…\n');
  const tcp = await runTcp();
  process.stderr.write('commune mesh (commune launch -n 2)…\n');
  const mesh = await runMesh();

  const rttRatio = mesh.rttMedianUs / tcp.rttMedianUs;
  const bulkRatio = mesh.bulkBestMiBs / tcp.bulkBestMiBs;
  const rttMet = rttRatio <= 6;
  const bulkMet = bulkRatio >= 0.3;
  const f = (x: number, d = 1): string => x.toFixed(d);
  const rows = [
    `# commune mesh (COMMUNE_DATA_PLANE=${dataPlaneMode(process.env.COMMUNE_DATA_PLANE)}) vs raw TCP, 2 processes, loopback (machine: ${machine})`,
    '| metric | raw TCP | commune mesh | ratio | target | met |',
    '|---|---|---|---|---|---|',
    `| 8 B round trip, median (µs) | ${f(tcp.rttMedianUs)} | ${f(mesh.rttMedianUs)} | ${f(rttRatio, 2)}× | ≤ 6× | ${rttMet ? 'yes' : 'no'} |`,
    `| 8 B round trip, mean (µs) | ${f(tcp.rttMeanUs)} | ${f(mesh.rttMeanUs)} | ${f(mesh.rttMeanUs / tcp.rttMeanUs, 2)}× | | |`,
    `| 64 MiB transfer (MiB/s, best of ${BULK_REPS}) | ${f(tcp.bulkBestMiBs, 0)} | ${f(mesh.bulkBestMiBs, 0)} | ${f(bulkRatio, 2)}× | ≥ 0.3× | ${bulkMet ? 'yes' : 'no'} |`,
    `| 64 MiB transfer (MiB/s, median of ${BULK_REPS}) | ${f(tcp.bulkMedianMiBs, 0)} | ${f(mesh.bulkMedianMiBs, 0)} | ${f(mesh.bulkMedianMiBs / tcp.bulkMedianMiBs, 2)}× | | |`,
  ];
  process.stdout.write(rows.join('\n') + `\n(round trip: ${RTT_WARMUP} warm-up + ${RTT_ITERS} timed; transfer: ${BULK_BYTES / MIB} MiB until acknowledged)\n`);

  if (jsonPath) {
    const out = {
      machine, node: process.version, dataPlane: dataPlaneMode(process.env.COMMUNE_DATA_PLANE),
      settings: { rttBytes: RTT_BYTES, rttWarmup: RTT_WARMUP, rttIterations: RTT_ITERS, bulkBytes: BULK_BYTES, bulkReps: BULK_REPS, tcpChunkBytes: CHUNK_BYTES },
      tcp, mesh,
      ratios: { rttMedian: rttRatio, bulkBest: bulkRatio },
      targets: { rttMaxRatio: 6, rttMet, bulkMinRatio: 0.3, bulkMet },
    };
    writeFileSync(jsonPath, JSON.stringify(out, null, 2) + '\n');
  }
}

const args = process.argv.slice(2);
if (args.includes('--tcp-peer')) {
  tcpPeer();
} else if (args.includes('--rank-mode') || process.env.COMMUNE_RANK !== undefined) {
  rankMode().catch((e: Error) => { process.stderr.write(`${e.stack ?? e}\n`); process.exit(1); });
} else {
  driver(args).catch((e: Error) => { process.stderr.write(`${e.stack ?? e}\n`); process.exit(1); });
}
