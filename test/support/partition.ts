// Real partitions between emulated nodes: iptables rules dropping the packets between two loopback
// addresses (`launch --nodes k` binds node i to 127.0.1.(i+1)), in a chain of the test's own that is
// always removed afterwards.
import { spawnSync } from 'node:child_process';

function iptables(args: string[]): { ok: boolean; err: string } {
  const r = spawnSync('iptables', ['-w', ...args], { encoding: 'utf8' });
  return { ok: r.status === 0, err: r.error ? r.error.message : r.stderr.trim() };
}

/** Why partitions cannot be made here (not root, no iptables), or undefined when they can. */
export function partitionsUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'making partitions needs root (iptables rules on loopback addresses)';
  const probe = iptables(['-L', 'INPUT', '-n']);
  if (!probe.ok) return `iptables does not work here: ${probe.err || 'not installed (apt-get install iptables)'}`;
  return undefined;
}

export class LoopbackPartition {
  private readonly chain = `COMMUNE_TEST_${process.pid}`;

  constructor() {
    this.remove();
    for (const args of [['-N', this.chain], ['-I', 'INPUT', '-j', this.chain]]) {
      const r = iptables(args);
      if (!r.ok) throw new Error(`iptables ${args.join(' ')}: ${r.err}`);
    }
  }

  /** Drops every packet between addresses `a` and `b`, both ways. */
  cut(a: string, b: string): void {
    for (const [s, d] of [[a, b], [b, a]]) {
      const r = iptables(['-A', this.chain, '-s', s!, '-d', d!, '-j', 'DROP']);
      if (!r.ok) throw new Error(`iptables: cannot cut ${s} from ${d}: ${r.err}`);
    }
  }

  /** Lets every packet through again (the chain stays, empty). */
  heal(): void {
    iptables(['-F', this.chain]);
  }

  /** Removes the chain and its rule (idempotent: safe in after() whatever happened). */
  remove(): void {
    iptables(['-D', 'INPUT', '-j', this.chain]);
    iptables(['-F', this.chain]);
    iptables(['-X', this.chain]);
  }
}
