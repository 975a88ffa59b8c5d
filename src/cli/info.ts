/** `commune info`: what this rank sees of its world. */
export async function info(opts: { json?: boolean; interface?: string }): Promise<void> {
  // Loaded on use: the libp2p stack takes a noticeable share of a short command's start-up.
  const { joinWorld } = await import('../world.js');
  const mesh = await joinWorld({ interface: opts.interface });
  const w = mesh.world;
  const report = {
    rank: w.rank, size: w.size, localRank: w.localRank, node: w.node, launcher: w.launcher,
    nodes: w.nodes, rankNodes: w.rankNodes, jobId: w.jobId, stepId: w.stepId,
    addresses: mesh.addresses(), bootstrap: w.bootstrap.map((e) => `${e.rank}@${e.host}:${e.ports.join('|')}`),
  };
  await mesh.close();
  if (opts.json) {
    process.stdout.write(JSON.stringify(report) + '\n');
  } else {
    process.stdout.write([
      `rank ${report.rank} of ${report.size} (local rank ${report.localRank}) on node ${report.node}, launched by ${report.launcher}`,
      `listening on ${report.addresses.join(' ') || '(nothing: a world of one)'}`,
    ].join('\n') + '\n');
  }
}
