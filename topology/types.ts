// Shapes shared by the pure launch/placement code and the mesh that consumes it.

export type Launcher = 'commune' | 'slurm' | 'ompi' | 'pmi' | 'single';

/** A place a rank can be dialled before anyone has heard from it: a host name or IPv4 literal, and candidate ports tried in order. */
export interface Endpoint {
  rank: number;
  host: string;
  ports: number[];
}

/** Everything this process knows about the world it was launched into, derived from the environment only. */
export interface World {
  launcher: Launcher;
  rank: number;
  size: number;
  localRank: number;
  /** This rank's node name. */
  node: string;
  /** Node names in node-id order, when the launcher says (Slurm nodelist, commune launcher). */
  nodes: string[];
  /** Node index of every rank, when the launcher's placement is known; else []. */
  rankNodes: number[];
  jobId: string;
  stepId: string;
  /** Job secret from COMMUNE_SECRET, if the launcher gave one. */
  secret?: string;
  /** Address this rank binds to when the launcher chose one (COMMUNE_HOST), else undefined. */
  bindHost?: string;
  /**
   * How ranks find each other (wireup.ts): `computed` — every rank's endpoint follows from the placement
   * and the port plan; `registry` — the launch does not say where ranks run, so they register with the
   * first bootstrap endpoint and look each other up there.
   */
  wireUp: 'computed' | 'registry';
  /** Address at which each node is dialled (same order as `nodes`); [] when unknown. */
  nodeHosts: string[];
  /** First ports of the job step's candidate port blocks, tried in order (the port plan); [] in a world of one. */
  portBases: number[];
  /** This rank's direct-plane port candidates, tried in order (its libp2p port follows each). */
  listenPorts: number[];
  /** Registry wire-up: where ranks register and look each other up (the first entry), known to every rank; else []. */
  bootstrap: Endpoint[];
  /** Approximations detection had to make (e.g. an unusual SLURM_DISTRIBUTION), worth a log line. */
  notes?: string[];
}
