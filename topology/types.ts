// Shapes shared by the pure launch/placement code and the mesh that consumes it.

export type Launcher = 'commune' | 'slurm' | 'ompi' | 'pmi' | 'single';

/** A place a rank can be dialled before the roster is known: a host name or IPv4 literal, and candidate ports tried in order. */
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
  /** Port this rank listens on (0 = any) — bootstrap ranks get a planned port list instead. */
  listenPorts: number[];
  /** Bootstrap endpoints every rank computes identically. */
  bootstrap: Endpoint[];
  /** Approximations detection had to make (e.g. an unusual SLURM_DISTRIBUTION), worth a log line. */
  notes?: string[];
}
