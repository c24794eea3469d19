// @peculiar/x509 needs the Reflect metadata API before it loads, and a WebCrypto provider:
// every module of the CA imports the library through this one, so both are in place first.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

export { x509 };

/** ECDSA over P-256 with SHA-256: the algorithm of every key Weft generates, and of what it signs with them. */
export const EC_P256 = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

/** A WebCrypto key (Node's; the DOM's types are not loaded). */
export type CryptoKey = webcrypto.CryptoKey;
/** A WebCrypto key pair. */
export type CryptoKeyPair = webcrypto.CryptoKeyPair;
