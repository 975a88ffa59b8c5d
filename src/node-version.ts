// The oldest Node.js commune runs on. Older ones fail deep inside libp2p (Node 18: "CustomEvent is not
// defined" while listening), so the CLI and joinWorld say so first. README "Node.js versions" lists
// the tested majors and until when each is supported.
export const OLDEST_NODE_MAJOR = 20;

/** What is wrong with running on `version`, or undefined when it is supported. */
export function unsupportedNode(version: string = process.version): string | undefined {
  const major = Number(/^v?(\d+)\./.exec(version)?.[1]);
  if (major >= OLDEST_NODE_MAJOR) return undefined;
  return `Node.js ${version} (${process.execPath}) is too old: commune needs Node.js ${OLDEST_NODE_MAJOR} or later (20, 22, 24 and 26 are tested); load a newer one (e.g. \`module load nodejs/24\`) and run again`;
}
