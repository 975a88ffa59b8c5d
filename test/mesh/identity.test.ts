import assert from 'node:assert/strict';
import { sign, createPrivateKey } from 'node:crypto';
import { ed25519PublicKey, rankKey, rankPeerId } from '../../src/mesh/identity.js';

// Rank identities are derived, not exchanged: every Node version a job mixes must compute the same
// Ed25519 key, hence the same peer id, from (secret, rank). The vectors are RFC 8032 §7.1's.
const RFC8032 = [
  ['9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60', 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a'],
  ['4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb', '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c'],
  ['c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7', 'fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025'],
];

describe('mesh: rank identities', () => {
  it('the Ed25519 public key of a seed is RFC 8032\'s', () => {
    for (const [seed, pub] of RFC8032) assert.equal(Buffer.from(ed25519PublicKey(Buffer.from(seed, 'hex'))).toString('hex'), pub);
  });

  it('a rank key signs as its seed does, and distinct ranks get distinct peer ids, the same every time', async () => {
    const key = await rankKey('s', 3);
    const msg = new TextEncoder().encode('commune');
    const pkcs8 = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), key.raw.subarray(0, 32)]);
    assert.deepEqual(Buffer.from(await key.sign(msg)), sign(null, msg, createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' })));
    assert.equal(await key.publicKey.verify(msg, await key.sign(msg)), true);
    const ids = await Promise.all([0, 1, 2, 3].map(async (r) => (await rankPeerId('s', r)).toString()));
    assert.equal(new Set(ids).size, 4);
    assert.equal((await rankPeerId('s', 3)).toString(), ids[3]);
    assert.notEqual((await rankPeerId('t', 3)).toString(), ids[3]);
  });
});
