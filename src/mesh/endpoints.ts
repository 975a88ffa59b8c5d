import { lookup } from 'node:dns/promises';
import { isIPv4 } from 'node:net';
import type { World } from '../../topology/types.js';
import { endpointOf } from '../../topology/wireup.js';
import type { Where } from './direct-plane.js';
import type { Registry } from './registry.js';

/**
 * Where a rank listens, before anyone has heard from it: computed from the launch (topology/wireup.ts),
 * else asked of the registry (a launch that does not say where every rank runs). Host names (node
 * names under Slurm) are looked up once each.
 */
export class Endpoints {
  private readonly hosts = new Map<string, Promise<string>>();

  constructor(private readonly world: World, private readonly registry?: Registry) {}

  async of(peer: number): Promise<Where | undefined> {
    const ep = endpointOf(this.world, peer);
    if (ep) return { host: await this.resolve(ep.host), ports: ep.ports };
    if (!this.registry) return undefined;
    const w = await this.registry.lookup(peer);
    return { host: await this.resolve(w.host), ports: w.ports };
  }

  /** A host name's IPv4 address. */
  resolve(host: string): Promise<string> {
    if (isIPv4(host)) return Promise.resolve(host);
    let p = this.hosts.get(host);
    if (!p) {
      p = lookup(host, { family: 4 }).then((r) => r.address);
      p.catch(() => this.hosts.delete(host));
      this.hosts.set(host, p);
    }
    return p;
  }
}
