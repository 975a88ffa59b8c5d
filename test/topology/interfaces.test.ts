import assert from 'node:assert/strict';
import type { NetworkInterfaceInfo } from 'node:os';
import { selectInterface, TopologyError } from '../../topology/index.js';

function v4(address: string): NetworkInterfaceInfo {
  return { address, netmask: '255.255.255.0', family: 'IPv4', mac: '00:00:00:00:00:00', internal: address.startsWith('127.'), cidr: `${address}/24` };
}
function v6(address: string): NetworkInterfaceInfo {
  return { address, netmask: 'ffff:ffff:ffff:ffff::', family: 'IPv6', mac: '00:00:00:00:00:00', internal: false, cidr: `${address}/64`, scopeid: 0 };
}

const machine: NodeJS.Dict<NetworkInterfaceInfo[]> = {
  lo: [v4('127.0.0.1'), v6('::1')],
  eth0: [v6('fe80::1'), v4('10.0.0.5'), v4('10.0.0.6')],
  ib0: [v6('fe80::2')],
};

describe('topology/interfaces selectInterface', () => {
  it("returns the interface's first IPv4 address, skipping IPv6", () => {
    assert.equal(selectInterface('eth0', machine), '10.0.0.5');
    assert.equal(selectInterface('lo', machine), '127.0.0.1');
  });

  it('accepts the numeric family of early Node 18', () => {
    const old = { ib0: [{ ...v4('192.168.1.9'), family: 4 as unknown as 'IPv4' }] };
    assert.equal(selectInterface('ib0', old), '192.168.1.9');
  });

  it('lists the available interfaces when the name is missing', () => {
    assert.throws(
      () => selectInterface('ib1', machine, 'node17'),
      (e: unknown) =>
        e instanceof TopologyError &&
        e.exitCode === 2 &&
        e.message ===
          "interface 'ib1' not found on node node17; available: lo (127.0.0.1), eth0 (10.0.0.5, 10.0.0.6), ib0 (no IPv4). Pass one of these to --interface",
    );
  });

  it('says so when the interface has no IPv4 address', () => {
    assert.throws(() => selectInterface('ib0', machine), /interface 'ib0' has no IPv4 address on node this node; available: lo \(127\.0\.0\.1\)/);
  });

  it('copes with a machine without interfaces', () => {
    assert.throws(() => selectInterface('eth0', {}), /available: none/);
  });
});
