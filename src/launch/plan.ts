// What a local launch looks like: which rank runs on which emulated node and with which environment.

export interface LaunchPlan {
  size: number;
  nodes: { name: string; host: string; tasks: number }[];
  rankNode: number[];
}

/** Emulated node i binds 127.0.1.(i+1): the last usable host address of the /24. */
export const MAX_EMULATED_NODES = 254;

/**
 * Ranks one local launch starts at most: each is a Node process of tens of MiB, so more is a typo
 * (an extra zero) that would otherwise start processes until the machine gives out.
 */
export const MAX_LOCAL_RANKS = 4096;

/** Block placement of `size` ranks on `k` emulated nodes; node i binds 127.0.1.(i+1) when k > 1. */
export function planLaunch(size: number, k: number, hostname: string): LaunchPlan {
  const nodes = Array.from({ length: k }, (_, i) => ({
    name: k === 1 ? hostname : `node${i}`,
    host: k === 1 ? '127.0.0.1' : `127.0.1.${i + 1}`,
    tasks: Math.floor(size / k) + (i < size % k ? 1 : 0),
  }));
  const rankNode: number[] = [];
  nodes.forEach((n, i) => { for (let t = 0; t < n.tasks; t++) rankNode.push(i); });
  return { size, nodes, rankNode };
}

/** What rank `rank` is told: enough to compute where every rank listens (topology/wireup.ts). */
export function rankEnv(plan: LaunchPlan, rank: number, jobId: string, secret: string): Record<string, string> {
  const node = plan.nodes[plan.rankNode[rank]];
  const first = plan.rankNode.indexOf(plan.rankNode[rank]);
  return {
    COMMUNE_RANK: String(rank),
    COMMUNE_SIZE: String(plan.size),
    COMMUNE_LOCAL_RANK: String(rank - first),
    COMMUNE_NODE: node.name,
    COMMUNE_NODES: plan.nodes.map((n) => n.name).join(','),
    COMMUNE_TASKS_PER_NODE: plan.nodes.map((n) => n.tasks).join(','),
    COMMUNE_DISTRIBUTION: 'block',
    COMMUNE_NODE_HOSTS: plan.nodes.map((n) => n.host).join(','),
    COMMUNE_HOST: node.host,
    COMMUNE_JOB_ID: jobId,
    COMMUNE_SECRET: secret,
  };
}
