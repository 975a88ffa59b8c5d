import '../polyfill.js';
import type { Libp2p } from 'libp2p';
import type { GossipsubEvents } from '@chainsafe/libp2p-gossipsub';
import { createLibp2p, gossipsub, identify, noise, tcp, yamux } from './libp2p-stack.js';
import { privateNetwork } from './private-network.js';
import type { PeerId, PrivateKey, PubSub } from '@libp2p/interface';

export type Node = Libp2p<{ pubsub: PubSub<GossipsubEvents> }>;

export interface NodeInit {
  privateKey: PrivateKey;
  /** The job's private-network key: without it nobody even completes a handshake. */
  psk: Uint8Array;
  listen: string[];
  /** Peer ids admitted by the gater (the job's ranks); undefined admits anyone (tests of hostile peers only). */
  admit?: Map<string, number>;
  /** Peer ids refused even though admitted (ranks this rank declared lost: they may not come back). */
  banned?: ReadonlySet<string>;
  size: number;
}

/** The libp2p stack of a rank: TCP + private network + noise + yamux + identify + gossipsub, gated to the job's peer ids. */
export function createNode(init: NodeInit): Promise<Node> {
  const deny = (p: PeerId): boolean => (init.admit !== undefined && !init.admit.has(p.toString())) || init.banned?.has(p.toString()) === true;
  const many = Math.max(1000, init.size * 4);
  return createLibp2p({
    privateKey: init.privateKey,
    addresses: { listen: init.listen },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    // A wider stream window than yamux's 256 KiB default: bulk transfers were window-bound (both ends ~45% idle).
    streamMuxers: [yamux({ initialStreamWindowSize: 4 * 1024 * 1024, maxStreamWindowSize: 64 * 1024 * 1024 })],
    connectionProtector: privateNetwork(init.psk),
    connectionGater: { denyDialPeer: deny, denyInboundEncryptedConnection: deny, denyOutboundEncryptedConnection: deny },
    connectionManager: {
      // Many ranks share a host: libp2p's per-host inbound rate limit (5/s) would refuse them.
      inboundConnectionThreshold: many,
      maxIncomingPendingConnections: many,
      maxConnections: many,
      // A rank busy computing (a long fit holds the event loop) is slow, not gone: generous handshakes.
      dialTimeout: 30_000,
      inboundUpgradeTimeout: 30_000,
      protocolNegotiationTimeout: 30_000,
    },
    // Liveness is ours (connection loss + re-dial probe + per-operation deadlines); libp2p's ping monitor
    // would cut the connection of a rank whose event loop is merely busy.
    connectionMonitor: { enabled: false },
    services: {
      identify: identify(),
      // floodPublish: a message goes straight to every topic peer, no wait for the mesh to form. Bounded all
      // the same: a rank connects only to its gossip neighbours (libp2p-plane.ts), O(log p) of them.
      pubsub: gossipsub({ allowPublishToZeroTopicPeers: true, emitSelf: false, floodPublish: true, heartbeatInterval: 200 }),
    },
  });
}
