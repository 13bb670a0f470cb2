// ed25519 signatures over a manifest's canonical bytes (SPEC §1.2): whitespace or key order in the
// file never matters, any change to a value does.
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import { StellaError } from '../errors.js';
import { canonicalBytes } from '../canonical/jcs.js';

export function signCanonical(value: unknown, privateKeyPem: string, keyFile?: string): string {
  let key;
  try {
    key = createPrivateKey(privateKeyPem);
  } catch (e) {
    throw new StellaError('USAGE', `not a PEM private key: ${(e as Error).message}`, { file: keyFile });
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new StellaError('USAGE', `key type ${key.asymmetricKeyType} is not ed25519`, { file: keyFile });
  }
  return sign(null, canonicalBytes(value), key).toString('base64');
}

export function verifyCanonical(value: unknown, signatureB64: string, publicKeyPem: string, keyFile?: string): boolean {
  let key;
  try {
    key = createPublicKey(publicKeyPem);
  } catch (e) {
    throw new StellaError('USAGE', `not a PEM public key: ${(e as Error).message}`, { file: keyFile });
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new StellaError('USAGE', `key type ${key.asymmetricKeyType} is not ed25519`, { file: keyFile });
  }
  const sig = Buffer.from(signatureB64.trim(), 'base64');
  if (sig.length !== 64) return false;
  return verify(null, canonicalBytes(value), key, sig);
}

export function generateKeyPair(): { privateKeyPem: string; publicKeyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}
